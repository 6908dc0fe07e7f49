"""What a user sees of a finding, field by field, and the limits behind it (at, below and above).

These tests were written to kill mutants that survived the rest of the suite (docs/testing.md):
waiver scopes and expiry edges, credential shapes at their minimum length, schema messages for
anyOf/oneOf, and every field the JSON and SARIF reports carry.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from rayfleet import secrets
from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation, Suppression, Violation
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import scan_manifests
from rayfleet.policies import get_policy
from rayfleet.report import json_report, junit, sarif, text
from rayfleet.result import RegionSummary, Result
from rayfleet.schemas_check import MAX_ERRORS_PER_OBJECT, _describe
from rayfleet.waivers import EXPIRY_WARNING, apply_waivers

TODAY = date(2026, 11, 26)

# --- credential shapes at their length limits -------------------------------------------------


@pytest.mark.parametrize(("value", "found"), [
    ("AccountKey=" + "k" * 9, secrets.CONNECTION_STRING),        # 20 characters: the shortest detected
    ("AccountKey=" + "k" * 8, None),                              # 19: below the length floor
    ("AccountKey=" + "k" * 10, secrets.CONNECTION_STRING),       # 21
    ("Endpoint=sb://x;SharedAccessKey=" + "k" * 8, secrets.CONNECTION_STRING),  # 8 key characters
    ("Endpoint=sb://x;SharedAccessKey=" + "k" * 7, None),         # 7: too short to be a key
    ("A" * 86 + "==", secrets.STORAGE_ACCOUNT_KEY),
    ("A" * 85 + "==", None),
    ("A" * 87 + "==", None),
    ("sha512-" + "A" * 86 + "==", None),                          # an integrity digest, not a key
    ("sv=2024-08-04&sig=" + "s" * 16, secrets.SAS_TOKEN),
    ("sv=2024-08-04&sig=" + "s" * 15, None),
    ("sig=" + "s" * 30, None),                                    # a signature without a version
    ("abc1Q~" + "x" * 31, secrets.CLIENT_SECRET),
    ("abc1Q~" + "x" * 34, secrets.CLIENT_SECRET),
    ("abc1Q~" + "x" * 30, None),
    ("abc1Q~" + "x" * 35, None),
    ("eyJ" + "a" * 8 + ".eyJ" + "b" * 8 + "." + "c" * 16, secrets.JWT),
    ("eyJ" + "a" * 7 + ".eyJ" + "b" * 8 + "." + "c" * 16, None),
    ("eyJ" + "a" * 8 + ".eyJ" + "b" * 8 + "." + "c" * 15, None),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", secrets.PRIVATE_KEY),
    ("-----BEGIN CERTIFICATE-----\nMIIEabc", None),
])
def test_credential_shapes_at_their_limits(value: str, found):
    assert secrets.detect_value(value) == found


def test_credential_names_and_placeholders():
    assert secrets.detect("clientSecret", "hunter2") == secrets.CREDENTIAL_NAME
    assert secrets.detect("AZURE_CLIENT_SECRET", "hunter2") == secrets.CREDENTIAL_NAME
    assert secrets.detect("clientId", "hunter2") is None
    assert secrets.detect(None, "hunter2") is None
    assert secrets.is_credential_env_name("azure_storage_key") and not secrets.is_credential_env_name("AZURE_CLIENT_ID")


def test_redaction_keeps_four_characters():
    assert secrets.redact("AccountKey=abcdef") == "Acco…"
    assert secrets.redact(12345678) == "1234…"


def test_secret_data_decoding():
    assert secrets.decode_secret_data("aGVs\nbG8=") == "hello"
    assert secrets.decode_secret_data("not base64!") is None
    assert secrets.decode_secret_data("/w==") is None  # not UTF-8
    assert secrets.decode_secret_data(3) is None


def test_paths_of_found_strings():
    tree = {"env": [{"name": "AZURE_CLIENT_SECRET", "value": "s3cret-value"}],
            "metadata": {"annotations": {"x.io/key": "AccountKey=" + "k" * 12}}}
    found = [(secrets.format_path(keys), name, detection.kind) for keys, name, _, detection in secrets.scan(tree)]
    assert found == [("env[0].value", "AZURE_CLIENT_SECRET", "credential-name"),
                     ('metadata.annotations["x.io/key"]', "x.io/key", "connection-string")]
    assert secrets.child_path("", "a") == "a" and secrets.child_path("a", 0) == "a[0]"
    assert secrets.child_path("a", 'q"k') == 'a["q\\"k"]'


# --- waivers: scope and expiry edges ----------------------------------------------------------

FLEET = """apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {{name: demo, namespace: demo}}
regions:
  - {{name: r1, location: eastus2, cluster: {{name: c1, kubernetesVersion: "1.33"}}, valuesFiles: [], manifests: m}}
  - {{name: r2, location: westus3, cluster: {{name: c2, kubernetesVersion: "1.33"}}, valuesFiles: [], manifests: m}}
