"""Demand edges worked out by hand (capacity/demand.py): negative replica counts, the one-GPU
node limit, a GPU pod on a CPU size, the smallest memory request, unknown sizes named in node
affinity, and affinity expressions on other labels."""

from __future__ import annotations

import pytest
from rayfleet.capacity import is_spot, region_demand, selected_vm_sizes

from tests.capacity.builders import build, group, ray_cluster, region

H100 = "Standard_NC40ads_H100_v5"  # 40 vCPUs, 320 GiB, 1 GPU
D16 = "Standard_D16ds_v5"  # 16 vCPUs, 64 GiB, no GPU
INSTANCE = "node.kubernetes.io/instance-type"
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
ZONE = "topology.kubernetes.io/zone"


def _groups(tmp_path, groups, **kwargs):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", groups, **kwargs)])])
    return {g.group: g for g in region_demand(view.releases["eastus2"]).groups}


def _affinity(*exprs):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": list(exprs)}]}}}


@pytest.mark.parametrize("fields", [
    {"replicas": -3, "minReplicas": 0},   # a negative replica count asks for no pods (not -3)
    {"replicas": -3},                     # no minReplicas at all: the same
    {"minReplicas": -2},                  # no replicas, negative minReplicas: no pods (not -2)
])
def test_negative_replica_counts_without_max_replicas_are_no_pods(tmp_path, fields):
    g = group("w", D16, cpu="16", memory="8Gi", max_replicas=None)
    g.pop("minReplicas")
    g.update(fields)
    w = _groups(tmp_path, [g], autoscaling=False)["w"]
    assert (w.max_pods, w.nodes, w.vcpus, w.unbounded) == (0, 0, 0, False)


def test_one_gpu_node_holds_one_one_gpu_pod_even_when_cpu_and_memory_leave_room(tmp_path):
    # H100 node: 1 GPU // 1 = 1 pod; 40 vCPUs // 8 = 5; 320 GiB // 32 GiB = 10 -> 1 pod per node
    h = _groups(tmp_path, [group("h", H100, gpus=1, cpu="8", memory="32Gi", max_replicas=3)])["h"]
    assert (h.pods_per_node, h.nodes, h.vcpus, h.gpus, h.problem) == (1, 3, 3 * 40, 3, None)


def test_a_one_gpu_pod_on_a_cpu_size_can_never_be_scheduled(tmp_path):
    w = _groups(tmp_path, [group("w", D16, gpus=1, cpu="4", memory="8Gi", max_replicas=2)])["w"]
    assert w.problem == "asks for 1 GPUs per pod but Standard_D16ds_v5 has 0"
    assert (w.pods_per_node, w.nodes, w.vcpus) == (1, 2, 32)  # one node per pod when it cannot fit


def test_the_smallest_memory_request_still_limits_by_memory_not_a_whole_node(tmp_path):
    # no CPU request, 1 byte of memory: 64 GiB // 1 byte pods fit a node, so 4 pods take one node
    g = group("w", D16, max_replicas=4)
    g["template"]["spec"]["containers"][0]["resources"] = {"requests": {"memory": "1"}}
    w = _groups(tmp_path, [g])["w"]
    assert (w.pods_per_node, w.nodes, w.vcpus) == (64 * 2**30, 1, 16)


def test_unknown_sizes_in_affinity_name_the_first_and_count_cpu_requests(tmp_path):
    g = group("w", None, cpu="2.5", max_replicas=3)
    g["template"]["spec"]["affinity"] = _affinity(
        {"key": INSTANCE, "operator": "In", "values": ["Standard_Nope_A", "Standard_Nope_B"]})
    w = _groups(tmp_path, [g])["w"]
    # 3 pods x 2.5 CPUs = 7.5, rounded up; no node is counted for a size nobody knows
    assert (w.vm_size_name, w.vm, w.pods_per_node, w.nodes, w.vcpus) == ("Standard_Nope_A", None, 1, 0, 8)


def test_affinity_expressions_on_other_labels_are_not_sizes_or_spot(tmp_path):
    zone = {"key": ZONE, "operator": "In", "values": ["eastus2-1"]}
    sized = group("sized", None, cpu="4", memory="8Gi", max_replicas=4)
    sized["template"]["spec"]["affinity"] = _affinity(zone, {"key": INSTANCE, "operator": "In", "values": [D16]})
    spot = group("spot", D16, cpu="4", memory="8Gi", max_replicas=1)
    spot["template"]["spec"]["affinity"] = _affinity(zone, {"key": SPOT_LABEL, "operator": "In", "values": ["spot"]})
    groups = _groups(tmp_path, [sized, spot])
    s = groups["sized"]
    assert (s.vm_size_name, s.pods_per_node, s.nodes, s.vcpus) == (D16, 4, 1, 16)
    assert groups["spot"].spot is True

    view = build(tmp_path / "again", [region("eastus2", [ray_cluster("ray", [sized, spot])])])
    release = view.releases["eastus2"]
    pods = {p.group: p for p in release.pod_templates() if p.role == "worker"}
    where = "spec.workerGroupSpecs[0].template.spec.affinity.nodeAffinity"
    assert selected_vm_sizes(pods["sized"]) == ([D16], f"{where}.requiredDuringSchedulingIgnoredDuringExecution")
    assert is_spot(pods["spot"]) is True and is_spot(pods["sized"]) is False


def test_quota_breaches_name_their_region(tmp_path):
    from rayfleet.capacity import quota_breaches
    from rayfleet.fleet import Quota

    cluster = ray_cluster("ray", [group("h", H100, gpus=1, cpu="8", max_replicas=1)])
    view = build(tmp_path, [region("eastus2", [cluster])])
    quota = Quota({"StandardNCadsH100v5Family": 40}, regional_vcpus=43)  # the family fits exactly
    [breach] = quota_breaches(region_demand(view.releases["eastus2"]), quota)
    # 40 (1 x H100) + 4 (the head's CPU requests) = 44 regional vCPUs, 1 over
    got = (breach.region, breach.kind, breach.demand, breach.quota, breach.excess)
    assert got == ("eastus2", "regional", 44, 43, 1)


def test_a_worker_template_without_a_raycluster_spec_is_not_autoscaled():
    from rayfleet.capacity import group_demand
    from rayfleet.findings import SourceLocation
    from rayfleet.manifests import KubeObject
    from rayfleet.workloads import PodTemplate

    obj = KubeObject({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}}, SourceLocation("t.yaml"))
    pod = PodTemplate(obj, "template", {}, {}, "worker", group="w", ray=None,
                      group_spec={"groupName": "w", "replicas": 2})  # no maxReplicas
    w = group_demand(pod)
    assert (w.max_pods, w.unbounded) == (2, False)  # no autoscaler to go past replicas
