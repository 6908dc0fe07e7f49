"""The capacity model: pods → nodes → vCPUs per family, regional and spot."""

from __future__ import annotations

import pytest
from rayfleet.capacity import (
    lookup_vm_size,
    normalise_family,
    parse_quantity,
    quota_breaches,
    region_demand,
    vm_catalogue,
)
from rayfleet.fleet import Quota

from tests.capacity.builders import build, group, ray_cluster, region

H100 = "Standard_NC40ads_H100_v5"  # 40 vCPUs, 1 GPU, StandardNCadsH100v5Family
H100X2 = "Standard_NC80adis_H100_v5"  # 80 vCPUs, 2 GPUs, same family
A100 = "Standard_NC96ads_A100_v4"  # 96 vCPUs, 4 GPUs
D16 = "Standard_D16ds_v5"  # 16 vCPUs, 64 GiB


def demand_of(tmp_path, groups, **kwargs):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", groups, **kwargs)])])
    return region_demand(view.releases["eastus2"])


def by_group(demand):
    return {g.group: g for g in demand.groups}


@pytest.mark.parametrize("name", ["Standard NCASv3_T4 Family", "standardNCASv3_T4Family", "StandardNCASv3T4Family",
                                  " standard ncasv3-t4 family "])
def test_family_names_normalise_to_one_key(name):
    assert normalise_family(name) == "standardncasv3t4family"


def test_catalogue_has_every_size_the_issue_names_with_consistent_figures():
    sizes = vm_catalogue()
    for name in ("Standard_NC4as_T4_v3", "Standard_NC64as_T4_v3", "Standard_NV36ads_A10_v5", "Standard_NV72ads_A10_v5",
                 "Standard_NC24ads_A100_v4", "Standard_NC96ads_A100_v4", "Standard_ND96asr_v4",
                 "Standard_ND96amsr_A100_v4", H100, H100X2, "Standard_ND96isr_H100_v5", "Standard_ND96isr_H200_v5",
                 "Standard_D8ds_v5", "Standard_D16ds_v6", "Standard_D16s_v5", "Standard_E16ds_v5"):
        assert name.lower() in sizes, name
    for size in sizes.values():
        assert size.vcpus > 0 and size.gpus >= 0 and size.family
        assert (size.gpu_model is not None) == (size.gpus > 0), size.name
    assert lookup_vm_size("standard_nc40ads_h100_v5").family_key == "standardncadsh100v5family"
    assert lookup_vm_size("Standard_ND96isr_H200_v5").gpus == 8


@pytest.mark.parametrize(("text", "value"), [("500m", 0.5), ("4", 4.0), ("16Gi", 16 * 2**30), ("1.5", 1.5),
                                             ("2k", 2000.0), (3, 3.0), ("lots", None), (True, None)])
def test_quantities(text, value):
    assert parse_quantity(text) == value


def test_gpu_group_whole_node_sizes(tmp_path):
    demand = demand_of(tmp_path, [group("h100", H100, gpus=1, cpu="36", max_replicas=8)])
    h100 = by_group(demand)["h100"]
    assert (h100.max_pods, h100.pods_per_node, h100.nodes, h100.vcpus, h100.gpus) == (8, 1, 8, 320, 8)
    assert demand.family_vcpus == {"standardncadsh100v5family": 320}


def test_gpu_pods_share_a_multi_gpu_node(tmp_path):
    demand = demand_of(tmp_path, [group("a100", A100, gpus=1, cpu="20", memory="200Gi", max_replicas=10)])
    a100 = by_group(demand)["a100"]
    assert (a100.pods_per_node, a100.nodes, a100.vcpus, a100.gpus) == (4, 3, 288, 10)


def test_cpu_requests_limit_gpu_pods_per_node(tmp_path):
    # 2 GPUs per node but each pod asks 60 of the 80 vCPUs: one pod per node
    demand = demand_of(tmp_path, [group("h100", H100X2, gpus=1, cpu="60", max_replicas=4)])
    assert (by_group(demand)["h100"].pods_per_node, by_group(demand)["h100"].nodes) == (1, 4)


def test_memory_requests_limit_pods_per_node(tmp_path):
    demand = demand_of(tmp_path, [group("cpu", D16, cpu="2", memory="40Gi", max_replicas=6)])
    assert (by_group(demand)["cpu"].pods_per_node, by_group(demand)["cpu"].nodes) == (1, 6)


def test_cpu_group_packs_by_cpu_requests(tmp_path):
    demand = demand_of(tmp_path, [group("cpu", D16, cpu="4", memory="8Gi", max_replicas=10)])
    cpu = by_group(demand)["cpu"]
    assert (cpu.pods_per_node, cpu.nodes, cpu.vcpus) == (4, 3, 48)


def test_cpu_pod_without_requests_takes_a_node(tmp_path):
    g = group("cpu", D16, max_replicas=3)
    g["template"]["spec"]["containers"][0].pop("resources")
    assert by_group(demand_of(tmp_path, [g]))["cpu"].nodes == 3


def test_num_of_hosts_multiplies_pods(tmp_path):
    demand = demand_of(tmp_path, [group("tpu-like", H100, gpus=1, cpu="36", max_replicas=2, numOfHosts=3)])
    assert by_group(demand)["tpu-like"].nodes == 6