waivers:
{waivers}"""


def _fleet(tmp_path: Path, *waivers: str):
    (tmp_path / "m").mkdir(exist_ok=True)
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET.format(waivers="".join(waivers)))
    return load_fleet(path)


def _waiver(scope: str, expires: date = date(2027, 6, 30), policy: str = "no-secret-objects") -> str:
    return (f"  - policy: {policy}\n    scope: {{{scope}}}\n    reason: accepted risk\n"
            f"    owner: team@example.com\n    expires: \"{expires.isoformat()}\"\n")


def _finding(region: str | None = "r1", namespace: str | None = "demo", kind: str = "Secret", name: str = "s",
             policy: str = "no-secret-objects") -> Finding:
    obj = ObjectRef("v1", kind, namespace, name) if kind else None
    return Finding(policy, Severity.ERROR, "a Secret object", "use Key Vault", region=region, obj=obj)


@pytest.mark.parametrize(("scope", "finding", "waived"), [
    ("namespace: demo", _finding(), True),
    ("namespace: demo", _finding(namespace="other"), False),
    ("namespace: demo", _finding(kind=""), False),
    ("kind: Secret", _finding(), True),
    ("kind: Secret", _finding(kind="ConfigMap"), False),
    ("kind: Secret", _finding(kind=""), False),
    ("name: s", _finding(), True),
    ("name: s", _finding(name="t"), False),
    ("name: s", _finding(kind=""), False),
    ("region: r1", _finding(), True),
    ("region: r1", _finding(region="r2"), False),
    ("region: r1, namespace: demo, kind: Secret, name: s", _finding(), True),
    ("region: r1, namespace: demo, kind: Secret, name: s", _finding(namespace="other"), False),
    ("namespace: demo", _finding(policy="no-host-path-volumes"), False),
])
def test_waiver_scope_fields_each_narrow_what_is_waived(tmp_path: Path, scope: str, finding: Finding, waived: bool):
    fleet = _fleet(tmp_path, _waiver(scope))
    out = apply_waivers(fleet, [finding], today=TODAY)
    assert (out[0].suppressed is not None) is waived
    if waived:
        assert out[0].suppressed == Suppression("accepted risk", "team@example.com", date(2027, 6, 30), 0)
        assert [f.policy for f in out[1:]] == []
    else:
        assert out[0].suppressed is None


def test_a_waiver_suppresses_every_finding_it_matches(tmp_path: Path):
    fleet = _fleet(tmp_path, _waiver("namespace: demo"))
    out = apply_waivers(fleet, [_finding(name="a"), _finding(name="b"), _finding(namespace="x")], today=TODAY)
    assert [f.suppressed is not None for f in out] == [True, True, False]


@pytest.mark.parametrize(("days", "expected"), [
    (-1, ["waiver-expired"]),
    (0, ["waiver-expiring"]),
    (13, ["waiver-expiring"]),
    (14, ["waiver-expiring"]),
    (15, []),
])
def test_waiver_expiry_edges(tmp_path: Path, days: int, expected: list[str]):
    assert timedelta(days=14) == EXPIRY_WARNING
    expires = TODAY + timedelta(days=days)
    fleet = _fleet(tmp_path, _waiver("namespace: demo", expires))
    out = apply_waivers(fleet, [_finding()], today=TODAY)
    assert (out[0].suppressed is not None) is (days >= 0)  # an expired waiver suppresses nothing
    about = out[1:]
    assert [f.policy for f in about] == expected
    for f in about:
        assert f.severity is get_policy(f.policy).severity
        assert f.severity is (Severity.ERROR if days < 0 else Severity.WARNING)
        assert f.source == SourceLocation(str(fleet.path), 8)
        assert f.message == (f"waiver #1 (no-secret-objects, owner team@example.com) "
                             f"{'expired on' if days < 0 else 'expires on'} {expires}")
        assert f.region is None and f.obj is None


def test_unmatched_and_unknown_waivers(tmp_path: Path):
    fleet = _fleet(tmp_path, _waiver("region: r2"), _waiver("kind: Secret", policy="no-such-policy"))
    out = apply_waivers(fleet, [_finding()], today=TODAY)
    about = [(f.policy, f.message, f.source.line) for f in out[1:]]
    assert about == [
        ("waiver-unmatched", "waiver #1 (no-secret-objects, owner team@example.com) matches no finding", 8),
        ("waiver-unmatched", "waiver #2 (no-such-policy, owner team@example.com) names an unknown policy "
                             "(see `rayfleet policies`)", 13)]
    # Only region r1 was checked: the r2 waiver is not called stale; a run that did not check
    # the policy says nothing about its waiver.
    assert [f.policy for f in apply_waivers(fleet, [_finding()], today=TODAY, regions=["r1"])[1:]] == \
        ["waiver-unmatched"]
    assert [f.message for f in apply_waivers(fleet, [], today=TODAY, checked={"no-host-path-volumes"})] == \
        ["waiver #2 (no-such-policy, owner team@example.com) names an unknown policy (see `rayfleet policies`)"]
    # A waiver for a region the fleet does not have is always in scope, so always reported.
    fleet = _fleet(tmp_path, _waiver("region: nowhere"))
    assert [f.policy for f in apply_waivers(fleet, [], today=TODAY, regions=["r1"])] == ["waiver-unmatched"]


def test_expired_waiver_is_never_called_unmatched(tmp_path: Path):
    fleet = _fleet(tmp_path, _waiver("region: r2", TODAY - timedelta(days=1)))
    assert [f.policy for f in apply_waivers(fleet, [], today=TODAY)] == ["waiver-expired"]


# --- schema messages --------------------------------------------------------------------------


def test_anyof_and_oneof_errors_name_the_closest_branch():
    for keyword in ("anyOf", "oneOf"):
        schema = {"properties": {"port": {keyword: [{"type": "integer"}, {"type": "string", "minLength": 3}]}}}
        [error] = jsonschema.Draft7Validator(schema).iter_errors({"port": "ab"})
        # jsonschema's generic "is not valid under any of the given schemas" is replaced by the
        # branch that came closest.
        assert _describe(error) == "'ab' is not of type 'integer'", keyword
        assert error.message != _describe(error)
    [plain] = jsonschema.Draft7Validator({"type": "integer"}).iter_errors("x")
    assert _describe(plain) == "'x' is not of type 'integer'"
    [long] = jsonschema.Draft7Validator({"enum": ["a"]}).iter_errors("y" * 400)
    assert len(_describe(long)) == 240 and _describe(long).endswith("...")


def _service(tmp_path: Path, port: object, extra: str = "") -> Path:
    path = tmp_path / "svc.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: apps}\n"
                    f"spec:\n  ports:\n  - port: 80\n    targetPort: {json.dumps(port)}\n{extra}")
    return path


def test_int_or_string_field_reports_the_branch_and_where(tmp_path: Path):
    result = scan_manifests([str(_service(tmp_path, [8080]))], policies=["kubernetes-schema"])
    [finding] = result.findings
    assert finding.policy == "kubernetes-schema" and finding.severity is Severity.ERROR
    assert finding.obj == ObjectRef("v1", "Service", "apps", "web")
    assert finding.path == "spec.ports[0].targetPort"
    assert "any of the given schemas" not in finding.message and "is not of type" in finding.message
    assert finding.source == SourceLocation(str(tmp_path / "svc.yaml"), 1)  # a list: the object's line
    assert finding.region is None


# The documented cap, written out: a test that read the library's constant could not notice it change.
SCHEMA_ERRORS_SHOWN = 10


def test_the_schema_error_cap_is_the_documented_one():
    assert MAX_ERRORS_PER_OBJECT == SCHEMA_ERRORS_SHOWN


@pytest.mark.parametrize("errors", [SCHEMA_ERRORS_SHOWN - 1, SCHEMA_ERRORS_SHOWN, SCHEMA_ERRORS_SHOWN + 1])
def test_schema_errors_per_object_are_capped(tmp_path: Path, errors: int):
    ports = "".join(f"  - {{port: p{i}}}\n" for i in range(errors))
    path = tmp_path / "svc.yaml"
    path.write_text(f"apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  ports:\n{ports}")
    findings = scan_manifests([str(path)], policies=["kubernetes-schema"]).findings
    shown = min(errors, SCHEMA_ERRORS_SHOWN)
    more = [f for f in findings if f.message.startswith("more schema errors")]
    assert len(findings) - len(more) == shown
    assert [f.message for f in more] == ([f"more schema errors not shown (first {shown} listed)"]
                                         if errors > SCHEMA_ERRORS_SHOWN else [])


# --- report fields ----------------------------------------------------------------------------


def _result() -> Result:
    policies = (get_policy("no-secret-objects"), get_policy("kubernetes-schema"), get_policy("waiver-expiring"))
    findings = [
        Finding("kubernetes-schema", Severity.ERROR, "bad port", "fix it", region="r1",
                obj=ObjectRef("v1", "Service", "apps", "web"), path="spec.ports[0].port",
                source=SourceLocation("values/r1.yaml", 12), template="ray-aks/templates/svc.yaml"),
        Finding("no-secret-objects", Severity.WARNING, "a Secret", "use Key Vault", region="r2",
                obj=ObjectRef("v1", "Secret", None, "s"), template="ray-aks/templates/secret.yaml",
                suppressed=Suppression("accepted", "team@example.com", date(2027, 1, 2), 0)),
        Finding("waiver-expiring", Severity.INFO, "soon", "renew", source=SourceLocation("fleet.yaml")),
        Finding("kubernetes-schema", Severity.ERROR, "from stdin", "fix", source=SourceLocation("<stdin>", 3),
                obj=ObjectRef("v1", "Pod", "x", "p")),
    ]
    return Result("validate", findings=findings, policies=policies,
                  regions=[RegionSummary("r1", objects=4, helm_command="helm template"), RegionSummary("r2", 2)])


def test_sarif_results_carry_every_field():
    document = json.loads(sarif.format_result(_result()))
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["no-secret-objects", "kubernetes-schema", "waiver-expiring"]
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "error", "warning"]
    results = run["results"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first, second, fourth, third = results  # fleet-wide last, the worst first
    assert first["ruleId"] == "kubernetes-schema" and first["level"] == "error"
    assert first["message"]["text"] == "[r1] bad port (Service/apps/web spec.ports[0].port)"
    assert first["properties"] == {"region": "r1", "path": "spec.ports[0].port"}
    assert first["locations"] == [{
        "physicalLocation": {"artifactLocation": {"uri": "values/r1.yaml", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 12}},
        "logicalLocations": [{"fullyQualifiedName": "r1/Service/apps/web", "kind": "object"}]}]
    # the template that rendered the value, as a related location
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in first["relatedLocations"]] == \
        ["ray-aks/templates/svc.yaml"]
    assert "suppressions" not in first
    assert second["level"] == "warning" and second["message"]["text"] == "[r2] a Secret (Secret/s)"
    assert second["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "ray-aks/templates/secret.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1}}  # every result has a line (code scanning needs one)
    assert second["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "r2/Secret/s", "kind": "object"}]
    assert second["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "accepted (owner team@example.com, expires 2027-01-02)"}]
    assert fourth["message"]["text"] == "from stdin (Pod/x/p)" and fourth["properties"]["region"] is None
    assert fourth["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert fourth["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "Pod/x/p", "kind": "object"}]
    assert third["level"] == "note" and third["message"]["text"] == "soon"
    assert third["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "fleet.yaml",
                                                                             "uriBaseId": "%SRCROOT%"},
                                                        "region": {"startLine": 1}}}]
    fingerprints = {next(iter(r["partialFingerprints"].values())) for r in results}
    assert len(fingerprints) == 4
    assert run["properties"] == {"command": "validate"}


def test_json_report_carries_every_field():
    document = json.loads(json_report.format_result(_result()))
    assert document["summary"] == {"error": 2, "warning": 0, "info": 1, "suppressed": 1, "regions": 2,
                                   "objects": 6, "policies": 3}
    assert document["regions"][0] == {"name": "r1", "objects": 4, "rendered": True, "helmCommand": "helm template"}
    first, second, _, third = document["findings"]
    assert first == {
        "policy": "kubernetes-schema", "severity": "error", "region": "r1",
        "object": {"apiVersion": "v1", "kind": "Service", "namespace": "apps", "name": "web"},
        "path": "spec.ports[0].port", "message": "bad port", "remediation": "fix it",
        "source": {"file": "values/r1.yaml", "line": 12, "template": "ray-aks/templates/svc.yaml"},
        "suppressed": None}
    assert second["source"] == {"file": "ray-aks/templates/secret.yaml", "line": None,
                                "template": "ray-aks/templates/secret.yaml"}
    assert second["suppressed"] == {"reason": "accepted", "owner": "team@example.com", "expires": "2027-01-02"}
    assert third["object"] is None and third["region"] is None and third["severity"] == "info"


def test_exit_code_follows_fail_on_and_waivers():
    result = _result()
    assert result.exit_code(Severity.ERROR) == 1
    result.findings = [f for f in result.findings if f.severity is not Severity.ERROR]
    assert result.exit_code(Severity.ERROR) == 0
    assert result.exit_code(Severity.WARNING) == 0  # the one warning is waived
    assert result.exit_code(Severity.INFO) == 1


# --- schema versions --------------------------------------------------------------------------


def test_schema_version_is_the_newest_bundled_minor_not_newer():
    from rayfleet.errors import InputError
    from rayfleet.schemas_check import bundled_versions, schema_version_for

    versions = bundled_versions()
    oldest, newest = versions[0], versions[-1]
    assert len(versions) >= 2 and schema_version_for(f"v{newest}.4") == newest
    assert schema_version_for(oldest) == oldest and schema_version_for(versions[1]) == versions[1]
    major, minor = oldest.split(".")
    with pytest.raises(InputError) as older:
        schema_version_for(f"{major}.{int(minor) - 1}")
    assert str(older.value).startswith(f"Kubernetes {major}.{int(minor) - 1} is older than any bundled schema "
                                       f"(oldest: {oldest})")
    major, minor = newest.split(".")
    with pytest.raises(InputError, match=rf"newer than the bundled schemas \(newest: {re.escape(newest)}\)"):
        schema_version_for(f"{major}.{int(minor) + 1}")


# --- JUnit and text, whole documents ----------------------------------------------------------


def _scan_result() -> Result:
    findings = [Finding("no-secret-objects", Severity.WARNING, "w1", "fix w", obj=ObjectRef("v1", "Secret", "a", "s")),
                Finding("no-secret-objects", Severity.INFO, "i1", "fix i")]
    return Result("scan", findings=findings, policies=(get_policy("no-secret-objects"),),
                  regions=[RegionSummary(None, objects=1)], skipped_policies=("failover-headroom",), notes=["a note"])


JUNIT_VALIDATE = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="rayfleet" tests="8" failures="2" skipped="0" errors="0">
  <testsuite name="r1" tests="3" failures="1" skipped="0" errors="0">
    <testcase classname="rayfleet.r1" name="no-secret-objects" />
    <testcase classname="rayfleet.r1" name="kubernetes-schema">
      <failure type="error" message="1 error(s): bad port">[error] bad port
  object: Service/apps/web at spec.ports[0].port
  source: values/r1.yaml:12
  fix: fix it</failure>
    </testcase>
    <testcase classname="rayfleet.r1" name="waiver-expiring" />
  </testsuite>
  <testsuite name="r2" tests="3" failures="0" skipped="0" errors="0">
    <testcase classname="rayfleet.r2" name="no-secret-objects">
      <system-out>waived: a Secret (accepted)</system-out>
    </testcase>
    <testcase classname="rayfleet.r2" name="kubernetes-schema" />
    <testcase classname="rayfleet.r2" name="waiver-expiring" />
  </testsuite>
  <testsuite name="(fleet)" tests="2" failures="1" skipped="0" errors="0">
    <testcase classname="rayfleet.(fleet)" name="kubernetes-schema">
      <failure type="error" message="1 error(s): from stdin">[error] from stdin
  object: Pod/x/p
  source: &lt;stdin&gt;:3
  fix: fix</failure>
    </testcase>
    <testcase classname="rayfleet.(fleet)" name="waiver-expiring">
      <properties>
        <property name="rayfleet.info" value="1" />
      </properties>
      <system-out>[info] soon
  source: fleet.yaml
  fix: renew</system-out>
    </testcase>
  </testsuite>
</testsuites>
"""

