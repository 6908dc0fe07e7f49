"""Capacity model edges: replica counts without maxReplicas, requests exactly at a node's size,
a family quota of 0, unknown VM sizes, and where a quota finding points in the fleet file."""

from __future__ import annotations

import pytest
from rayfleet.capacity import quota_breaches, region_demand
from rayfleet.fleet import Quota
from rayfleet.policies import get_policy
from rayfleet.report.capacity import row_to_dict
from rayfleet.wellknown import KUBERAY_UNBOUNDED

from tests.capacity.builders import build, group, ray_cluster, region, write_fleet

H100 = "Standard_NC40ads_H100_v5"  # 40 vCPUs, 1 GPU, 320 GiB
H100_FAMILY = "StandardNCadsH100v5Family"
D16 = "Standard_D16ds_v5"  # 16 vCPUs, 64 GiB


def demand_of(tmp_path, groups, **kwargs):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", groups, **kwargs)])])
    return {g.group: g for g in region_demand(view.releases["eastus2"]).groups}


@pytest.mark.parametrize(("fields", "autoscaling", "pods", "unbounded"), [
    ({"replicas": 1, "minReplicas": 3}, False, 3, False),   # minReplicas above replicas, no maxReplicas
    ({"replicas": 3, "minReplicas": 1}, False, 3, False),
    ({"replicas": 1, "minReplicas": 3}, True, 3, True),     # the autoscaler could go further
    ({"replicas": 2, "minReplicas": 0, "numOfHosts": 2}, False, 4, False),
    ({"minReplicas": 0}, False, 0, False),
])
def test_pods_without_max_replicas(tmp_path, fields, autoscaling, pods, unbounded):
    demand = demand_of(tmp_path, [group("w", D16, cpu="16", memory="8Gi", max_replicas=None, **fields)],
                       autoscaling=autoscaling)["w"]
    assert (demand.max_pods, demand.unbounded) == (pods, unbounded)
    assert demand.nodes == pods and demand.vcpus == 16 * pods


@pytest.mark.parametrize(("max_replicas", "pods", "unbounded"), [
    (KUBERAY_UNBOUNDED - 1, KUBERAY_UNBOUNDED - 1, False),
    (KUBERAY_UNBOUNDED, 2, True),  # KubeRay's default: not a bound; replicas/minReplicas count
    (0, 0, False),
    (-1, 0, False),
])
def test_max_replicas_bounds(tmp_path, max_replicas, pods, unbounded):
    demand = demand_of(tmp_path, [group("w", D16, cpu="16", memory="8Gi", max_replicas=max_replicas,
                                        replicas=2)])["w"]
    assert (demand.max_pods, demand.unbounded) == (pods, unbounded)


@pytest.mark.parametrize(("cpu", "memory", "per_node", "problem"), [
    ("16", "8Gi", 1, None),                    # exactly the node's vCPUs
    ("8", "8Gi", 2, None),
    ("15", "8Gi", 1, None),
    ("17", "8Gi", 1, "asks for 17 CPUs per pod but Standard_D16ds_v5 has 16 vCPUs"),
    ("1", "64Gi", 1, None),                    # exactly the node's memory
    ("1", "32Gi", 2, None),
    ("1", "65Gi", 1, "asks for 65 GiB per pod but Standard_D16ds_v5 has 64 GiB"),
    ("0.5", "1Gi", 32, None),
])
def test_pods_per_node_at_the_node_size(tmp_path, cpu, memory, per_node, problem):
    demand = demand_of(tmp_path, [group("w", D16, cpu=cpu, memory=memory, max_replicas=4)])["w"]
    assert (demand.pods_per_node, demand.problem) == (per_node, problem)
    assert demand.nodes == -(-4 // per_node)


@pytest.mark.parametrize(("gpus", "problem"), [(1, None), (2, "asks for 2 GPUs per pod but "
                                                                "Standard_NC40ads_H100_v5 has 1")])
def test_gpus_per_pod_at_the_node_size(tmp_path, gpus, problem):
    demand = demand_of(tmp_path, [group("g", H100, gpus=gpus, cpu="8", max_replicas=3)])["g"]
    assert demand.problem == problem and demand.gpus_per_pod == gpus


@pytest.mark.parametrize(("limit", "breached"), [(0, True), (39, True), (40, False), (41, False)])
def test_family_quota_at_below_and_above_demand(tmp_path, limit, breached):
    groups = [group("h", H100, gpus=1, cpu="36", max_replicas=1)]
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", groups)])])
    demand = region_demand(view.releases["eastus2"])
    breaches = quota_breaches(demand, Quota({H100_FAMILY: limit}))
    regional = [(g.group, g.vcpus) for g in demand.groups]
    assert regional == [("head", 4), ("h", 40)]  # the head selects no size: its CPUs, in no family
    assert bool(breaches) is breached
    if breached:
        [breach] = breaches
        assert (breach.demand, breach.quota, breach.excess) == (40, limit, 40 - limit)
        quota_text = "no quota (0 vCPUs)" if limit == 0 else f"the quota of {limit}"
        assert breach.message.endswith(f"exceed {quota_text} by {40 - limit}")


@pytest.mark.parametrize(("quota", "key_line"), [
    ({"families": {H100_FAMILY: 10}}, f"{H100_FAMILY}: 10"),
    ({"families": {"Standard NCads H100 v5 Family": 10}}, "Standard NCads H100 v5 Family: 10"),
    ({"families": {H100_FAMILY: 1000}, "regionalVCpus": 20}, "regionalVCpus: 20"),
    ({"families": {}, "spotVCpus": 20}, "spotVCpus: 20"),
])
def test_quota_finding_points_at_the_quota_line(tmp_path, quota, key_line):
    spot = "spotVCpus" in quota
    path = write_fleet(tmp_path, [
        region("westus3", [ray_cluster("ray", [])]),
        region("eastus2", [ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=1, spot=spot)])],
               quota=quota)])
    view = build(tmp_path, [
        region("westus3", [ray_cluster("ray", [])]),
        region("eastus2", [ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=1, spot=spot)])],
               quota=quota)])
    findings = list(get_policy("gpu-quota-fit").check(view))
    [finding] = [f for f in findings if f.source is not None]
    lines = path.read_text().splitlines()
    expected = next(i for i, line in enumerate(lines, 1) if line.strip().strip("'\"") == key_line or
                    line.strip().replace("'", "") == key_line)
    assert finding.source.file == str(path) and finding.source.line == expected
    assert finding.region == "eastus2"
    assert "exceed" in finding.message and finding.obj is None


