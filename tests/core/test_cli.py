"""The CLI end to end on the example fleet: every command, several reports in one run, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner
from rayfleet import __version__
from rayfleet.cli import main

from .helpers import REPO, copy_example, run_cli

EXAMPLE = REPO / "examples" / "fleet.yaml"


def test_validate_example_writes_all_four_reports(tmp_path: Path, crds_dir: Path):
    result = run_cli("validate", EXAMPLE, "--crds", crds_dir, "--report", f"sarif={tmp_path}/r.sarif",
                     "--report", f"json={tmp_path}/r.json", "--report", f"junit={tmp_path}/r.xml",
                     "--report", f"markdown={tmp_path}/r.md", "--report", "text")
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["regions"] == 4 and report["summary"]["error"] == 0
    assert (tmp_path / "r.xml").read_text().startswith("<?xml")
    assert (tmp_path / "r.md").read_text().startswith("## rayfleet validate")


def test_validate_exit_code_follows_fail_on(tmp_path: Path):
    fleet = copy_example(tmp_path)
    # Without CRDs the RayClusters draw a warning: fine at --fail-on error, a failure at warning.
    assert run_cli("validate", fleet, "--region", "eastus2").exit_code == 0
    assert run_cli("validate", fleet, "--region", "eastus2", "--fail-on", "warning").exit_code == 1


def test_validate_fails_with_exit_1_on_an_error(tmp_path: Path):
    fleet = copy_example(tmp_path)
    region_file = fleet.parent / "values" / "regions" / "eastus2.yaml"
    region_file.write_text(region_file.read_text().replace("minReplicas: 0", "minReplicas: -3", 1))
    result = run_cli("validate", fleet, "--region", "eastus2", "--report", "json")
    assert result.exit_code == 1
    findings = json.loads(result.output)["findings"]
    assert any(f["policy"] == "values-schema" and f["region"] == "eastus2" for f in findings)


def test_only_one_report_may_go_to_stdout():
    result = run_cli("validate", EXAMPLE, "--report", "json", "--report", "text")
    assert result.exit_code == 2 and "only one --report may go to stdout" in result.output


def test_validate_profile_prints_the_stage_split():
    result = run_cli("validate", EXAMPLE, "--region", "eastus2", "--profile", "--report", "json")
    assert result.exit_code == 0
    for stage in ("load", "merge", "render", "schemas", "policies", "total"):
        assert stage in result.stderr


def test_render_writes_one_file_per_object(tmp_path: Path):
    out = tmp_path / "out"
    result = run_cli("render", EXAMPLE, "--region", "westus3", "--out", out)
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert "ray--raycluster--ray-ray-cluster.yaml" in files or any("raycluster" in f for f in files)
    assert any(f.startswith("storageclass--") for f in files)  # cluster-scoped: no namespace prefix
    for path in out.glob("*.yaml"):
        text = path.read_text()
        assert text.startswith("---\n# Source: charts/ray-aks/")
        assert yaml.safe_load(text)["metadata"]["name"]


def test_scan_of_rendered_output_finds_the_same_objects(tmp_path: Path, crds_dir: Path):
    out = tmp_path / "out"
    run_cli("render", EXAMPLE, "--region", "eastus2", "--out", out)
    result = run_cli("scan", out, "--crds", crds_dir, "--kube-version", "1.33", "--report", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"]["objects"] == len(list(out.glob("*.yaml")))
    assert report["summary"]["error"] == 0


def test_scan_reads_stdin_and_reports_file_lines(tmp_path: Path):
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\n" \
               "metadata: {name: b}\ndata: {k: 1}\n"
    result = run_cli("scan", "-", "--report", "json", input=manifest)
    assert result.exit_code == 1
    [finding] = [f for f in json.loads(result.output)["findings"] if f["policy"] == "kubernetes-schema"]
    assert finding["object"]["name"] == "b" and finding["source"] == {"file": "<stdin>", "line": 5,
                                                                       "template": None}


def test_scan_skips_fleet_policies_and_says_so():
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    result = run_cli("scan", "-", input=manifest)
    assert result.exit_code == 0
    fleet_scoped = [line for line in result.output.splitlines() if line.startswith("note: skipped")]
    from rayfleet.policies import ALL_POLICIES, Scope

    if any(p.scope is Scope.FLEET or p.needs_fleet for p in ALL_POLICIES):
        assert fleet_scoped
    else:
        assert not fleet_scoped


def test_scan_with_a_fleet_file_does_not_claim_it_lacks_one():
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    result = run_cli("scan", "-", "--fleet", EXAMPLE, input=manifest)
    assert result.exit_code == 0
    note = " ".join(result.output[result.output.index("note: skipped"):].split())  # wrapped to the terminal
    assert "need the fleet file" not in note
    assert "scanned manifests belong to no region" in note and "rayfleet validate" in note
    assert "gpu-quota-fit" in note
    junit = run_cli("scan", "-", "--fleet", EXAMPLE, "--report", "junit", input=manifest).output
    assert "needs the fleet file" not in junit and 'message="compares each region' in junit


def test_scan_with_a_fleet_file_knows_its_vm_sizes(tmp_path: Path):
    """--fleet brings the fleet's vmSizes: a size declared there is known to unknown-vm-size."""
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(Path(EXAMPLE).read_text().replace("chart: ../charts/ray-aks", "chart: .")
                     + "vmSizes:\n  Standard_NX9_v9: {vcpus: 8, gpus: 1, family: standardNXv9Family}\n")
    manifest = ("apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r, namespace: ray}\nspec:\n"
                "  headGroupSpec: {template: {spec: {containers: [{name: h, image: i}]}}}\n"
                "  workerGroupSpecs:\n  - groupName: g\n    maxReplicas: 1\n    template:\n      spec:\n"
                "        nodeSelector: {node.kubernetes.io/instance-type: Standard_NX9_v9}\n"
                "        containers: [{name: w, image: i, resources: {limits: {nvidia.com/gpu: 1}}}]\n")
    args = ("scan", "-", "--report", "json")
    without = json.loads(run_cli(*args, input=manifest).output)["findings"]
    with_fleet = json.loads(run_cli(*args, "--fleet", fleet, input=manifest).output)["findings"]
    assert [f["policy"] for f in without if f["policy"] == "unknown-vm-size"] == ["unknown-vm-size"]
    assert [f["policy"] for f in with_fleet if f["policy"] == "unknown-vm-size"] == []


