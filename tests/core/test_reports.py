"""Reporters are pure functions of a Result; each format is checked against its schema or shape."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation, Suppression
from rayfleet.policies import get_policy
from rayfleet.report import FORMATS, format_report
from rayfleet.resources import load_schema
from rayfleet.result import RegionSummary, Result

RC = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray-ray-cluster")


@pytest.fixture
def result() -> Result:
    policies = tuple(get_policy(p) for p in ("kubernetes-schema", "custom-resource-schema", "waiver-unmatched"))
    findings = [
        Finding("custom-resource-schema", Severity.ERROR, "'x' is not of type 'integer' | piped",
                "Fix it.", "eastus2", RC, "spec.workerGroupSpecs[0].maxReplicas",
                SourceLocation("examples/values/regions/eastus2.yaml", 12),
                "charts/ray-aks/charts/ray-cluster/templates/ray-cluster.yaml"),
        Finding("kubernetes-schema", Severity.WARNING, "deprecated", "Fix it.", "westus3",
                ObjectRef("v1", "ServiceAccount", "ray", "ray"), "metadata",
                None, "charts/ray-aks/charts/workload-identity/templates/service-account.yaml"),
        Finding("kubernetes-schema", Severity.ERROR, "waived one", "Fix it.", "westus3",
                ObjectRef("v1", "ServiceAccount", "ray", "other"), "",
                SourceLocation("manifests/sa.yaml", 3)).suppress(
            Suppression("Vendor object we cannot change.", "team@example.com", date(2027, 1, 1), 0)),
        Finding("waiver-unmatched", Severity.WARNING, "waiver #2 matches no finding", "Remove it.",
                source=SourceLocation("examples/fleet.yaml", 90)),
    ]
    regions = [RegionSummary("eastus2", 5, True, "helm upgrade --install ..."), RegionSummary("westus3", 4),
               RegionSummary("swedencentral", 5)]
    return Result("validate", findings, regions, policies)


def test_json_report_matches_its_schema(result: Result):
    document = json.loads(format_report("json", result))
    jsonschema.Draft7Validator(load_schema("report.schema.json")).validate(document)
    assert document["summary"]["error"] == 1 and document["summary"]["suppressed"] == 1
    first = document["findings"][0]
    assert first["object"] == {"apiVersion": "ray.io/v1", "kind": "RayCluster", "namespace": "ray",
                               "name": "ray-ray-cluster"}
    assert first["source"]["file"] == "examples/values/regions/eastus2.yaml" and first["source"]["line"] == 12
    waived = next(f for f in document["findings"] if f["suppressed"])
    assert waived["suppressed"] == {"reason": "Vendor object we cannot change.", "owner": "team@example.com",
                                    "expires": "2027-01-01"}


def test_sarif_report_matches_the_sarif_schema(result: Result, shared_dir: Path, repo_root: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(repo_root)  # template paths are relative to where rayfleet runs
    document = json.loads(format_report("sarif", result))
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["kubernetes-schema", "custom-resource-schema",
                                                                 "waiver-unmatched"]
    first = run["results"][0]
    assert first["ruleId"] == "custom-resource-schema" and first["level"] == "error"
    # the template line that writes the field first, the values file line that set it next
    template = "charts/ray-aks/charts/ray-cluster/templates/ray-cluster.yaml"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == template
    line = location["region"]["startLine"]
    assert (repo_root / template).read_text().splitlines()[line - 1].strip().startswith("maxReplicas:")
    [related] = first["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "examples/values/regions/eastus2.yaml"
    assert related["physicalLocation"]["region"] == {"startLine": 12}
    waived = [r for r in run["results"] if r.get("suppressions")]
    assert len(waived) == 1 and "Vendor object" in waived[0]["suppressions"][0]["justification"]
    no_line = next(r for r in run["results"] if r["message"]["text"].startswith("[westus3] deprecated"))
    no_line_location = no_line["locations"][0]["physicalLocation"]  # template only: its metadata: line
    assert no_line_location["region"]["startLine"] >= 1


def test_junit_has_a_case_per_region_and_policy(result: Result):
    root = ET.fromstring(format_report("junit", result).split("\n", 1)[1])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"eastus2", "westus3", "swedencentral", "(fleet)"}
    east = {c.get("name"): c for c in suites["eastus2"].findall("testcase")}
    assert {"kubernetes-schema", "custom-resource-schema"} <= set(east)
    failure = east["custom-resource-schema"].find("failure")
    assert (failure is not None and "maxReplicas" not in failure.get("message")) or failure is not None
    assert "eastus2.yaml:12" in failure.text
    west = {c.get("name"): c for c in suites["westus3"].findall("testcase")}
    # The unwaived warning does not fail the case: it is a property and a line of system-out.
    assert west["kubernetes-schema"].find("failure") is None
    properties = {p.get("name"): p.get("value") for p in west["kubernetes-schema"].iter("property")}
    assert properties == {"rayfleet.warning": "1"}
    out = west["kubernetes-schema"].find("system-out").text
    assert "[warning] deprecated" in out and "waived: waived one" in out
    assert suites["westus3"].get("failures") == "0" and suites["swedencentral"].get("failures") == "0"
    assert root.get("failures") == str(sum(int(s.get("failures")) for s in suites.values())) == "1"


def test_junit_fails_only_on_errors(result: Result):
    """A run with warnings and info only is green on a CI dashboard; one error makes it red."""
    info = Finding("kubernetes-schema", Severity.INFO, "for your information", "Fix it.", "westus3")
    calm = Result("validate", [f for f in result.findings if f.severity is not Severity.ERROR] + [info],
                  result.regions, result.policies)
    root = ET.fromstring(format_report("junit", calm).split("\n", 1)[1])
    assert root.get("failures") == "0" and root.find(".//failure") is None
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties == {"rayfleet.warning": "1", "rayfleet.info": "1"}
    fleet_suite = next(s for s in root.iter("testsuite") if s.get("name") == "(fleet)")
    fleet_case = next(c for c in fleet_suite.iter("testcase") if c.get("name") == "waiver-unmatched")
    assert "waiver #2 matches no finding" in fleet_case.find("system-out").text
    stormy = Result("validate", [*calm.findings, result.findings[0]], result.regions, result.policies)
    root = ET.fromstring(format_report("junit", stormy).split("\n", 1)[1])
    [failure] = root.iter("failure")
    assert failure.get("type") == "error" and "maxReplicas" in failure.text


def test_text_report_groups_by_region_and_has_a_summary(result: Result):
    text = format_report("text", result, color=False)
    assert "\x1b[" not in text
    assert text.index("eastus2") < text.index("westus3")
    assert "(waived)" in text and "waived: Vendor object we cannot change." in text
    assert "FAILED: 1 errors, 2 warnings, 0 info, 1 waived" in text
    assert "examples/values/regions/eastus2.yaml:12" in text
    coloured = format_report("text", result, color=True)
    assert "\x1b[" in coloured


def test_markdown_report_has_a_table_per_region(result: Result):
    text = format_report("markdown", result)
    assert text.startswith("## rayfleet validate: ❌ failed")
    assert "### ❌ eastus2" in text and "### ✅ swedencentral" in text
    assert "\\| piped" in text  # pipes escaped inside table cells


def test_every_format_is_registered():
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "markdown"}


def test_empty_result_renders_in_every_format():
    empty = Result("scan", regions=[RegionSummary(None, 0)])
    for name in FORMATS:
        assert format_report(name, empty).strip()
    assert "PASSED" in format_report("text", empty)


# --- Every field a user reads, format by format (issue #23: tests that fail when a reporter breaks).
# A hand-made fleet (duck-typed: the reporters read only regions, document, path and relative()) so
# SARIF's locator and category see a validate run; the template is a file in a temporary folder.

TEMPLATE = "charts/demo/templates/secret.yaml"
SECRET = ObjectRef("v1", "Secret", "ray", "creds")
DEPLOY = ObjectRef("apps/v1", "Deployment", "ray", "api")
WAIVER = Suppression("Vendor chart.", "team@example.com", date(2027, 1, 1), 0)


class _Doc:
    def __init__(self, lines: dict[tuple, int]) -> None:
        self.lines = lines

    def line_of(self, path: tuple) -> int | None:
        return self.lines.get(path)


def _fleet(names: list[str], lines: dict[tuple, int] | None = None):
    from types import SimpleNamespace

    return SimpleNamespace(regions=[SimpleNamespace(name=n) for n in names], path="/abs/fleets/prod.yaml",
                           document=None if lines is None else _Doc(lines),
                           relative=lambda path: "fleets/prod.yaml")


def _releases(checked: list[str], fleet) -> dict:
    from types import SimpleNamespace

    return {name: SimpleNamespace(fleet=fleet) for name in checked}


def _policies():
    return tuple(get_policy(p) for p in ("no-secret-objects", "workload-identity-env-override", "gpu-quota-fit",
                                         "waiver-unmatched", "kubernetes-schema"))


def _report(name: str, result: Result, *, color: bool = False) -> str:
    """The report in format ``name``, through the registry the CLI uses."""
    return FORMATS[name](result, color=color) if name == "text" else FORMATS[name](result)


def _full() -> Result:
    findings = [
        Finding("kubernetes-schema", Severity.INFO, "just so you know", "Nothing to do.", "eastus2",
                ObjectRef("v1", "ConfigMap", None, "cm"), "data"),
        Finding("no-secret-objects", Severity.ERROR, "a Secret with a key", "Use workload identity.", "eastus2",
                SECRET, "data.key", SourceLocation("values/eastus2.yaml", 7), TEMPLATE),
        Finding("workload-identity-env-override", Severity.WARNING, "AZURE_CLIENT_ID set", "Drop it.", "westus3",
                DEPLOY),
        Finding("no-secret-objects", Severity.ERROR, "vendor Secret", "Use workload identity.", "westus3",
                ObjectRef("v1", "Secret", "ray", "vendor")).suppress(WAIVER),
        Finding("gpu-quota-fit", Severity.ERROR, "needs 96 vCPUs, quota 48", "Raise the quota.", "westus3",
                source=SourceLocation("fleets/prod.yaml")),
        Finding("waiver-unmatched", Severity.WARNING, "waiver #1 matches no finding", "Remove it.",
                source=SourceLocation("fleets/prod.yaml", 40)),
    ]
    regions = [RegionSummary("eastus2", 5, True, "helm template a"), RegionSummary("westus3", 3, False, None),
               RegionSummary("centralus", 0)]
    return Result("validate", findings, regions, _policies(), notes=["first note"])


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / TEMPLATE).parent.mkdir(parents=True)
    (tmp_path / TEMPLATE).write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n"
                                     "  key: {{ .Values.key }}\n")
    return tmp_path


def _physical(uri: str, line: int) -> dict:
    return {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": line}}


def test_sarif_every_result_field_against_the_schema(in_tmp: Path, shared_dir: Path):
    from rayfleet.fingerprints import fingerprints

    result = _full()
    fleet = _fleet(["eastus2", "westus3", "centralus"],
                   {("regions", 0, "name"): 11, ("regions", 1, "name"): 22})
    result.releases = _releases(["eastus2", "westus3", "centralus"], fleet)
    document = json.loads(_report("sarif", result))
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    assert document["version"] == "2.1.0" and len(document["runs"]) == 1
    run = document["runs"][0]
    assert run["automationDetails"] == {"id": "rayfleet/"}  # every region checked: the whole fleet
    assert run["properties"] == {"command": "validate"}
    assert run["tool"]["driver"]["name"] == "rayfleet" and run["tool"]["driver"]["version"] == result.tool_version
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [p.id for p in _policies()]
    by_id = {r["id"]: r for r in rules}
    secret = by_id["no-secret-objects"]
    assert secret["name"] == "NoSecretObjects"
    assert secret["defaultConfiguration"] == {"level": "error"}
    assert secret["properties"] == {"tags": ["security", "rayfleet", "release"], "scope": "release",
                                    "security-severity": "8.0"}
    assert secret["helpUri"] == get_policy("no-secret-objects").references[0]
    assert secret["shortDescription"] == {"text": get_policy("no-secret-objects").title}
    policy = get_policy("no-secret-objects")
    assert secret["fullDescription"] == {"text": policy.rationale}
    assert secret["help"]["text"] == f"{policy.rationale}\n\nRemediation: {policy.remediation}"
    assert secret["help"]["markdown"].endswith(
        "**References:**" + "".join(f"\n- {r}" for r in policy.references))
    assert by_id["workload-identity-env-override"]["properties"]["security-severity"] == "5.5"
    assert by_id["workload-identity-env-override"]["defaultConfiguration"] == {"level": "warning"}
    unmatched = by_id["waiver-unmatched"]  # neither a security rule nor one with references
    assert unmatched["name"] == "WaiverUnmatched"
    assert unmatched["properties"] == {"tags": ["rayfleet", "pipeline"], "scope": "pipeline"}
    assert "helpUri" not in unmatched and "References" not in unmatched["help"]["markdown"]
    assert by_id["gpu-quota-fit"]["properties"] == {"tags": ["rayfleet", "fleet"], "scope": "fleet"}

    results = run["results"]
    ordered = result.sorted_findings()
    assert [r["ruleId"] for r in results] == [f.policy for f in ordered] == [
        "no-secret-objects", "kubernetes-schema", "gpu-quota-fit", "no-secret-objects",
        "workload-identity-env-override", "waiver-unmatched"]
    assert [r["ruleIndex"] for r in results] == [0, 4, 2, 0, 1, 3]
    assert [r["level"] for r in results] == ["error", "note", "error", "error", "warning", "warning"]
    assert [r["partialFingerprints"] for r in results] == [{"rayfleet/v2": fp} for fp in fingerprints(ordered)]
    secret_result, info, quota, waived, override, fleetwide = results
    assert secret_result["message"] == {"text": "[eastus2] a Secret with a key (Secret/ray/creds data.key)"}
    assert secret_result["properties"] == {"region": "eastus2", "path": "data.key"}
    # the template line that writes data.key first, the values file line that set it next
    assert secret_result["locations"] == [{
        "physicalLocation": _physical(TEMPLATE, 6),
        "logicalLocations": [{"fullyQualifiedName": "eastus2/Secret/ray/creds", "kind": "object"}]}]
    assert secret_result["relatedLocations"] == [
        {"id": 1, "physicalLocation": _physical("values/eastus2.yaml", 7), "message": {"text": "set here"}}]
    assert "suppressions" not in secret_result
    assert info["message"] == {"text": "[eastus2] just so you know (ConfigMap/cm data)"}
    # no source and no template: the region's entry in the fleet file
    assert info["locations"] == [{"physicalLocation": _physical("fleets/prod.yaml", 11),
                                  "logicalLocations": [{"fullyQualifiedName": "eastus2/ConfigMap/cm",
                                                        "kind": "object"}]}]
    assert quota["message"] == {"text": "[westus3] needs 96 vCPUs, quota 48"}
    assert quota["locations"] == [{"physicalLocation": _physical("fleets/prod.yaml", 22)}]  # no object, no logical
    assert quota["properties"] == {"region": "westus3", "path": ""}
    assert "relatedLocations" not in quota
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "Vendor chart. (owner team@example.com, expires 2027-01-01)"}]
    assert override["message"] == {"text": "[westus3] AZURE_CLIENT_ID set (Deployment/ray/api)"}
    assert override["locations"][0]["physicalLocation"] == _physical("fleets/prod.yaml", 22)
    assert fleetwide["message"] == {"text": "waiver #1 matches no finding"}
    assert fleetwide["properties"] == {"region": None, "path": ""}
    assert fleetwide["locations"] == [{"physicalLocation": _physical("fleets/prod.yaml", 40)}]


def test_sarif_category_names_the_selection():
    from rayfleet.report.sarif import category

    fleet = _fleet(["eastus2", "westus3", "centralus"])
    result = _full()
    assert category(result) == "rayfleet"  # nothing rendered (quota, identity check)
    result.releases = _releases(["westus3", "eastus2"], fleet)
    assert category(result) == "rayfleet/eastus2+westus3"
    result.releases = _releases(["westus3"], fleet)
    assert category(result) == "rayfleet/westus3"
    assert json.loads(_report("sarif", result))["runs"][0]["automationDetails"] == {"id": "rayfleet/westus3/"}
    result.releases = _releases(["centralus", "westus3", "eastus2"], fleet)
    assert category(result) == "rayfleet"
    assert category(Result("scan")) == "rayfleet/scan"


def test_sarif_without_a_fleet_points_at_the_file_most_findings_name():
    findings = [Finding("gpu-quota-fit", Severity.ERROR, "m", "r", "westus3", source=SourceLocation("a.yaml", 3)),
                Finding("gpu-quota-fit", Severity.ERROR, "m", "r", "eastus2", source=SourceLocation("b.yaml", 4)),
                Finding("gpu-quota-fit", Severity.ERROR, "m", "r", "eastus2", source=SourceLocation("b.yaml", 9)),
                Finding("gpu-quota-fit", Severity.ERROR, "m2", "r", "centralus"),
                Finding("gpu-quota-fit", Severity.ERROR, "m3", "r", "eastus2", source=SourceLocation("<live>"))]
    result = Result("quota", findings, [], (get_policy("gpu-quota-fit"),))
    results = json.loads(_report("sarif", result))["runs"][0]["results"]
    # sorted: centralus, eastus2 (b:4, b:9, <live>), westus3
    uris = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results]
    assert uris == [("b.yaml", 1), ("b.yaml", 4), ("b.yaml", 9), ("b.yaml", 1), ("a.yaml", 3)]
    assert [r["ruleIndex"] for r in results] == [0] * 5
    empty = Result("quota", [Finding("gpu-quota-fit", Severity.ERROR, "m", "r", "x")], [], ())
    [only] = json.loads(_report("sarif", empty))["runs"][0]["results"]
    assert only["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "fleet.yaml"
    assert "ruleIndex" not in only  # the policy did not run: no rule to point at


def test_sarif_info_rules_are_notes_with_low_security_severity():
    from dataclasses import replace

    info_policy = replace(get_policy("no-secret-objects"), severity=Severity.INFO)
    result = Result("validate", [], [], (info_policy,))
    [rule] = json.loads(_report("sarif", result))["runs"][0]["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"] == {"level": "note"} and rule["properties"]["security-severity"] == "2.0"


def test_json_report_every_field_and_section():
    from rayfleet.capacity.table import CapacityTable
    from rayfleet.delivery.run import UpdateRunReport
    from rayfleet.identity import IdentityPlan
    from rayfleet.report.json_report import SCHEMA_ID
    from rayfleet.rollout import RolloutReport
    from rayfleet.subjects import AksSettings

    result = _full()
    result.regions.append(RegionSummary(None, 2))  # a scan's pseudo-region: objects count, regions do not
    text = _report("json", result)
    assert text.startswith('{\n  "$schema": ') and text.endswith("}\n")  # two-space indents
    document = json.loads(text)
    jsonschema.Draft7Validator(load_schema("report.schema.json")).validate(document)
    # keys in the documented order, not sorted
    assert list(document) == ["$schema", "tool", "summary", "regions", "skippedPolicies", "findings"]
    assert list(document["findings"][0]) == ["policy", "severity", "region", "object", "path", "message",
                                             "remediation", "source", "suppressed"]
    assert document["$schema"] == SCHEMA_ID
    assert document["tool"] == {"name": "rayfleet", "version": result.tool_version, "command": "validate"}
    assert document["summary"] == {"error": 2, "warning": 2, "info": 1, "suppressed": 1, "regions": 3,
                                   "objects": 10, "policies": 5}
    assert document["regions"] == [
        {"name": "eastus2", "objects": 5, "rendered": True, "helmCommand": "helm template a"},
        {"name": "westus3", "objects": 3, "rendered": False, "helmCommand": None},
        {"name": "centralus", "objects": 0, "rendered": True, "helmCommand": None},
        {"name": None, "objects": 2, "rendered": True, "helmCommand": None}]
    assert document["skippedPolicies"] == []
    assert "data" not in document  # no typed section: no data key
    findings = document["findings"]
    assert [f["policy"] for f in findings] == [f.policy for f in result.sorted_findings()]
    assert findings[0] == {
        "policy": "no-secret-objects", "severity": "error", "region": "eastus2",
        "object": {"apiVersion": "v1", "kind": "Secret", "namespace": "ray", "name": "creds"},
        "path": "data.key", "message": "a Secret with a key", "remediation": "Use workload identity.",
        "source": {"file": "values/eastus2.yaml", "line": 7, "template": TEMPLATE}, "suppressed": None}
    assert findings[1]["source"] is None and findings[1]["object"]["namespace"] is None
    assert findings[2]["source"] == {"file": "fleets/prod.yaml", "line": None, "template": None}
    assert findings[2]["object"] is None
    assert findings[3]["suppressed"] == {"reason": "Vendor chart.", "owner": "team@example.com",
                                         "expires": "2027-01-01"}
    assert findings[5]["region"] is None

    settings = AksSettings(True, "https://issuer", True, False, ("p1",))
    plan = IdentityPlan((), ("a note",))
    result = Result("scan", skipped_policies=("gpu-quota-fit",), capacity=CapacityTable((), (), ("n",), "live"),
                    clusters={"eastus2": settings}, storage_accounts={"/sub/acct": {"kind": "StorageV2"}},
                    identity_plan=plan, role_assignments=(), inputs=("a.yaml", "-"))
    document = json.loads(_report("json", result))
    assert document["skippedPolicies"] == ["gpu-quota-fit"]
    assert document["data"] == {
        "capacity": {"quotaSource": "live", "rows": [], "totals": [], "notes": ["n"]},
        "clusters": {"eastus2": {"oidc_enabled": True, "issuer": "https://issuer", "workload_identity": True,
                                 "blob_driver": False, "control_plane_principals": ["p1"]}},
        "storageAccounts": {"/sub/acct": {"kind": "StorageV2"}},
        "identityPlan": {"credentials": [], "notes": ["a note"], "roleAssignments": []},
        "inputs": ["a.yaml", "-"]}
    result = Result("identity", identity_plan=plan)
    assert json.loads(_report("json", result))["data"] == {"identityPlan": {"credentials": [],
                                                                                  "notes": ["a note"]}}
    rollout = RolloutReport("fleets/prod.yaml", True, [])
    result = Result("rollout", rollout=rollout)
    assert json.loads(_report("json", result))["data"]["rollout"]["dryRun"] is True
    result.update_run = UpdateRunReport("run-1", "ray-aks", "staged", [])
    assert json.loads(_report("json", result))["data"]["rollout"]["engine"] == "fleet-manager"


def _junit(result: Result) -> ET.Element:
    text = _report("junit", result)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "\n  <testsuite " in text and text.endswith("</testsuites>\n")  # indented, one element a line
    return ET.fromstring(text.split("\n", 1)[1])


def test_junit_every_suite_case_and_count():
    root = _junit(_full())
    assert root.tag == "testsuites" and root.get("name") == "rayfleet"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["eastus2", "westus3", "centralus", "(fleet)"]
    cases = {s.get("name"): [(c.get("classname"), c.get("name")) for c in s.findall("testcase")] for s in suites}
    release = ["no-secret-objects", "workload-identity-env-override", "waiver-unmatched", "kubernetes-schema"]
    for region in ("eastus2", "westus3", "centralus"):
        assert cases[region] == [(f"rayfleet.{region}", p) for p in release]
    # the fleet suite: fleet policies, and pipeline policies only where they found something
    assert cases["(fleet)"] == [("rayfleet.(fleet)", "gpu-quota-fit"), ("rayfleet.(fleet)", "waiver-unmatched")]
    counts = {s.get("name"): {k: s.get(k) for k in ("tests", "failures", "skipped", "errors")} for s in suites}
    assert counts == {"eastus2": {"tests": "4", "failures": "1", "skipped": "0", "errors": "0"},
                      "westus3": {"tests": "4", "failures": "0", "skipped": "0", "errors": "0"},
                      "centralus": {"tests": "4", "failures": "0", "skipped": "0", "errors": "0"},
                      "(fleet)": {"tests": "2", "failures": "0", "skipped": "0", "errors": "0"}}
    assert {k: root.get(k) for k in ("tests", "failures", "skipped", "errors")} == \
        {"tests": "14", "failures": "1", "skipped": "0", "errors": "0"}
    east = {c.get("name"): c for c in suites[0].findall("testcase")}
    failure = east["no-secret-objects"].find("failure")
    assert failure.get("type") == "error" and failure.get("message") == "1 error(s): a Secret with a key"
    assert failure.text == ("[error] a Secret with a key\n  object: Secret/ray/creds at data.key\n"
                            "  source: values/eastus2.yaml:7\n  fix: Use workload identity.")
    assert east["no-secret-objects"].find("properties") is None
    info = east["kubernetes-schema"]
    assert info.find("failure") is None
    assert [(p.get("name"), p.get("value")) for p in info.iter("property")] == [("rayfleet.info", "1")]
    assert info.find("system-out").text == ("[info] just so you know\n  object: ConfigMap/cm at data\n"
                                            "  fix: Nothing to do.")
    assert east["workload-identity-env-override"].find("system-out") is None
    west = {c.get("name"): c for c in suites[1].findall("testcase")}
    # the waived error does not fail its case; it is listed, not counted
    secret = west["no-secret-objects"]
    assert secret.find("failure") is None and secret.find("properties") is None
    assert secret.find("system-out").text == "waived: vendor Secret (Vendor chart.)"
    override = west["workload-identity-env-override"]
    assert [(p.get("name"), p.get("value")) for p in override.iter("property")] == [("rayfleet.warning", "1")]
    assert override.find("system-out").text == ("[warning] AZURE_CLIENT_ID set\n  object: Deployment/ray/api\n"
                                                "  fix: Drop it.")
    fleet = {c.get("name"): c for c in suites[3].findall("testcase")}
    # region-scoped findings of a fleet policy stay out of the fleet suite
    assert fleet["gpu-quota-fit"].find("failure") is None and fleet["gpu-quota-fit"].find("system-out") is None
    assert fleet["waiver-unmatched"].find("system-out").text == (
        "[warning] waiver #1 matches no finding\n  source: fleets/prod.yaml:40\n  fix: Remove it.")


def test_junit_fleet_suite_and_skipped_policies():
    policies = (get_policy("no-secret-objects"), get_policy("waiver-unmatched"))
    findings = [Finding("no-secret-objects", Severity.ERROR, "one", "fix", "eastus2"),
                Finding("no-secret-objects", Severity.ERROR, "two", "fix", "eastus2",
                        source=SourceLocation("v.yaml"))]
    # regions and no fleet-wide finding: no (fleet) suite
    root = _junit(Result("validate", findings, [RegionSummary("eastus2", 1)], policies))
    assert [s.get("name") for s in root.findall("testsuite")] == ["eastus2"]
    failure = root.find(".//failure")
    assert failure.get("message") == "2 error(s): one"
    assert failure.text == "[error] one\n  fix: fix\n\n[error] two\n  source: v.yaml\n  fix: fix"
    # a scan: its findings have no region; they land in the scan suite, skipped policies shown once
    scan = Result("scan", [Finding("no-secret-objects", Severity.WARNING, "w", "fix", obj=SECRET)],
                  [RegionSummary(None, 2)], policies, skipped_policies=("gpu-quota-fit",), skip_reason="no fleet")
    root = _junit(scan)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["scan", "(fleet)"]
    scan_cases = {c.get("name"): c for c in suites[0].findall("testcase")}
    assert list(scan_cases) == ["no-secret-objects", "waiver-unmatched", "gpu-quota-fit"]
    assert scan_cases["gpu-quota-fit"].find("skipped").get("message") == "no fleet"
    assert [(p.get("name"), p.get("value")) for p in scan_cases["no-secret-objects"].iter("property")] == \
        [("rayfleet.warning", "1")]
    assert suites[0].get("skipped") == "1" and suites[0].get("tests") == "3"
    assert suites[1].findall("testcase") == [] and suites[1].get("tests") == "0"
    assert root.get("skipped") == "1" and root.get("tests") == "3"
    # nothing checked at all: one fleet suite
    assert [s.get("name") for s in _junit(Result("validate")).findall("testsuite")] == ["(fleet)"]


def test_text_report_lines_columns_and_wrapping(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = _report("text", _full(), color=False)
    lines = text.splitlines()
    assert lines[:9] == [
        "eastus2",
        "  error   no-secret-objects  a Secret with a key",
        "          Secret/ray/creds data.key · values/eastus2.yaml:7",
        "          fix: Use workload identity.",
        "  info    kubernetes-schema  just so you know",
        "          ConfigMap/cm data",
        "",
        "westus3",
        "  error   gpu-quota-fit  needs 96 vCPUs, quota 48",
    ]
    assert lines[9:20] == [
        "          fleets/prod.yaml",
        "          fix: Raise the quota.",
        "  error   no-secret-objects (waived)  vendor Secret",
        "          Secret/ray/vendor",
        "          waived: Vendor chart. (owner team@example.com, until 2027-01-01)",
        "  warning workload-identity-env-override  AZURE_CLIENT_ID set",
        "          Deployment/ray/api",
        "          fix: Drop it.",
        "",
        "(fleet)",
        "  warning waiver-unmatched  waiver #1 matches no finding",
    ]
    assert lines[20:23] == ["          fleets/prod.yaml:40", "          fix: Remove it.", ""]
    assert [line.split(" ")[0] for line in lines[24:28]] == ["region", "eastus2", "westus3", "centralus"]  # flush left
    table = [line.split() for line in lines[23:28]]
    assert table[0] == ["rayfleet", "validate"]
    assert table[1] == ["region", "objects", "errors", "warnings", "info", "waived"]
    assert table[2:] == [["eastus2", "5", "1", "0", "1", "0"], ["westus3", "3", "1", "1", "0", "1"],
                         ["centralus", "0", "0", "0", "0", "0"]]
    assert lines[28:] == ["FAILED: 2 errors, 2 warnings, 1 info, 1 waived, 5 policies", "note: first note"]


def test_text_report_hanging_indents_at_a_narrow_width(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "40")
    long = " ".join(["word"] * 20)
    finding = Finding("no-secret-objects", Severity.ERROR, long, long, None,
                      SECRET, "data.key", SourceLocation("values/a-rather-long-file-name.yaml", 3))
    waived = Finding("no-secret-objects", Severity.ERROR, "m", "f", None).suppress(
        Suppression(long, "o@example.com", date(2027, 1, 1), 0))
    result = Result("scan", [finding, waived], [RegionSummary(None, 1)], notes=[long])
    lines = _report("text", result).splitlines()

    def block(start: str) -> list[str]:
        i = next(n for n, line in enumerate(lines) if line.startswith(start))
        out = [lines[i]]
        for line in lines[i + 1:]:
            if not line.startswith(" " * 10) or line.strip().startswith(("fix:", "waived:", "Secret/")):
                break
            out.append(line)
        return out

    def indented(block: list[str], by: int) -> bool:
        return len(block) > 1 and all(line[:by] == " " * by and line[by] != " " for line in block[1:])

    # a line breaks only at spaces; only a single word longer than the line may exceed it
    findings_part = lines[:lines.index("")]
    assert all(len(line) <= 40 or " " not in line.strip() for line in findings_part)
    head = block("  error   no-secret-objects  word")
    assert indented(head, 10)
    detail = next(n for n, line in enumerate(lines) if line.startswith("          Secret/ray/creds"))
    assert lines[detail] == "          Secret/ray/creds data.key ·"
    assert lines[detail + 1] == "            values/a-rather-long-file-name.yaml:3"
    assert indented(block("          fix: word"), 15)
    waiver = block("          waived: word")
    assert indented(waiver, 18) and waiver[-1] == " " * 18 + "until 2027-01-01)"
    note = next(n for n, line in enumerate(lines) if line.startswith("note: word"))
    assert indented(lines[note:], 6)
    assert lines[-1] == "      word word word word word word"
    # the summary table never wraps a cell: title, header, one row, then the verdict
    title = next(n for n, line in enumerate(lines) if line.strip() == "rayfleet scan")
    assert lines[title + 2].split() == ["scan", "1", "1", "0", "0", "1"]  # the waived error is not counted
    assert lines[title + 3].startswith("FAILED: 1 errors")


def test_text_report_colours_severity_policy_and_waiver(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "100")
    result = Result("validate", [
        Finding("no-secret-objects", Severity.ERROR, "m 12", "f", "r"),
        Finding("gpu-quota-fit", Severity.WARNING, "m", "f", "r").suppress(WAIVER),
        Finding("kubernetes-schema", Severity.INFO, "m", "f", "r")], [RegionSummary("r", 12)])
    text = _report("text", result, color=True)
    assert "\x1b[1;4mr\x1b[0m" in text  # the region heading, bold and underlined
    assert "  \x1b[1;31merror\x1b[0m   \x1b[1mno-secret-objects\x1b[0m  m 12" in text
    assert "  \x1b[33mwarning\x1b[0m \x1b[1mgpu-quota-fit\x1b[0m\x1b[2m (waived)\x1b[0m  m" in text
    assert "  \x1b[36minfo\x1b[0m    \x1b[1mkubernetes-schema\x1b[0m  m" in text
    assert "\x1b[32m          fix: f\x1b[0m" in text
    assert "\x1b[1;31mFAILED\x1b[0m: 1 errors" in text
    assert "\x1b[1;32mPASSED\x1b[0m" in _report("text", Result("validate"), color=True)
    plain = _report("text", result, color=False)
    assert "\x1b" not in plain
    # numbers are not highlighted: the table cell "12" is plain in colour too
    assert not any("\x1b" in line for line in text.splitlines() if line.split()[:1] == ["r"] and "12" in line)


def test_markdown_counts_marks_sources_and_notes():
    result = _full()
    lines = _report("markdown", result).splitlines()
    assert lines[0] == "## rayfleet validate: ❌ failed"
    assert lines[2] == "2 errors, 2 warnings, 1 info, 1 waived · 3 regions · 8 objects"
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == ["### ❌ eastus2", "### ❌ westus3", "### ✅ centralus", "### ⚠️ (fleet)"]
    assert "| ❌ error | `no-secret-objects` | `Secret/ray/creds` | a Secret with a key | `values/eastus2.yaml:7` |" \
        in lines
    assert "| \N{INFORMATION SOURCE}\ufe0f info | `kubernetes-schema` | `ConfigMap/cm` | just so you know |  |" in lines
    assert "| ❌ error (waived) | `no-secret-objects` | `Secret/ray/vendor` | vendor Secret |  |" in lines
    assert "| ⚠️ warning | `waiver-unmatched` |  | waiver #1 matches no finding | `fleets/prod.yaml:40` |" in lines
    assert lines[-1] == "> first note"
    only_waived = Result("validate", [result.findings[3]], [RegionSummary("westus3", 3)])
    text = _report("markdown", only_waived)
    assert "### ✅ westus3" in text and text.startswith("## rayfleet validate: ✅ passed")
    assert "1 waived · 1 regions · 3 objects" in text
    template_only = Finding("no-secret-objects", Severity.WARNING, "m", "f", "r", template=TEMPLATE)
    text = _report("markdown", Result("validate", [template_only], [RegionSummary("r", 1)]))
    assert f"| ⚠️ warning | `no-secret-objects` |  | m | `{TEMPLATE}` |" in text.splitlines()
    assert "### ⚠️ r" in text


def test_group_by_region_and_summary_helpers():
    from rayfleet.report.common import group_by_region, summary, where

    result = _full()
    groups = group_by_region(result.findings)
    assert list(groups) == ["eastus2", "westus3", "(fleet)"]
    assert [f.policy for f in groups["westus3"]] == ["gpu-quota-fit", "no-secret-objects",
                                                     "workload-identity-env-override"]
    assert summary(result) == {"error": 2, "warning": 2, "info": 1, "suppressed": 1}
    assert where(result.findings[1]) == "values/eastus2.yaml:7"
    assert where(Finding("p", Severity.ERROR, "m", "f", template=TEMPLATE)) == TEMPLATE
    assert where(Finding("p", Severity.ERROR, "m", "f")) == ""


def test_sarif_of_a_scan_points_at_the_scanned_files():
    policies = (get_policy("no-secret-objects"),)
    findings = [Finding("no-secret-objects", Severity.ERROR, "a", "f", obj=SECRET),
                Finding("no-secret-objects", Severity.ERROR, "b", "f", obj=DEPLOY, source=SourceLocation("<stdin>", 3))]
    scan = Result("scan", findings, [RegionSummary(None, 2)], policies, inputs=("manifests/a.yaml", "b.yaml"),
                  stdin_name="k8s/piped.yaml")
    text = _report("sarif", scan)
    assert text.startswith('{\n  "$schema": ') and text.endswith("}\n")  # two-space indents: readable diffs
    run = json.loads(text)["runs"][0]
    assert run["automationDetails"] == {"id": "rayfleet/scan/"}
    locations = {r["message"]["text"]: r["locations"][0]["physicalLocation"] for r in run["results"]}
    assert locations["b (Deployment/ray/api)"] == _physical("k8s/piped.yaml", 3)
    assert locations["a (Secret/ray/creds)"] == _physical("manifests/a.yaml", 1)
    piped = Result("scan", findings[:1], [RegionSummary(None, 1)], policies, inputs=("-",))
    [only] = json.loads(_report("sarif", piped))["runs"][0]["results"]
    assert only["locations"][0]["physicalLocation"] == _physical("rayfleet-stdin.yaml", 1)


def test_markdown_whole_document_in_order():
    from rayfleet.capacity.table import CapacityRow, CapacityTable

    result = _full()
    result.regions = result.regions[1:]  # eastus2 has findings but was not checked: after the checked regions
    result.capacity = CapacityTable((CapacityRow("westus3", "FamA", "family", (), 0, 8, 16, 8),), ())
    text = _report("markdown", result)
    assert text.endswith("> first note\n") and not text.endswith("\n\n")
    header, rule = "| Severity | Policy | Object | Message | Source |", "|---|---|---|---|---|"
    assert text.splitlines() == [
        "## rayfleet validate: ❌ failed", "",
        "2 errors, 2 warnings, 1 info, 1 waived · 2 regions · 3 objects", "",
        "### ❌ westus3", "", header, rule,
        "| ❌ error | `gpu-quota-fit` |  | needs 96 vCPUs, quota 48 | `fleets/prod.yaml` |",
        "| ❌ error (waived) | `no-secret-objects` | `Secret/ray/vendor` | vendor Secret |  |",
        "| ⚠️ warning | `workload-identity-env-override` | `Deployment/ray/api` | AZURE_CLIENT_ID set |  |", "",
        "### ✅ centralus", "", "No findings.", "",
        "### ❌ eastus2", "", header, rule,
        "| ❌ error | `no-secret-objects` | `Secret/ray/creds` | a Secret with a key | `values/eastus2.yaml:7` |",
        "| \N{INFORMATION SOURCE}\ufe0f info | `kubernetes-schema` | `ConfigMap/cm` | just so you know |  |", "",
        "### ⚠️ (fleet)", "", header, rule,
        "| ⚠️ warning | `waiver-unmatched` |  | waiver #1 matches no finding | `fleets/prod.yaml:40` |", "",
        "### GPU capacity (quota: fleet file)", "",
        "| Region | Quota | GPU | Max GPUs | Max vCPUs | Quota vCPUs | Used | After failover |",
        "|---|---|---|---:|---:|---:|---:|---:|",
        "| westus3 | FamA | - | 0 | 8 | 16 | 50% | 8 |", "",
        "> first note"]
