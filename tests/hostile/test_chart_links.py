"""A chart symlink that leads out of the chart folder is refused before Helm loads the chart, so a
template cannot read the CI job's environment or credentials through it; Helm's Go log lines
("found symbolic link") never reach stderr (issue #12, item 10)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ..core.helpers import REPO, copy_example, run_cli

LEAK_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: leak
data:
  env: {{ .Files.Get "environ" | quote }}
"""
CANARY = "RAYFLEET_CANARY_SECRET=do-not-print-me-42"


@pytest.fixture
def fleet_with_chart(tmp_path: Path) -> tuple[Path, Path]:
    fleet = copy_example(tmp_path)
    chart = tmp_path / "chart"
    shutil.copytree(REPO / "charts" / "ray-aks", chart, symlinks=True)
    fleet.write_text(fleet.read_text().replace(str(REPO / "charts" / "ray-aks"), str(chart)))
    return fleet, chart


def _refused(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("target", ["/proc/self/environ", "../../../outside-secret.txt", "/etc"])
def test_a_link_out_of_the_chart_is_refused_by_every_command(fleet_with_chart, tmp_path: Path, monkeypatch,
                                                             target: str):
    fleet, chart = fleet_with_chart
    monkeypatch.setenv("RAYFLEET_CANARY", CANARY)
    (tmp_path / "outside-secret.txt").write_text(CANARY)
    (chart / "templates" / "leak.yaml").write_text(LEAK_TEMPLATE)
    link = chart / "environ" if target != "../../../outside-secret.txt" else chart / "templates" / "sub" / "environ"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(target)
    out = tmp_path / "rendered"
    for args in (["validate", fleet, "--report", "markdown"], ["render", fleet, "--region", "eastus2", "--out", out],
                 ["quota", fleet], ["plan", fleet]):
        result = run_cli(*args)
        _refused(result, str(link), "outside the chart")
        assert "do-not-print-me" not in result.output
    assert not out.exists()


def test_links_inside_the_chart_still_load_and_helm_stays_quiet(fleet_with_chart, capfd):
    fleet, chart = fleet_with_chart
    (chart / "files").mkdir()
    (chart / "files" / "defaults.yaml").symlink_to(os.path.relpath(chart / "values.yaml", chart / "files"))
    result = run_cli("validate", fleet, "--region", "eastus2")
    assert result.exit_code == 0, result.output
    captured = capfd.readouterr()
    assert "found symbolic link" not in captured.err + result.output
    assert "symbolic link" not in captured.err
