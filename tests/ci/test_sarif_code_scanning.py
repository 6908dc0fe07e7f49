"""SARIF as GitHub code scanning takes it: every result located (file and line) for `scan -`,
`scan DIR` and `validate`; fingerprints that survive a change of numbers in a message; one
category per region selection; security rules tagged; all valid against SARIF 2.1.0."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation
from rayfleet.locations import STDIN_PSEUDO_PATH, template_line
from rayfleet.policies import get_policy
from rayfleet.report import format_report
from rayfleet.report.sarif import SECURITY_POLICIES
from rayfleet.result import Result

from ..core.helpers import run_cli
from .cikit import break_eastus2, copy_example_fleet

FLEET = "examples/fleet.yaml"


@pytest.fixture(scope="module")
def sarif_schema(request) -> dict:
    shared = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
    return json.loads(shared.read_text())


def _check(document: dict, schema: dict) -> dict:
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    [run] = document["runs"]
    return run


def _located(run: dict) -> list[tuple[str, int]]:
    """Every result's primary location as (uri, line); fails when a result has none."""
    places = []
    for result in run["results"]:
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not physical["artifactLocation"]["uri"].startswith(("/", "<"))
        assert physical["region"]["startLine"] >= 1
        places.append((physical["artifactLocation"]["uri"], physical["region"]["startLine"]))
    return places


@pytest.fixture(scope="module")
def fleet_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sarif")
    copy_example_fleet(root)
    return root