JUNIT_SCAN = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="rayfleet" tests="2" failures="0" skipped="1" errors="0">
  <testsuite name="scan" tests="2" failures="0" skipped="1" errors="0">
    <testcase classname="rayfleet.scan" name="no-secret-objects">
      <properties>
        <property name="rayfleet.warning" value="1" />
        <property name="rayfleet.info" value="1" />
      </properties>
      <system-out>[warning] w1
  object: Secret/a/s
  fix: fix w
[info] i1
  fix: fix i</system-out>
    </testcase>
    <testcase classname="rayfleet.scan" name="failover-headroom">
      <skipped message="needs the fleet file" />
    </testcase>
  </testsuite>
  <testsuite name="(fleet)" tests="0" failures="0" skipped="0" errors="0" />
</testsuites>
"""

TEXT_VALIDATE = """\
r1
  error   kubernetes-schema  bad port
          Service/apps/web spec.ports[0].port · values/r1.yaml:12
          fix: fix it

r2
  warning no-secret-objects (waived)  a Secret
          Secret/s · ray-aks/templates/secret.yaml
          waived: accepted (owner team@example.com, until 2027-01-02)

(fleet)
  error   kubernetes-schema  from stdin
          Pod/x/p · <stdin>:3
          fix: fix
  info    waiver-expiring  soon
          fleet.yaml

