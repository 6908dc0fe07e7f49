"""The CLI end to end on the example fleet: every command, several reports in one run, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from rayfleet import __version__

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
    assert report["summary"]["regions"] == 3 and report["summary"]["error"] == 0
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
