"""kueue-worker-quota-fit beyond its fixture: the failover share a worker hosts for a lost peer comes
out of the queue's headroom (the family quota and the regional quota each binding in turn), the
headroom at, below and above the queue's nodes, and policy.failover n+1 making the warning an error.

The fleets are the fixture's pass fleet (manager + eastus2 + westus3, H100 workers of 40 vCPUs and
1 GPU each; westus3's own RayCluster reaches 2 nodes and its queue asks for 2 GPUs = 2 nodes), with
the quotas and failover peers changed per case."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from rayfleet.findings import ObjectRef, Severity
from rayfleet.policies import kueue_worker_quota_fit as policy

from .fixturekit import FIXTURES, run_fleet_fixture

PASS = FIXTURES / "kueue-worker-quota-fit" / "pass"
QUEUE = ObjectRef("kueue.x-k8s.io/v1beta2", "ClusterQueue", None, "ray-gpu")
GPU_PATH = "spec.resourceGroups[0].flavors[0].resources[2].nominalQuota"
BUCKET = "StandardNCadsH100v5Family and total regional vCPU quota"


def run(tmp_path: Path, *, westus3_quota: dict | None, eastus2_peers: list[str] | None = None,
        failover: str = "best-effort", westus3_gpus: int | None = None, westus3_peers: list[str] | None = None,
        spot: bool = False, group: str = "h100"):
    case = tmp_path / "case"
    shutil.copytree(PASS, case)
    fleet = yaml.safe_load((case / "fleet.yaml").read_text())
    fleet["policy"]["failover"] = failover
    fleet["chart"] = str(Path(__file__).resolve().parents[2] / "charts" / "ray-aks")
    regions = {r["name"]: r for r in fleet["regions"]}
    if westus3_quota is None:
        del regions["westus3"]["quota"]
    else:
        regions["westus3"]["quota"] = westus3_quota
    if eastus2_peers:
        regions["eastus2"]["failoverPeers"] = eastus2_peers
    if westus3_peers:
        regions["westus3"]["failoverPeers"] = westus3_peers
    (case / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    for name in ("westus3.yaml", "eastus2.yaml"):
        text = (case / name).read_text().replace("- groupName: h100", f"- groupName: {group}")
        if spot:  # the RayClusters' GPU groups on Spot pools (the flavors are not this policy's business)
            text = text.replace("        nodeSelector:\n",
                                "        nodeSelector:\n          kubernetes.azure.com/scalesetpriority: spot\n")
        (case / name).write_text(text)
    if westus3_gpus is not None:
        text = (case / "westus3.yaml").read_text()
        (case / "westus3.yaml").write_text(text.replace("nvidia.com/gpu\n        nominalQuota: 2",
                                                        f"nvidia.com/gpu\n        nominalQuota: {westus3_gpus}"))
    return [f for f in run_fleet_fixture(policy.POLICY, tmp_path, "case") if f.region == "westus3"]


def headroom_message(gpus: int, room: int, hosts: str | None, bucket: str = BUCKET) -> str:
    besides = "the release's own RayCluster at its max (2 nodes of the group)"
    if hosts:
        besides += f" and the failover share it hosts for {hosts}"
    return (f"ClusterQueue ray-gpu flavor 'h100': nvidia.com/gpu nominalQuota {gpus} needs {gpus} x "
            f"Standard_NC40ads_H100_v5 ({gpus * 40} vCPUs); besides {besides} the {bucket} leaves room for "
            f"{room} nodes: at full load the queue's jobs wait for nodes")


def only(findings, line: int = 65):
    """The one westus3 finding, on the queue's GPU quota (line 65; 66 with the spot label added above)."""
    [f] = findings
    assert (f.policy, f.region, f.obj, f.path) == ("kueue-worker-quota-fit", "westus3", QUEUE, GPU_PATH)
    assert f.source.file.endswith("westus3.yaml") and f.source.line == line
    return f


# Without failover: the own RayCluster's 2 nodes (80 vCPUs; 84 of the regional quota with its 4-CPU
# head) come off; the queue's 2 nodes need 80 more.
@pytest.mark.parametrize(("quota", "room"), [
    ({"families": {"StandardNCadsH100v5Family": 160}, "regionalVCpus": 1000}, None),  # family: at the limit
    ({"families": {"StandardNCadsH100v5Family": 159}, "regionalVCpus": 1000}, 1),  # one vCPU below
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 164}, None),  # regional: at the limit
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 163}, 1),  # 79 spare
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 123}, 0),  # 39 spare: no node
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 84}, 0),  # nothing spare
])
def test_headroom_at_and_below_the_queues_nodes(tmp_path, quota, room) -> None:
    findings = run(tmp_path, westus3_quota=quota)
    if room is None:
        assert findings == []
    else:
        f = only(findings)
        assert (f.severity, f.message) == (Severity.WARNING, headroom_message(2, room, None))