rayfleet validate
region  objects  errors  warnings  info  waived
r1            4       1         0     0       0
r2            2       0         0     0       1
FAILED: 2 errors, 0 warnings, 1 info, 1 waived, 3 policies
"""

TEXT_SCAN = """\
(fleet)
  warning no-secret-objects  w1
          Secret/a/s
          fix: fix w
  info    no-secret-objects  i1

rayfleet scan
region  objects  errors  warnings  info  waived
scan          1       0         1     1       0
PASSED: 0 errors, 1 warnings, 1 info, 0 waived, 1 policies
note: a note
"""


def test_junit_documents():
    """Errors fail a case; warnings and info are properties and system-out; waived findings are
    named in system-out; policies that did not run are skipped once."""
    assert junit.format_result(_result()) == JUNIT_VALIDATE
    assert junit.format_result(_scan_result()) == JUNIT_SCAN


def test_text_documents():
    assert text.format_result(_result(), width=100) == TEXT_VALIDATE
    assert text.format_result(_scan_result(), width=60) == TEXT_SCAN


# --- fleet file: schema messages and clouds --------------------------------------------------

MINIMAL_FLEET = """apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {name: demo, namespace: demo}
regions:
  - {name: r1, location: eastus2, cluster: {name: c1, kubernetesVersion: "1.33"}, valuesFiles: [], manifests: m}
