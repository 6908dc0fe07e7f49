"""`--report FORMAT=PATH` never overwrites an input of the run, never writes into the chart and
never writes through a symlink (issue #12, item 7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..core.helpers import REPO, copy_example, run_cli, snapshot


def _refused(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


@pytest.mark.parametrize("target", ["values/platform.yaml", "fleet.yaml", "values/regions/eastus2.yaml"])
def test_validate_refuses_to_overwrite_its_inputs(fleet: Path, target: str):
    before = snapshot(fleet.parent)
    _refused(run_cli("validate", fleet, "--report", f"json={fleet.parent / target}"), target.split("/")[-1],
             "input of this run")
    assert snapshot(fleet.parent) == before


def test_validate_refuses_a_path_inside_the_chart(fleet: Path, tmp_path: Path):
    chart = tmp_path / "chart"  # a copy: a failing test must not write into the repository's chart
    shutil.copytree(REPO / "charts" / "ray-aks", chart, ignore=shutil.ignore_patterns("charts"))
    fleet.write_text(fleet.read_text().replace(str(REPO / "charts" / "ray-aks"), str(chart)))
    before = snapshot(chart)
    for target in (chart / "report.json", chart / "templates" / "report.json", chart / "values.yaml"):
        _refused(run_cli("validate", fleet, "--report", f"json={target}"), str(target))
    assert snapshot(chart) == before


def test_refused_paths_are_checked_before_any_report_is_written(fleet: Path, tmp_path: Path):
    fine = tmp_path / "ok.json"
    _refused(run_cli("validate", fleet, "--report", f"json={fine}", "--report",
                     f"sarif={fleet.parent / 'values' / 'platform.yaml'}"))
    assert not fine.exists()


def test_a_symlinked_report_path_is_refused(fleet: Path, tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    _refused(run_cli("validate", fleet, "--report", f"json={link}"), "symlink")
    assert victim.read_text() == "keep\n"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "not-yet")
    _refused(run_cli("validate", fleet, "--report", f"json={dangling}"), "symlink")
    assert not (tmp_path / "not-yet").exists()


def test_a_hard_link_to_an_input_is_refused(fleet: Path, tmp_path: Path):
    alias = tmp_path / "alias.yaml"
    alias.hardlink_to(fleet.parent / "values" / "platform.yaml")
    _refused(run_cli("validate", fleet, "--report", f"json={alias}"), "input of this run")


def test_scan_refuses_a_report_inside_a_folder_it_reads(tmp_path: Path):
    folder = tmp_path / "manifests"
    folder.mkdir()
    manifest = folder / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    _refused(run_cli("scan", folder, "--report", f"json={folder / 'report.json'}"), "inside")
    _refused(run_cli("scan", manifest, "--report", f"junit={manifest}"), "input of this run")
    assert [p.name for p in folder.iterdir()] == ["cm.yaml"]


def test_quota_and_identity_refuse_inputs_too(fleet: Path):
    values = fleet.parent / "values" / "platform.yaml"
    before = values.read_bytes()
    _refused(run_cli("quota", fleet, "--report", f"json={values}"), "input of this run")
    _refused(run_cli("identity", "check", fleet, "--report", f"json={values}"), "input of this run")
    _refused(run_cli("preflight", fleet, "--report", f"json={values}"), "input of this run")
    _refused(run_cli("rollout", fleet, "--dry-run", "--report", f"json={values}"), "input of this run")
    assert values.read_bytes() == before


def test_an_ordinary_report_path_still_works(fleet: Path, tmp_path: Path):
    out = tmp_path / "report.json"
    result = run_cli("validate", fleet, "--region", "eastus2", "--report", f"json={out}")
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("{")
    # and an existing report is replaced, not refused
    assert run_cli("validate", fleet, "--region", "eastus2", "--report", f"json={out}").exit_code == 0


def test_status_out_and_save_refuse_inputs_and_symlinks(fleet: Path, tmp_path: Path):
    link = tmp_path / "view.html"
    link.symlink_to(tmp_path / "elsewhere.html")
    _refused(run_cli("status", fleet, "--out", link), "symlink")
    _refused(run_cli("status", fleet, "--save", fleet), "input of this run")
    assert not (tmp_path / "elsewhere.html").exists()


def test_identity_plan_out_does_not_write_through_a_symlink(fleet: Path, tmp_path: Path):
    out = tmp_path / "bicep"
    assert run_cli("identity", "plan", fleet, "--format", "bicep", "--out", out).exit_code in (0, 1)
    written = sorted(out.glob("*.bicep"))
    assert written
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    written[0].unlink()
    written[0].symlink_to(victim)
    _refused(run_cli("identity", "plan", fleet, "--format", "bicep", "--out", out), "symlink")
    assert victim.read_text() == "keep\n"