def test_plan_prints_waves_values_and_commands():
    result = run_cli("plan", EXAMPLE, "--format", "json")
    assert result.exit_code == 0
    regions = json.loads(result.output)["regions"]
    assert [r["wave"] for r in regions] == sorted(r["wave"] for r in regions)
    east = next(r for r in regions if r["region"] == "eastus2")
    assert east["values"][-1].endswith("platform-team.yaml")
    assert east["command"].startswith("helm upgrade --install ray ")
    text = run_cli("plan", EXAMPLE).output
    assert "# wave 1: eastus2" in text and "--kube-context rayfleet-eus2" in text


def test_policies_list_and_show():
    listing = run_cli("policies")
    assert listing.exit_code == 0 and "kubernetes-schema" in listing.output
    shown = run_cli("policies", "show", "waiver-expired")
    assert shown.exit_code == 0 and "Fix:" in shown.output and "Why:" in shown.output
    missing = run_cli("policies", "show", "no-such-policy")
    assert missing.exit_code == 2 and "unknown policy" in missing.output


def test_version_and_help():
    assert run_cli("--version").output.strip().endswith(__version__)
    help_text = run_cli("--help").output
    assert "rayfleet validate examples/fleet.yaml" in help_text and "Exit codes" in help_text


def test_scan_points_each_finding_at_its_own_file_when_names_repeat(tmp_path: Path):
    # Two folders rendered for two regions hold objects of the same kind, namespace and name.
    for region in ("a", "b"):
        (tmp_path / region).mkdir()
        padding = "\n" * (3 if region == "b" else 0)  # different lines, to tell the files apart
        (tmp_path / region / "secret.yaml").write_text(
            f"{padding}apiVersion: v1\nkind: Secret\nmetadata: {{name: creds, namespace: ray}}\n"
            "stringData: {note: nothing secret}\n")
    result = run_cli("scan", tmp_path, "--report", "json")
    findings = [f for f in json.loads(result.output)["findings"] if f["policy"] == "no-secret-objects"]
    assert sorted((Path(f["source"]["file"]).parent.name, f["source"]["line"]) for f in findings) == [
        ("a", 1), ("b", 4)]


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_plan_json_uses_one_naming_style():
    document = json.loads(run_cli("plan", EXAMPLE, "--format", "json").output)
    assert "capacity" in document and "kubeContext" in document["regions"][0]
    assert sorted(k for k in _keys(document) if not re.fullmatch(r"[a-z][a-zA-Z0-9]*", k)) == []


def test_policies_json_lists_the_catalogue():
    from rayfleet.policies import ALL_POLICIES

    result = run_cli("policies", "--format", "json")
    assert result.exit_code == 0
    policies = json.loads(result.output)["policies"]
    assert [p["id"] for p in policies] == [p.id for p in ALL_POLICIES]
    quota = next(p for p in policies if p["id"] == "region-identity-match")
    assert quota["severity"] == "error" and quota["scope"] == "fleet" and quota["references"]
    assert set(quota) == {"id", "title", "severity", "scope", "rationale", "remediation", "references", "needsFleet",
                          "admission", "admissionNotExported"}
    assert quota["admission"] == "no" and "fleet policy" in quota["admissionNotExported"]
    pinned = next(p for p in policies if p["id"] == "no-privileged-containers")
    assert pinned["admission"] == "yes" and "admissionNotExported" not in pinned


def test_shell_completion_as_documented():
    """README: eval "$(_RAYFLEET_COMPLETE=bash_source rayfleet)"; completion is click's own."""
    script = CliRunner().invoke(main, [], prog_name="rayfleet", env={"_RAYFLEET_COMPLETE": "bash_source"})
    assert script.exit_code == 0 and "_rayfleet_completion" in script.output
    words = CliRunner().invoke(main, [], prog_name="rayfleet", env={
        "_RAYFLEET_COMPLETE": "bash_complete", "COMP_WORDS": "rayfleet val", "COMP_CWORD": "1"})
    assert words.output.split() == ["plain,validate"]
    readme = (REPO / "README.md").read_text()
    for shell in ("bash", "zsh", "fish"):
        assert f"_RAYFLEET_COMPLETE={shell}_source rayfleet" in readme
