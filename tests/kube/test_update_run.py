"""The Fleet Manager update-run driver against a fake hub and fake member clusters, through the
real kubernetes client: a run that progresses, stages held until rayfleet's checks pass, a
failed stage, a run abandoned when a member leaves mid-run, and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rayfleet.commands.fleet_manager import HubApi, LiveStageGate, drive_update_run, helmrelease_ready
from rayfleet.delivery.fleet_manager import stages
from rayfleet.delivery.settings import require_delivery
from rayfleet.fleet import Fleet

from tests.kube.conftest import CONTEXTS
from tests.kube.fake_kube import (
    FakeCluster,
    FakeHub,
    RecordingGate,
    helmrelease,
    member_cluster,
    raycluster,
    write_kubeconfig,
)
from tests.support.https_server import HttpsServer

HUB_CONTEXT = "rayfleet-hub"


@dataclass
class Fakes:
    server: HttpsServer
    hub: FakeHub
    clusters: dict[str, FakeCluster]
    kubeconfig: Path


@pytest.fixture
def fakes(tmp_path: Path, example: Fleet) -> Iterator[Fakes]:
    with HttpsServer() as server:
        clusters = {region: FakeCluster(prefix=f"/{region}").serve(server) for region in CONTEXTS}
        hub = FakeHub(members=[member_cluster(r.member_name, r.location) for r in example.regions],
                      stages=[(s.name, s.members) for s in stages(example.regions)], prefix="/hub").serve(server)
        contexts = {ctx: (f"{server.url}/{region}", server.ca_path) for region, ctx in CONTEXTS.items()}
        contexts[HUB_CONTEXT] = (f"{server.url}/hub", server.ca_path)
        yield Fakes(server, hub, clusters, write_kubeconfig(tmp_path / "kubeconfig", contexts))


def _drive(example: Fleet, fakes: Fakes, gate, **kwargs):
    with HubApi.connect(example, HUB_CONTEXT, fakes.kubeconfig) as hub:
        return drive_update_run(example, require_delivery(example), hub, gate, poll_interval=0, timeout=30,
                                **kwargs)


def _approved(hub: FakeHub) -> list[str]:
    return sorted(name for name, a in hub.approvals.items()
                  if any(c["type"] == "Approved" and c["status"] == "True"
                         for c in (a.get("status") or {}).get("conditions") or []))


def test_a_run_progresses_stage_by_stage_and_succeeds(example, fakes):
    gate = RecordingGate()
    report = _drive(example, fakes, gate)
    assert report.status == "succeeded", report.message
    assert report.run == "rayfleet-3" and report.snapshot == "3"
    run = fakes.hub.runs["rayfleet-3"]
    assert run["spec"] == {"placementName": "rayfleet", "resourceSnapshotIndex": "3",
                           "stagedRolloutStrategyName": "rayfleet-waves", "state": "Run"}
    # every stage approved, canary first, each only after its own regions were checked
    assert _approved(fakes.hub) == ["rayfleet-3-after-wave1", "rayfleet-3-after-wave2", "rayfleet-3-after-wave3"]
    assert gate.checked == ["eastus2", "swedencentral", "westus3", "manager"]  # wave 3: the MultiKueue manager
    assert [s.status for s in report.stages] == ["succeeded", "succeeded", "succeeded"]
    # approvals are status patches (merge patch) for the request's generation
    status_patches = [p for ctype, p in fakes.hub.patches if "status" in p]
    assert all(p["status"]["conditions"][0]["observedGeneration"] == 1 for p in status_patches)
    assert all(ctype == "application/merge-patch+json" for ctype, _ in fakes.hub.patches)


def test_a_stage_waits_for_approval_until_the_checks_pass(example, fakes):
    gate = RecordingGate(failing={"swedencentral": "RayCluster ray-ray-cluster: state (none); HeadPodReady=False"})
    report = _drive(example, fakes, gate)
    assert report.status == "failed"
    assert report.stopped_at == {"stage": "wave2", "region": "swedencentral",
                                 "reason": "RayCluster ray-ray-cluster: state (none); HeadPodReady=False"}
    # wave1 was approved; wave2's request exists but was never approved; the run was stopped
    assert _approved(fakes.hub) == ["rayfleet-3-after-wave1"]
    assert "rayfleet-3-after-wave2" in fakes.hub.approvals
    assert fakes.hub.runs["rayfleet-3"]["spec"]["state"] == "Stop"
    assert gate.checked == ["eastus2", "swedencentral"]  # westus3 is not checked once the stage failed


def test_a_cluster_that_fails_to_apply_fails_the_run_and_names_the_region(example, fakes):
    fakes.hub.fail_members = {"rayfleet-wus3"}
    report = _drive(example, fakes, RecordingGate())
    assert report.status == "failed"
    assert report.stopped_at["stage"] == "wave2" and report.stopped_at["region"] == "westus3"
    assert "rayfleet-wus3" in report.message
    assert _approved(fakes.hub) == ["rayfleet-3-after-wave1"]


def test_a_member_removed_mid_run_aborts_it(example, fakes):
    fakes.hub.remove_member = ("rayfleet-sdc", 1)
    report = _drive(example, fakes, RecordingGate())
    assert report.status == "aborted"
    assert "has changed" in report.message
    assert report.stopped_at["stage"] == "wave2"
    assert "rayfleet-sdc" not in [m["metadata"]["name"] for m in fakes.hub.members]


def test_members_that_do_not_match_refuse_the_run(example, fakes):
    fakes.hub.members = [m for m in fakes.hub.members if m["metadata"]["name"] != "rayfleet-wus3"]
    fakes.hub.members[0]["metadata"]["labels"]["fleet.azure.com/location"] = "westeurope"
    report = _drive(example, fakes, RecordingGate())
    assert report.status == "refused" and fakes.hub.runs == {}
    messages = sorted(f.message for f in report.findings)
    assert messages == ["region 'eastus2' is in eastus2 but member rayfleet-eus2 is labelled "
                        "fleet.azure.com/location=westeurope",
                        "region 'westus3': the hub has no MemberCluster 'rayfleet-wus3'"]
    assert {f.policy for f in report.findings} == {"fleet-members-match"}


def test_no_snapshot_or_no_placement_refuses(example, fakes):
    fakes.hub.snapshot_index = None
    assert _drive(example, fakes, RecordingGate()).status == "refused"
    fakes.hub.snapshot_index, fakes.hub.placement = "3", "other"
    report = _drive(example, fakes, RecordingGate())
    assert report.status == "refused" and "export fleet-manager" in report.message


def test_an_existing_run_is_resumed_not_recreated(example, fakes):
    gate = RecordingGate()
    first = _drive(example, fakes, RecordingGate(failing={"eastus2": "not ready"}))
    assert first.status == "failed"
    # the stopped run stays; a second rollout watches it instead of creating a duplicate (409)
    second = _drive(example, fakes, gate)
    assert second.status == "stopped" and list(fakes.hub.runs) == ["rayfleet-3"]


def test_live_stage_gate_reads_helmrelease_and_raycluster_on_the_member(example, releases, fakes):
    region = example.region("eastus2")
    cluster = fakes.clusters["eastus2"]
    cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2")
    cluster.set_raycluster(raycluster("ray-ray-cluster", head_ready="True", provisioned="True", state="ready"))
    gate = LiveStageGate(example, releases, kubeconfig=str(fakes.kubeconfig), timeout=5, poll_interval=0)
    assert gate.check(region).ok
    cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2", ready="False")
    check = LiveStageGate(example, releases, kubeconfig=str(fakes.kubeconfig), timeout=0.2,
                          poll_interval=0.05).check(region)
    assert not check.ok and check.message.startswith("HelmRelease ray: Ready=False")
    cluster.helmreleases.clear()
    check = LiveStageGate(example, releases, kubeconfig=str(fakes.kubeconfig), timeout=0.2,
                          poll_interval=0.05).check(region)
    assert not check.ok and "not been applied" in check.message


def test_live_stage_gate_waits_for_the_anyscale_operator_helmrelease_too(example, releases, fakes):
    from dataclasses import replace

    from rayfleet.fleet import AnyscaleOperator

    operator = AnyscaleOperator(Path("charts/anyscale-operator"), "1.8.0", (), "anyscale-operator", "anyscale")
    region = replace(example.region("eastus2"), anyscale=operator)
    cluster = fakes.clusters["eastus2"]
    cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2")
    cluster.set_raycluster(raycluster("ray-ray-cluster", head_ready="True", provisioned="True", state="ready"))
    check = LiveStageGate(example, releases, kubeconfig=str(fakes.kubeconfig), timeout=0.2,
                          poll_interval=0.05).check(region)
    assert not check.ok and check.message == "HelmRelease anyscale-operator: the HelmRelease has not been applied yet"
    cluster.helmreleases[("rayfleet-eastus2", "anyscale-operator")] = helmrelease("anyscale-operator",
                                                                                  "rayfleet-eastus2")
    assert LiveStageGate(example, releases, kubeconfig=str(fakes.kubeconfig), timeout=5,
                         poll_interval=0).check(region).ok


def test_live_stage_gate_stops_at_preflight(example, releases, fakes):
    fakes.clusters["eastus2"].csi_driver = None
    check = LiveStageGate(example, releases, kubeconfig=str(fakes.kubeconfig), timeout=1).check(
        example.region("eastus2"))
    assert not check.ok and check.message.startswith("preflight:")


def test_helmrelease_ready_reads_generation_and_condition():
    assert helmrelease_ready(helmrelease("ray", "ns")) == (True, "")
    assert not helmrelease_ready(helmrelease("ray", "ns", generation=2, observed=1))[0]
    assert not helmrelease_ready(helmrelease("ray", "ns", observed=None))[0]
    assert not helmrelease_ready(None)[0]


# --- the commands ----------------------------------------------------------------------------------

FLEET = str(Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml")


def _ready_members(example: Fleet, fakes: Fakes) -> None:
    """Every member healthy: the GPU pools preflight wants, Flux's HelmRelease and the RayCluster ready."""
    from tests.kube.fake_kube import GPU_TAINT, aks_node

    fakes.clusters["swedencentral"].nodes.append(
        aks_node("aks-a100-1-vmss000000", "a100", "Standard_NC24ads_A100_v4", gpus=1, taints=[GPU_TAINT]))
    fakes.clusters["westus3"].git_version = "v1.32.6"
    fakes.clusters["westus3"].nodes.append(
        aks_node("aks-t4spot-1-vmss000000", "t4spot", "Standard_NC4as_T4_v3", gpus=1, spot=True, taints=[GPU_TAINT]))
    for region in example.regions:
        cluster = fakes.clusters[region.name]
        cluster.helmreleases[(f"rayfleet-{region.name}", "ray")] = helmrelease("ray", f"rayfleet-{region.name}")
        cluster.set_raycluster(raycluster("ray-ray-cluster", head_ready="True", provisioned="True", state="ready"))


