"""`rayfleet preflight` and `rayfleet rollout` in-process (the commands are invoked directly, so
these tests do not depend on their registration in rayfleet.cli)."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from rayfleet.cli.core import plan, validate
from rayfleet.cli.preflight import preflight
from rayfleet.cli.rollout import rollout

from tests.kube.conftest import REPO
from tests.kube.fake_kube import GPU_TAINT, aks_node

FLEET = str(REPO / "examples" / "fleet.yaml")


def _complete(fake_aks) -> None:
    fake_aks.clusters["swedencentral"].nodes.append(
        aks_node("aks-a100-1-vmss000000", "a100", "Standard_NC24ads_A100_v4", gpus=1, taints=[GPU_TAINT]))
    fake_aks.clusters["westus3"].git_version = "v1.32.6"
    fake_aks.clusters["westus3"].nodes.append(
        aks_node("aks-t4spot-1-vmss000000", "t4spot", "Standard_NC4as_T4_v3", gpus=1, spot=True, taints=[GPU_TAINT]))


def test_preflight_cli_healthy_fleet(fake_aks):
    _complete(fake_aks)
    result = CliRunner().invoke(preflight, [FLEET, "--kubeconfig", str(fake_aks.kubeconfig), "--report", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tool"]["command"] == "preflight"


def test_preflight_cli_findings_exit_1(fake_aks):
    result = CliRunner().invoke(preflight, [FLEET, "--region", "swedencentral", "--kubeconfig",
                                            str(fake_aks.kubeconfig), "--no-color"])
    assert result.exit_code == 1 and "preflight-gpu-nodes" in result.output


def test_preflight_cli_expired_credentials_exit_2(fake_aks):
    fake_aks.clusters["eastus2"].expired = True
    result = CliRunner().invoke(preflight, [FLEET, "--kubeconfig", str(fake_aks.kubeconfig)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("rayfleet: error: region eastus2:") and "401" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_rollout_dry_run_prints_the_plan(fake_aks, tmp_path):
    _complete(fake_aks)
    report = tmp_path / "rollout.json"
    result = CliRunner().invoke(rollout, [FLEET, "--dry-run", "--preflight", "--kubeconfig",
                                          str(fake_aks.kubeconfig), "--timeout", "120", "--report", f"json={report}",
                                          "--no-color"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "# wave 1" and lines[1].startswith("helm upgrade --install ray ")
    assert "--kube-context rayfleet-eus2" in lines[1] and "--timeout 120s" in lines[1]
    assert lines[2] == "# wave 2" and "rayfleet-sdc" in lines[3] and "rayfleet-wus3" in lines[4]
    assert lines[5] == "# wave 3" and "--kube-context rayfleet-manager" in lines[6]  # the MultiKueue manager
    data = json.loads(report.read_text())["data"]["rollout"]
    assert data["dryRun"] is True and data["status"] == "checked"
    assert [r["status"] for r in data["regions"]] == ["checked"] * 4


def test_rollout_dry_run_with_a_blocked_region_exits_1(fake_aks):
    result = CliRunner().invoke(rollout, [FLEET, "--dry-run", "--preflight", "--kubeconfig",
                                          str(fake_aks.kubeconfig), "--no-color"])
    assert result.exit_code == 1 and "blocked" in result.output


def test_rollout_dry_run_is_offline_and_prints_what_plan_prints(tmp_path, monkeypatch):
    """No kube context, no kubeconfig, no helm: the waves and the exact commands `plan` prints,
    and the object counts `validate` shows."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm binary either
    report = tmp_path / "rollout.json"
    result = CliRunner().invoke(rollout, [FLEET, "--dry-run", "--report", f"json={report}", "--no-color"])
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    data = document["data"]["rollout"]
    assert data["status"] == "planned" and [r["status"] for r in data["regions"]] == ["planned"] * 4
    assert all(r["steps"][0]["status"] == "skipped" for r in data["regions"])
    validated = json.loads(CliRunner().invoke(validate, [FLEET, "--report", "json"]).output)
    assert {r["name"]: r["objects"] for r in document["regions"]} == \
        {r["name"]: r["objects"] for r in validated["regions"]}
    assert all(r["objects"] > 0 for r in document["regions"])
    planned = json.loads(CliRunner().invoke(plan, [FLEET, "--format", "json", "--no-capacity"]).output)
    printed = [line for line in result.stdout.splitlines() if line.startswith("helm ")]
    assert printed == [r["command"] for r in planned["regions"]]
    assert printed == [r["helmCommand"] for r in validated["regions"]]
    assert all("--atomic --wait --timeout 600s" in line for line in printed)
    table = result.stdout[result.stdout.index("rollout plan (dry run): planned"):]
    counts = {r["objects"] for r in document["regions"]}
    assert "objects" in table and all(f" {count} " in table for count in counts)
    assert "crds" in table  # the server-side CRD step has its column


@pytest.mark.skipif(shutil.which("helm") is not None, reason="helm is installed here")
def test_rollout_without_helm_is_a_usage_error(fake_aks):
    result = CliRunner().invoke(rollout, [FLEET, "--kubeconfig", str(fake_aks.kubeconfig)])
    assert result.exit_code == 2 and "helm binary 'helm' not found" in result.output