def test_head_counts_toward_regional_vcpus(tmp_path):
    with_size = demand_of(tmp_path / "a", [], head_vm="Standard_D8ds_v5")
    assert by_group(with_size)["head"].vcpus == 8
    assert with_size.family_vcpus == {"standardddsv5family": 8} and with_size.regional_vcpus == 8
    without = demand_of(tmp_path / "b", [], head_cpu="3500m")
    assert by_group(without)["head"].vcpus == 4  # CPU request, rounded up
    assert without.family_vcpus == {} and without.regional_vcpus == 4


def test_spot_groups_count_against_spot_only(tmp_path):
    demand = demand_of(tmp_path, [group("h100", H100, gpus=1, cpu="36", max_replicas=2),
                                  group("h100-spot", H100, gpus=1, cpu="36", max_replicas=5, spot=True)])
    assert demand.family_vcpus == {"standardncadsh100v5family": 80}
    assert demand.spot_vcpus == 200
    assert demand.regional_vcpus == 80 + 4  # head CPU request included, spot excluded


def test_groups_sharing_a_family_add_up(tmp_path):
    demand = demand_of(tmp_path, [group("small", H100, gpus=1, cpu="36", max_replicas=3),
                                  group("big", H100X2, gpus=2, cpu="70", max_replicas=2)])
    assert demand.family_vcpus == {"standardncadsh100v5family": 3 * 40 + 2 * 80}


def test_rayjob_and_rayservice_cluster_specs_count(tmp_path):
    view = build(tmp_path, [region("eastus2", [
        ray_cluster("job", [group("g", H100, gpus=1, cpu="36", max_replicas=2)], kind="RayJob"),
        ray_cluster("svc", [group("g", H100, gpus=1, cpu="36", max_replicas=3)], kind="RayService"),
    ])])
    demand = region_demand(view.releases["eastus2"])
    assert demand.family_vcpus == {"standardncadsh100v5family": 200}


def test_node_affinity_counts_the_costliest_size(tmp_path):
    g = group("h100", None, gpus=1, cpu="36", max_replicas=3)
    g["template"]["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [H100, H100X2]}]}]}}}
    h100 = by_group(demand_of(tmp_path, [g]))["h100"]
    assert (h100.vm.name, h100.nodes, h100.vcpus) == (H100X2, 2, 160)  # 2 x 80 costs more than 3 x 40


def test_fleet_vm_sizes_extend_the_catalogue(tmp_path):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", [
        group("b200", "Standard_ND128isr_NDR_GB200_v6", gpus=4, cpu="100", memory="800Gi", max_replicas=8)])])],
        vm_sizes={"Standard_ND128isr_NDR_GB200_v6": {"vcpus": 128, "gpus": 4, "family": "standardNDGB200v6Family",
                                                      "memoryGiB": 900, "gpuModel": "GB200"}})
    b200 = by_group(region_demand(view.releases["eastus2"]))["b200"]
    assert (b200.nodes, b200.vcpus, b200.vm.source) == (8, 1024, "fleet file")


def test_unbounded_and_oversized_groups_are_flagged(tmp_path):
    demand = demand_of(tmp_path, [group("open", H100, gpus=1, cpu="36", max_replicas=None, replicas=1),
                                  group("huge", H100, gpus=2, cpu="36", max_replicas=1)])
    groups = by_group(demand)
    assert groups["open"].unbounded and groups["open"].max_pods == 1
    assert groups["huge"].problem == "asks for 2 GPUs per pod but Standard_NC40ads_H100_v5 has 1"


def test_exact_limit_fits_and_one_over_does_not(tmp_path):
    demand = demand_of(tmp_path, [group("h100", H100, gpus=1, cpu="36", max_replicas=8)])
    assert quota_breaches(demand, Quota({"Standard NCads H100 v5 Family": 320}, 324)) == []
    breaches = quota_breaches(demand, Quota({"StandardNCadsH100v5Family": 319}, 323))
    assert [(b.kind, b.demand, b.quota, b.excess) for b in breaches] == [("family", 320, 319, 1),
                                                                         ("regional", 324, 323, 1)]


def test_a_family_missing_from_the_quota_has_none(tmp_path):
    demand = demand_of(tmp_path, [group("h100", H100, gpus=1, cpu="36", max_replicas=1)])
    [breach] = quota_breaches(demand, Quota({"standardDDSv5Family": 100}))
    assert breach.message == ("family StandardNCadsH100v5Family: max 40 vCPUs (1 x Standard_NC40ads_H100_v5 for "
                              "worker group 'h100' of RayCluster/ray) exceed no quota (0 vCPUs) by 40")


def test_spot_quota_is_separate(tmp_path):
    demand = demand_of(tmp_path, [group("spot", H100, gpus=1, cpu="36", max_replicas=3, spot=True)])
    assert quota_breaches(demand, Quota({}, regional_vcpus=4, spot_vcpus=120)) == []
    [breach] = quota_breaches(demand, Quota({}, regional_vcpus=4, spot_vcpus=100))
    assert (breach.kind, breach.demand, breach.quota) == ("spot", 120, 100)


def test_region_demand_is_worked_out_once_per_release():
    from rayfleet.capacity import region_demand
    from rayfleet.fleet import PolicySettings
    from rayfleet.subjects import ReleaseObjects

    release = ReleaseObjects([], PolicySettings(), "1.33")
    first = region_demand(release)
    assert region_demand(release) is first  # shared by the policies and the capacity table
