"""The rollout plan as JSON and text (report/plan.py) with an Anyscale operator release, at the
grid's natural width and one column narrower, and with the terminal's width as the default."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.plan import OperatorPlan, RegionPlan, format_command
from rayfleet.report.plan import format_plan_json, format_plan_text

from tests.capacity.builders import region, write_fleet


@pytest.fixture
def plans(tmp_path) -> list[RegionPlan]:
    fleet = load_fleet(write_fleet(tmp_path, [region("a", []), region("b", [])]))
    a, b = fleet.regions
    a = replace(a, cluster=replace(a.cluster, kube_context="ctx-a"), wave=1)
    b = replace(b, wave=2)
    operator = OperatorPlan(region=a, release="anyscale-operator", chart="charts/anyscale-operator",
                            version="1.2.3", namespace="anyscale", values_files=("v/op.yaml", "v/[op].yaml"))
    return [RegionPlan(a, "charts/ray-aks", ("v/a.yaml",), anyscale=operator), RegionPlan(b, "charts/ray-aks", ())]


def test_json_carries_the_operator_release(plans):
    a = plans[0]
    data = json.loads(format_plan_json(plans))
    assert data["regions"][0]["anyscale"] == {
        "release": "anyscale-operator", "namespace": "anyscale", "chart": "charts/anyscale-operator",
        "version": "1.2.3", "values": ["v/op.yaml", "v/[op].yaml"], "command": format_command(a.anyscale.command())}
    assert data["regions"][1]["anyscale"] is None and data["regions"][1]["values"] == []


def test_text_runs_the_operator_after_the_region(plans):
    a, b = plans
    lines = format_plan_text(plans, width=200).splitlines()
    start = lines.index("# wave 1: a")
    assert "'v/[op].yaml'" in format_command(a.anyscale.command())  # printed as written, not as markup
    assert lines[start:] == [
        "# wave 1: a", format_command(a.command()),
        "# then the Anyscale operator anyscale-operator (chart 1.2.3)", format_command(a.anyscale.command()),
        "# wave 2: b", format_command(b.command())]
    coloured = format_plan_text(plans, width=200, color=True)
    assert "\x1b[1m# then the Anyscale operator anyscale-operator " in coloured  # a bold heading


def _natural(plans) -> int:
    text = format_plan_text(plans, width=1000)
    return max(len(line) for line in text[:text.index("# wave")].splitlines())


def test_grid_at_its_natural_width_records_below_and_the_terminal_default(plans, monkeypatch):
    width = _natural(plans)
    grid = format_plan_text(plans, width=width).splitlines()
    assert grid[1].split() == ["wave", "region", "cluster", "context", "values", "(in", "order)"]
    assert grid[2].split() == ["1", "a", "aks-a", "ctx-a", "v/a.yaml"] and grid[3].split() == ["2", "b", "aks-b", "-"]
    stacked = [line.rstrip() for line in format_plan_text(plans, width=width - 1).splitlines()]
    assert stacked[:9] == ["rollout plan", "wave 1  a", "  cluster: aks-a", "  context: ctx-a", "  values:  v/a.yaml",
                           "wave 2  b", "  cluster: aks-b", "  context: -", "  values:"]
    monkeypatch.setenv("COLUMNS", str(width))
    assert format_plan_text(plans).splitlines()[:4] == grid[:4]
    monkeypatch.setenv("COLUMNS", str(width - 1))
    assert [line.rstrip() for line in format_plan_text(plans).splitlines()[:9]] == stacked[:9]


def test_brackets_in_paths_print_as_written_in_records_and_commands(plans):
    """A values file such as ``v/[eu].yaml`` is never read as rich markup where it is copied from."""
    a = replace(plans[1], values_files=("v/[eu].yaml", "v/[bold]x.yaml"))
    stacked = [line.rstrip() for line in format_plan_text([a], width=40).splitlines()]
    command = format_command(a.command())
    assert "'v/[eu].yaml'" in command
    # the records, then one blank line, then the command: nothing else between them
    assert stacked == ["rollout plan", "wave 2  b", "  cluster: aks-b", "  context: -",
                       "  values:  v/[eu].yaml, v/[bold]x.yaml", "", "# wave 2: b", command]
    assert command in format_plan_text([a], width=200).splitlines()


def test_brackets_in_paths_print_as_written_in_the_grid(plans):
    a = replace(plans[1], values_files=("v/[eu].yaml",))
    assert "v/[eu].yaml" in format_plan_text([a], width=200).split("# wave")[0]