def test_rollout_engine_fleet_manager_end_to_end(example, fakes, tmp_path):
    import json

    from click.testing import CliRunner
    from rayfleet.cli.rollout import rollout

    _ready_members(example, fakes)
    report = tmp_path / "rollout.json"
    result = CliRunner().invoke(rollout, [FLEET, "--engine", "fleet-manager", "--kubeconfig", str(fakes.kubeconfig),
                                          "--no-color", "--timeout", "5", "--poll-interval", "0",
                                          "--report", f"json={report}"])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())["data"]["rollout"]
    assert data["status"] == "succeeded" and data["run"] == "rayfleet-3"
    assert [(s["name"], s["status"], [c["region"] for c in s["checks"]]) for s in data["stages"]] == [
        ("wave1", "succeeded", ["eastus2"]), ("wave2", "succeeded", ["swedencentral", "westus3"]),
        ("wave3", "succeeded", ["manager"])]
    assert _approved(fakes.hub) == ["rayfleet-3-after-wave1", "rayfleet-3-after-wave2", "rayfleet-3-after-wave3"]


def test_rollout_engine_fleet_manager_stops_where_readiness_fails(example, fakes):
    from click.testing import CliRunner
    from rayfleet.cli.rollout import rollout

    _ready_members(example, fakes)
    fakes.clusters["westus3"].set_raycluster(raycluster("ray-ray-cluster", head_ready="False", provisioned="False"))
    result = CliRunner().invoke(rollout, [FLEET, "--engine", "fleet-manager", "--kubeconfig", str(fakes.kubeconfig),
                                          "--no-color", "--timeout", "1", "--poll-interval", "0"])
    assert result.exit_code == 1
    assert "stage wave2 failed rayfleet's checks in westus3" in result.output
    assert fakes.hub.runs["rayfleet-3"]["spec"]["state"] == "Stop"
    assert _approved(fakes.hub) == ["rayfleet-3-after-wave1"]


def test_export_fleet_manager_live_checks_the_hub_members(example, fakes, tmp_path):
    from click.testing import CliRunner
    from rayfleet.cli.export import export

    args = ["fleet-manager", FLEET, "--out", str(tmp_path / "hub"), "--live", "--kubeconfig", str(fakes.kubeconfig)]
    result = CliRunner().invoke(export, args)
    assert result.exit_code == 0, result.output
    fakes.hub.members[1]["status"]["conditions"][1]["status"] = "False"
    result = CliRunner().invoke(export, args)
    assert result.exit_code == 1
    # The text report wraps findings to the terminal: compare with the whitespace folded.
    assert "member rayfleet-sdc of region 'swedencentral' is leaving or has left the fleet" in \
        " ".join(result.output.split())
    # an unreachable hub is a one-line error, exit 2
    result = CliRunner().invoke(export, [*args[:-1], str(tmp_path / "missing-kubeconfig")])
    assert result.exit_code == 2 and "Traceback" not in result.output