@pytest.mark.parametrize("columns", ["80", "200"])
def test_dry_run_summary_keeps_names_whole_at_any_width(tmp_path, monkeypatch, columns):
    """A table when it fits the terminal, stacked records when it does not; never a cut name."""
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    result = CliRunner().invoke(rollout, [FLEET, "--dry-run", "--no-color"])
    assert result.exit_code == 0, result.output
    summary = result.stdout[result.stdout.index("rollout plan (dry run): planned"):]
    assert "…" not in summary and "rayfleet-manager" in summary and "readiness" in summary
    assert max(len(line) for line in summary.splitlines()) <= int(columns)
    assert ("wave 3 · manager" in summary) == (columns == "80")


# --- the plan as JSON and text (report/plan.py), on plans written here

def _plans_for_report(tmp_path):
    from dataclasses import replace

    from rayfleet.fleet import load_fleet
    from rayfleet.plan import RegionPlan

    from tests.capacity.builders import region, write_fleet

    fleet = load_fleet(write_fleet(tmp_path, [region("a", [], peers=["b"]), region("b", [])]))
    a, b = fleet.regions
    a = replace(a, cluster=replace(a.cluster, kube_context="ctx-a"), wave=1)
    b = replace(b, wave=2)
    return [RegionPlan(a, "charts/ray-aks", ("values/shared.yaml", "values/a.yaml"), timeout=300),
            RegionPlan(b, "charts/ray-aks", ("values/shared.yaml",))]


def test_format_plan_json_every_field(tmp_path):
    from rayfleet.plan import format_command
    from rayfleet.report.plan import format_plan_json

    plans = _plans_for_report(tmp_path)
    text = format_plan_json(plans)
    assert text.startswith('{\n  "regions": [') and text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == ["regions"]  # no capacity table given: no capacity key
    assert data["regions"][0] == {
        "region": "a", "location": "a", "wave": 1, "cluster": "aks-a", "kubeContext": "ctx-a", "release": "ray",
        "namespace": "ray", "values": ["values/shared.yaml", "values/a.yaml"],
        "command": format_command(plans[0].command()), "anyscale": None, "failoverPeers": ["b"]}
    assert "--timeout 300s" in data["regions"][0]["command"]
    assert data["regions"][1]["kubeContext"] is None and data["regions"][1]["failoverPeers"] == []
    from rayfleet.capacity.table import CapacityTable
    with_capacity = json.loads(format_plan_json(plans, CapacityTable((), (), (), "live")))
    assert with_capacity["capacity"] == {"quotaSource": "live", "rows": [], "totals": [], "notes": []}


def test_format_plan_text_table_then_commands(tmp_path):
    from rayfleet.capacity.table import CapacityTable
    from rayfleet.plan import format_command
    from rayfleet.report.plan import format_plan_text

    plans = _plans_for_report(tmp_path)
    lines = format_plan_text(plans, width=120).splitlines()
    assert lines[0].rstrip() == "rollout plan"
    assert lines[1].split() == ["wave", "region", "cluster", "context", "values", "(in", "order)"]
    assert lines[1].startswith("wave ")  # flush left
    assert lines[2].split() == ["1", "a", "aks-a", "ctx-a", "values/shared.yaml"]
    assert lines[3].strip() == "values/a.yaml"  # one values file per line, in order
    assert lines[4].split() == ["2", "b", "aks-b", "-", "values/shared.yaml"]
    assert lines[5:10] == ["", "# wave 1: a", format_command(plans[0].command()), "# wave 2: b",
                           format_command(plans[1].command())]
    # narrow: records, and the commands are still whole lines
    narrow = format_plan_text(plans, width=40).splitlines()
    assert narrow[:5] == ["rollout plan", "wave 1  a", "  cluster: aks-a", "  context: ctx-a",
                          "  values:  values/shared.yaml,"]
    assert format_command(plans[0].command()) in narrow
    assert "  context: -" in narrow
    with_capacity = format_plan_text(plans, CapacityTable((), (), ("n1",), "live"), width=120)
    assert "\nGPU capacity (quota: live)" in with_capacity and with_capacity.rstrip().endswith("note: n1")
    coloured = format_plan_text(plans, width=120, color=True).splitlines()
    assert next(line for line in coloured if "# wave" in line).startswith("\x1b[1m# wave")  # bold headings


def test_narrow_summary_shows_the_same_steps_as_the_table(tmp_path, monkeypatch):
    """The stacked records come from the table's own rows: the Anyscale step shows in both."""
    hybrid = str(REPO / "examples" / "hybrid" / "fleet.yaml")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    outputs = {}
    for columns in ("80", "250"):
        monkeypatch.setenv("COLUMNS", columns)
        result = CliRunner().invoke(rollout, [hybrid, "--dry-run", "--no-color"])
        assert result.exit_code == 0, result.output
        outputs[columns] = result.stdout[result.stdout.index("rollout plan (dry run): planned"):]
    assert "wave 1 · swedencentral" in outputs["80"] and "anyscale -" in outputs["80"]
    assert "anyscale" in outputs["250"] and "wave 1 · swedencentral" not in outputs["250"]