"""


@pytest.mark.parametrize(("length", "cut"), [(127, False), (128, False), (129, True), (300, True)])
def test_fleet_schema_messages_are_cut_at_200_characters(tmp_path: Path, length: int, cut: bool):
    from rayfleet.errors import InputError

    (tmp_path / "m").mkdir()
    key = "k" * length
    (tmp_path / "fleet.yaml").write_text(MINIMAL_FLEET + f"{key}: 1\n")
    with pytest.raises(InputError) as caught:
        load_fleet(tmp_path / "fleet.yaml")
    full = f"unknown field: Additional properties are not allowed ('{key}' was unexpected)"
    assert caught.value.message == "does not match the fleet schema: " + (full[:197] + "..." if cut else full)
    assert len(full) == length + 72 and caught.value.field == "(top level)"
    assert caught.value.file == str(tmp_path / "fleet.yaml")


@pytest.mark.parametrize(("cloud", "arm", "authority"), [
    (None, "https://management.azure.com", "login.microsoftonline.com"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net", "login.microsoftonline.us"),
    ("AzureChinaCloud", "https://management.chinacloudapi.cn", "login.chinacloudapi.cn"),
])
def test_cloud_selects_arm_endpoint_and_authority(tmp_path: Path, cloud: str | None, arm: str, authority: str):
    (tmp_path / "m").mkdir()
    (tmp_path / "fleet.yaml").write_text(MINIMAL_FLEET + (f"cloud: {cloud}\n" if cloud else ""))
    fleet = load_fleet(tmp_path / "fleet.yaml")
    assert (fleet.arm_endpoint, fleet.authority) == (arm, authority)


def test_crd_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from rayfleet.schemas_check import cache_dir

    monkeypatch.setenv("RAYFLEET_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.setenv("RAYFLEET_CACHE_DIR", "off")
    assert cache_dir() is None
    monkeypatch.delenv("RAYFLEET_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "rayfleet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "rayfleet"


# --- the finding types: values that can be hashed, sorted and never changed -------------------

def test_finding_types_are_immutable_hashable_values() -> None:
    ref = ObjectRef("v1", "ConfigMap", "ray", "c")
    values = [ref, SourceLocation("a.yaml", 3), Suppression("r", "o", date(2030, 1, 1), 0),
              Violation("m", ref, "data.x"), Finding("p", Severity.ERROR, "m", "r", obj=ref)]
    for value in values:
        assert hash(value) == hash(dataclasses.replace(value))
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.__setattr__(dataclasses.fields(value)[0].name, "changed")
    # object references sort by API version, kind, namespace, name
    assert sorted([ObjectRef("v1", "Pod", "b", "x"), ObjectRef("v1", "ConfigMap", "z", "y"),
                   ObjectRef("apps/v1", "Pod", "a", "a")]) == [
        ObjectRef("apps/v1", "Pod", "a", "a"), ObjectRef("v1", "ConfigMap", "z", "y"), ObjectRef("v1", "Pod", "b", "x")]


def test_a_finding_redacts_its_message_when_it_is_built() -> None:
    key = "AccountKey=abcdefgh12345678"
    assert Finding("p", Severity.ERROR, f"bad {key}", "r").message == "bad AccountKey=abcd…"


def test_findings_sort_region_by_region_then_worst_first_fleet_wide_last() -> None:
    def f(region: str | None, severity: Severity, policy: str = "p") -> Finding:
        return Finding(policy, severity, "m", "r", region=region)

    given = [f(None, Severity.ERROR), f("westus3", Severity.INFO), f("eastus2", Severity.WARNING),
             f("westus3", Severity.ERROR), f("eastus2", Severity.ERROR, "b"), f("eastus2", Severity.ERROR, "a")]
    ordered = sorted(given, key=Finding.sort_key)
    assert [(x.region, x.severity.value, x.policy) for x in ordered] == [
        ("eastus2", "error", "a"), ("eastus2", "error", "b"), ("eastus2", "warning", "p"),
        ("westus3", "error", "p"), ("westus3", "info", "p"), (None, "error", "p")]