@pytest.fixture(scope="module")
def rendered(fleet_copy: Path) -> Path:
    out = fleet_copy / "rendered" / "eastus2"
    result = run_cli("render", str(fleet_copy / FLEET), "--region", "eastus2", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _stdin_text(folder: Path) -> str:
    return "".join("---\n" + p.read_text() for p in sorted(folder.glob("*.yaml")))


@pytest.mark.parametrize("name", [None, "charts/ray-aks"])
def test_scan_stdin_results_have_locations(rendered: Path, crds: Path, sarif_schema: dict, name: str | None):
    extra = ["--stdin-name", name] if name else []
    result = run_cli("scan", "-", "--crds", str(crds), *extra, "--report", "sarif", input=_stdin_text(rendered))
    assert result.exit_code in (0, 1), result.output
    run = _check(json.loads(result.output), sarif_schema)
    places = _located(run)
    assert places, "the rendered release has findings (image-pinned at least)"
    assert {uri for uri, _ in places} == {name or STDIN_PSEUDO_PATH}
    assert run["automationDetails"]["id"] == "rayfleet/scan/"


def test_scan_dir_results_point_at_the_manifest_line(rendered: Path, crds: Path, sarif_schema: dict,
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(rendered.parent.parent)
    result = run_cli("scan", "rendered/eastus2", "--crds", str(crds), "--report", "sarif")
    run = _check(json.loads(result.output), sarif_schema)
    places = _located(run)
    assert places and all(uri.startswith("rendered/eastus2/") and Path(rendered.parent.parent, uri).is_file()
                          for uri, _ in places)


def test_validate_results_point_at_template_lines(fleet_copy: Path, crds: Path, sarif_schema: dict,
                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(fleet_copy)
    result = run_cli("validate", FLEET, "--crds", str(crds), "--report", "sarif")
    run = _check(json.loads(result.output), sarif_schema)
    places = _located(run)
    assert len(places) == len(run["results"]) > 5
    for entry, (uri, line) in zip(run["results"], places, strict=True):
        text = (fleet_copy / uri).read_text().splitlines()
        assert line <= len(text)
        path = entry["properties"]["path"]
        if uri.endswith(".yaml") and "/templates/" in uri and path:
            # the line is the field's key, or a key whose value an include writes
            written = text[line - 1].strip()
            key = written.split(":", 1)[0].lstrip("- ")
            assert key in path, (uri, line, written, path)
        if uri == FLEET and entry["properties"]["region"]:  # region findings point into the region's entry
            entry_start = next(t for t in reversed(text[:line]) if t.startswith("  - name: "))
            assert entry_start == f"  - name: {entry['properties']['region']}"
    image = next(r for r in run["results"] if r["properties"]["path"].startswith("spec.headGroupSpec"))
    physical = image["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("ray-cluster/templates/ray-cluster.yaml")


def test_values_schema_finding_points_at_the_values_line(fleet_copy: Path, tmp_path: Path, crds: Path,
                                                         sarif_schema: dict, monkeypatch: pytest.MonkeyPatch):
    copy_example_fleet(tmp_path)
    break_eastus2(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate", FLEET, "--region", "eastus2", "--crds", str(crds), "--report", "sarif")
    run = _check(json.loads(result.output), sarif_schema)
    broken = next(r for r in run["results"] if r["ruleId"] == "values-schema")
    uri, line = _located({"results": [broken]})[0]
    assert uri == "examples/values/regions/eastus2.yaml"
    assert '"lots"' in (tmp_path / uri).read_text().splitlines()[line - 1]


def test_template_line_reads_keys_not_directives():
    template = (
        "{{- if .Values.enabled }}\n"                  # 1
        "apiVersion: v1\n"                             # 2
        "kind: Pod\n"                                  # 3
        "spec:\n"                                      # 4
        "  containers:\n"                              # 5
        "    - name: x\n"                              # 6
        "      image: {{ .Values.image }}\n"           # 7
        "      resources:\n"                           # 8
        "        {{- toYaml .Values.res | nindent 8 }}\n"  # 9
        "  nodeSelector:\n"                            # 10
        "    pool: a\n"                                # 11
        "{{- end }}\n")
    assert template_line(template, "spec.containers[0].image") == 7
    assert template_line(template, 'spec.containers[0].resources.limits["nvidia.com/gpu"]') == 8
    assert template_line(template, "spec.nodeSelector.pool") == 11
    assert template_line(template, "spec.nodeSelector.zone") is None  # nodeSelector writes no subtree
    assert template_line(template, "metadata.labels") is None


# --- fingerprints -------------------------------------------------------------------------------

RC = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray-ray-cluster")


def _fingerprints(findings: list[Finding]) -> dict[str, str]:
    policies = tuple({get_policy(f.policy) for f in findings})
    run = json.loads(format_report("sarif", Result("validate", findings, [], policies)))["runs"][0]
    return {r["message"]["text"]: r["partialFingerprints"]["rayfleet/v2"] for r in run["results"]}


def test_fingerprints_ignore_numbers_in_messages():
    quota = Finding("gpu-quota-fit", Severity.ERROR, "needs 480 vCPUs of StandardNCadsH100v5Family, quota 400",
                    "Fix.", "eastus2", source=SourceLocation("examples/fleet.yaml", 30))
    image = Finding("image-pinned", Severity.INFO, "tag 2.53.0 is not a digest", "Pin.", "eastus2", RC,
                    "spec.headGroupSpec.template.spec.containers[0].image")
    before = list(_fingerprints([quota, image]).values())
    after = list(_fingerprints([replace(quota, message="needs 560 vCPUs of StandardNCadsH100v5Family, quota 400"),
                                replace(image, message="tag 2.54.1 is not a digest")]).values())
    assert before == after
    moved = list(_fingerprints([quota, replace(image, path="spec.workerGroupSpecs[0].template.spec.containers[0]"
                                                           ".image")]).values())
    assert moved[0] == before[0] and moved[1] != before[1]
    other_region = list(_fingerprints([replace(quota, region="westus3"), image]).values())
    assert other_region[0] != before[0]


def test_two_findings_on_one_field_get_two_fingerprints():
    one = Finding("no-literal-credentials", Severity.ERROR, "a SAS token", "Fix.", "eastus2", RC, "spec.x")
    prints = _fingerprints([one, replace(one, message="a JSON Web Token")])
    assert len(set(prints.values())) == 2


# --- categories and rules -----------------------------------------------------------------------

def test_two_regions_upload_as_separate_categories(fleet_copy: Path, crds: Path, sarif_schema: dict,
                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(fleet_copy)
    runs = {}
    for region in ("eastus2", "westus3"):
        result = run_cli("validate", FLEET, "--region", region, "--crds", str(crds), "--report", "sarif")
        runs[region] = _check(json.loads(result.output), sarif_schema)
    # code scanning's category is automationDetails.id up to its last "/": one per region
    categories = {region: run["automationDetails"]["id"].rsplit("/", 1)[0] for region, run in runs.items()}
    assert categories == {"eastus2": "rayfleet/eastus2", "westus3": "rayfleet/westus3"}
    for region, run in runs.items():
        assert run["tool"]["driver"]["name"] == "rayfleet"
        assert {r["properties"]["region"] for r in run["results"]} <= {region, None}
        prints = [r["partialFingerprints"]["rayfleet/v2"] for r in run["results"]]
        assert len(prints) == len(set(prints))
    whole = run_cli("validate", FLEET, "--crds", str(crds), "--report", "sarif")
    assert json.loads(whole.output)["runs"][0]["automationDetails"]["id"] == "rayfleet/"


def test_security_rules_carry_security_severity():
    findings = [Finding("no-privileged-containers", Severity.ERROR, "privileged", "Fix.", "eastus2", RC, "spec.x"),
                Finding("ray-worker-replicas", Severity.WARNING, "replicas", "Fix.", "eastus2", RC, "spec.y")]
    policies = (get_policy("no-privileged-containers"), get_policy("ray-worker-replicas"))
    rules = {r["id"]: r for r in json.loads(format_report("sarif", Result("validate", findings, [], policies)))
             ["runs"][0]["tool"]["driver"]["rules"]}
    security = rules["no-privileged-containers"]["properties"]
    assert "security" in security["tags"] and 0.1 <= float(security["security-severity"]) <= 10
    assert "security" not in rules["ray-worker-replicas"]["properties"]["tags"]
    assert "security-severity" not in rules["ray-worker-replicas"]["properties"]


def test_security_policies_exist_and_cover_the_obvious_ones():
    from rayfleet.policies import ALL_POLICIES

    for policy_id in SECURITY_POLICIES:
        get_policy(policy_id)
    # a new policy about credentials, privileges, RBAC or identity is a security rule: list it
    words = ("credential", "secret", "privilege", "privileged", "rbac", "identity", "host-", "account-key")
    missed = [p.id for p in ALL_POLICIES if any(w in p.id for w in words) and p.id not in SECURITY_POLICIES
              and not p.id.startswith("preflight-")]
    assert missed == []


def test_locator_fallbacks():
    from rayfleet.locations import Locator

    locator = Locator(fleet_file="fleet.yaml", region_lines={"eastus2": 25})
    no_line = Finding("failover-peers-exist", Severity.WARNING, "m", "r", "eastus2",
                      source=SourceLocation("fleet.yaml"))
    assert locator.locate(no_line) == [SourceLocation("fleet.yaml", 25)]
    nowhere = Finding("waiver-unmatched", Severity.WARNING, "m", "r")
    assert locator.locate(nowhere) == [SourceLocation("fleet.yaml", 1)]
    # a template that cannot be read (a packed dependency): the values line, then line 1 of the template
    packed = Finding("image-pinned", Severity.INFO, "m", "r", "eastus2", RC, "spec.x",
                     SourceLocation("values/eastus2.yaml", 7), "charts/ray-aks/charts/kuberay-operator-1.7.0.tgz")
    assert locator.locate(packed) == [SourceLocation("values/eastus2.yaml", 7),
                                      SourceLocation("charts/ray-aks/charts/kuberay-operator-1.7.0.tgz", 1)]
    template_only = replace(packed, source=None)
    assert locator.locate(template_only) == [SourceLocation("charts/ray-aks/charts/kuberay-operator-1.7.0.tgz", 1)]
    scan = Locator(inputs=("-",), stdin_name=None)
    assert scan.locate(nowhere) == [SourceLocation(STDIN_PSEUDO_PATH, 1)]


def test_results_of_other_commands_point_at_the_file_they_read(sarif_schema: dict):
    findings = [Finding("gpu-quota-fit", Severity.ERROR, "over quota", "Fix.", "eastus2",
                        source=SourceLocation("platform/fleet.yaml", 30)),
                Finding("federated-credential-missing", Severity.ERROR, "missing", "Fix.", "westus3")]
    policies = (get_policy("gpu-quota-fit"), get_policy("federated-credential-missing"))
    run = _check(json.loads(format_report("sarif", Result("quota", findings, [], policies))), sarif_schema)
    assert _located(run) == [("platform/fleet.yaml", 30), ("platform/fleet.yaml", 1)]


def test_helm_template_on_stdin_points_at_template_lines(fleet_copy: Path, rendered: Path, crds: Path,
                                                         sarif_schema: dict, monkeypatch: pytest.MonkeyPatch):
    """`helm template ray charts/ray-aks | rayfleet scan - --stdin-name charts/ray-aks`: helm's
    `# Source: ray-aks/...` comments name each object's template under the chart folder."""
    monkeypatch.chdir(fleet_copy)
    text = re.sub(r"# Source: \S*?charts/ray-aks/", "# Source: ray-aks/", _stdin_text(rendered))
    assert text.count("# Source: ray-aks/") == len(list(rendered.glob("*.yaml")))
    result = run_cli("scan", "-", "--stdin-name", "charts/ray-aks", "--crds", str(crds), "--report", "sarif",
                     input=text)
    run = _check(json.loads(result.output), sarif_schema)
    places = _located(run)
    assert places and all(uri.startswith("charts/ray-aks/") and (fleet_copy / uri).is_file() for uri, _ in places)
    head = next(r for r in run["results"] if r["properties"]["path"].startswith("spec.headGroupSpec"))
    uri, line = _located({"results": [head]})[0]
    assert uri == "charts/ray-aks/charts/ray-cluster/templates/ray-cluster.yaml" and line > 1