# eastus2 (4 H100 nodes at most) fails over to westus3, which takes what its spare quota holds.
@pytest.mark.parametrize(("quota", "room"), [
    # family binds: 160 - 80 own = 80 spare, eastus2 places 2 nodes there, 0 left for the queue
    ({"families": {"StandardNCadsH100v5Family": 160}, "regionalVCpus": 1000}, 0),
    # regional binds (84 own): 244 - 84 = 160 spare, eastus2 places its 4 nodes there, 0 left
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 244}, 0),
    # 200 regional: 116 spare, 2 nodes placed (80 vCPUs), 36 left: no node
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 200}, 0),
    # 284 regional: 200 spare, eastus2's 4 nodes take 160, 40 left: 1 node for a 2-node queue
    ({"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 284}, 1),
])
def test_the_failover_share_a_worker_hosts_comes_out_of_the_headroom(tmp_path, quota, room) -> None:
    f = only(run(tmp_path, westus3_quota=quota, eastus2_peers=["westus3"]))
    assert (f.severity, f.message) == (Severity.WARNING, headroom_message(2, room, "eastus2"))


def test_enough_quota_for_the_queue_and_the_failover_share_passes(tmp_path) -> None:
    # 324 regional: 240 spare, 160 for eastus2's nodes, 80 (2 nodes) for the queue: exactly enough.
    quota = {"families": {"StandardNCadsH100v5Family": 1000}, "regionalVCpus": 324}
    assert run(tmp_path, westus3_quota=quota, eastus2_peers=["westus3"]) == []


def test_under_n_plus_1_the_headroom_finding_is_an_error(tmp_path) -> None:
    quota = {"families": {"StandardNCadsH100v5Family": 160}, "regionalVCpus": 1000}
    f = only(run(tmp_path, westus3_quota=quota, eastus2_peers=["westus3"], failover="n+1"))
    assert (f.severity, f.message) == (Severity.ERROR, headroom_message(2, 0, "eastus2"))


def test_failing_over_to_a_peer_takes_nothing_from_ones_own_headroom(tmp_path) -> None:
    # westus3 fails over to eastus2 (not the other way round): westus3 hosts nothing, at the limit passes.
    quota = {"families": {"StandardNCadsH100v5Family": 160}, "regionalVCpus": 1000}
    case = run(tmp_path, westus3_quota=quota, westus3_peers=["eastus2"])
    assert case == []


def test_beyond_the_whole_quota_is_the_hard_error(tmp_path) -> None:
    # 4 GPUs = 4 nodes = 160 vCPUs against a family quota of 159: 3 nodes at most, whatever else runs.
    quota = {"families": {"StandardNCadsH100v5Family": 159}, "regionalVCpus": 1000}
    f = only(run(tmp_path, westus3_quota=quota, westus3_gpus=4))
    assert f.severity is Severity.ERROR
    assert f.message == ("ClusterQueue ray-gpu flavor 'h100': nvidia.com/gpu nominalQuota 4 needs 4 x "
                         f"Standard_NC40ads_H100_v5 (160 vCPUs) but the region's {BUCKET} holds 3 nodes: Kueue "
                         "would admit jobs whose nodes Azure never provisions")


def test_a_worker_without_a_quota_is_not_judged(tmp_path) -> None:
    findings = run(tmp_path, westus3_quota=None)
    assert findings == []


def test_a_queue_flavor_without_a_gpu_group_of_its_name_is_left_to_the_flavor_policy(tmp_path) -> None:
    # The worker groups are renamed: the queue's 'h100' flavor has no group to size nodes from.
    quota = {"families": {"StandardNCadsH100v5Family": 40}, "regionalVCpus": 1000}
    assert run(tmp_path, westus3_quota=quota, group="h100-renamed") == []


SPOT_BUCKET = "spot vCPU quota"


@pytest.mark.parametrize(("spot_vcpus", "room"), [(160, None), (159, 1), (161, None), (80, 0)])
def test_spot_headroom_at_below_and_above_the_queues_nodes(tmp_path, spot_vcpus, room) -> None:
    # A Spot group's nodes count against the spot quota only: 80 of it for the RayCluster's 2 nodes.
    quota = {"families": {"StandardNCadsH100v5Family": 0}, "regionalVCpus": 0, "spotVCpus": spot_vcpus}
    findings = run(tmp_path, westus3_quota=quota, spot=True)
    if room is None:
        assert findings == []
    else:
        f = only(findings, 66)
        assert (f.severity, f.message) == (Severity.WARNING, headroom_message(2, room, None, SPOT_BUCKET))


def test_a_spot_failover_share_comes_out_of_the_spot_headroom(tmp_path) -> None:
    # 240 spot vCPUs: 80 own, eastus2's 4 Spot nodes take the other 160, none left for the queue.
    quota = {"families": {}, "regionalVCpus": 1000, "spotVCpus": 240}
    f = only(run(tmp_path, westus3_quota=quota, spot=True, eastus2_peers=["westus3"]), 66)
    assert (f.severity, f.message) == (Severity.WARNING, headroom_message(2, 0, "eastus2", SPOT_BUCKET))