def test_unknown_vm_size_is_an_error_naming_the_size(tmp_path):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", [group("w", "Standard_ND96typo_v9", gpus=1)])])])
    policy = get_policy("unknown-vm-size")
    [violation] = list(policy.check(view.releases["eastus2"]))
    assert policy.severity.value == "error" and violation.severity is None
    assert "'Standard_ND96typo_v9'" in violation.message and violation.value == "Standard_ND96typo_v9"
    assert violation.path == 'spec.workerGroupSpecs[0].template.spec.nodeSelector["node.kubernetes.io/instance-type"]'
    demand = demand_of(tmp_path / "d", [group("w", "Standard_ND96typo_v9", gpus=1, cpu="8", max_replicas=2)])["w"]
    assert demand.vm is None and demand.vcpus == 16  # CPU requests still counted toward the region


def test_gpu_group_without_a_size_is_a_warning(tmp_path):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", [group("w", None, gpus=1), group("c", None)])])])
    violations = list(get_policy("unknown-vm-size").check(view.releases["eastus2"]))
    assert [(v.severity.value, "w" in v.message) for v in violations] == [("warning", True)]


def test_failover_finding_points_at_the_failover_peers_line(tmp_path):
    def cluster(count):
        return ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=count)])

    regions = [region("eastus2", [cluster(6)], quota={"families": {H100_FAMILY: 400}}, peers=["westus3"]),
               region("westus3", [cluster(4)], quota={"families": {H100_FAMILY: 320}}, peers=["eastus2"])]
    path = write_fleet(tmp_path, regions)
    view = build(tmp_path, regions)
    [finding] = list(get_policy("failover-headroom").check(view))
    lines = path.read_text().splitlines()
    peers = [i for i, line in enumerate(lines, 1) if line.strip() == "failoverPeers:"]
    assert finding.region == "eastus2" and finding.source.file == str(path) and finding.source.line == peers[0]
    assert finding.message.endswith("2 short")


@pytest.mark.parametrize(("text", "value"), [("1Ki", 2**10), ("1Mi", 2**20), ("3Gi", 3 * 2**30), ("1Ti", 2**40),
                                             ("1Pi", 2**50), ("1Ei", 2**60), ("1M", 10**6), ("250m", 0.25)])
def test_binary_and_decimal_quantity_suffixes(text, value):
    from rayfleet.capacity import parse_quantity

    assert parse_quantity(text) == value


def test_capacity_table_notes_and_rounding(tmp_path):
    from rayfleet.capacity import capacity_table

    groups = [group("open", H100, gpus=1, cpu="36", max_replicas=None, replicas=2),
              group("closed", H100, gpus=1, cpu="36", max_replicas=1)]
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", groups)],
                                   quota={"families": {H100_FAMILY: 300}})])
    table = capacity_table(view)
    notes = [n for n in table.notes if "maxReplicas" in n]
    assert notes == ["eastus2: worker group 'open' of RayCluster/ray sets no maxReplicas; counted at 2 pods"]
    [row] = [r for r in table.rows if r.quota == 300]
    assert row_to_dict(row)["usedPercent"] == 40.0  # 120 of 300
    view = build(tmp_path / "b", [region("eastus2", [ray_cluster("ray", groups[1:])],
                                         quota={"families": {H100_FAMILY: 120}})])
    [row] = [r for r in capacity_table(view).rows if r.quota == 120]
    assert row_to_dict(row)["usedPercent"] == 33.3  # 40 of 120, one decimal


def test_a_peer_that_takes_nothing_gives_no_vcpus(tmp_path):
    from rayfleet.capacity import failover_outcomes

    def cluster(count):
        return ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=count)])

    view = build(tmp_path, [
        region("eastus2", [cluster(2)], quota={"families": {H100_FAMILY: 400}}, peers=["westus3", "swedencentral"]),
        region("westus3", [cluster(1)], quota={"families": {H100_FAMILY: 400}}, peers=["eastus2"]),
        region("swedencentral", [cluster(1)], quota={"families": {H100_FAMILY: 400}}, peers=["eastus2"])])
    outcome = failover_outcomes(view)["eastus2"]
    assert outcome.absorbed
    assert outcome.vcpus_taken("westus3") == {(H100_FAMILY.lower(), False): 80, ("total regional vCPUs", False): 80}
    assert outcome.vcpus_taken("swedencentral") == {}
