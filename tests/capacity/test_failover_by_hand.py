"""Failover worked out by hand (capacity/failover.py): spare quota that is used up or was
never there, peers without limits, and what each peer gives to a lost region."""

from __future__ import annotations

import pytest
from rayfleet.capacity import Spare, failover_outcomes, region_demand, spare_quota
from rayfleet.capacity.catalogue import VmSize
from rayfleet.fleet import Quota

from tests.capacity.builders import build, group, ray_cluster, region

H100 = "Standard_NC40ads_H100_v5"  # 40 vCPUs, 1 GPU
H100_FAMILY, H100_KEY = "StandardNCadsH100v5Family", "standardncadsh100v5family"
T4 = "Standard_NC4as_T4_v3"  # 4 vCPUs, 1 GPU
TINY = VmSize("Standard_Tiny_GPU", vcpus=1, gpus=1, family="Tiny Family", gpu_model="T1")  # a 1-vCPU node


def test_spare_quota_below_zero_fits_no_node_even_of_one_vcpu():
    # a peer already over its quota has nothing spare, not a negative number of nodes
    spare = Spare({"tinyfamily": -4}, regional=-1, spot=-2)
    assert spare.nodes_fitting(TINY, spot=False) == 0
    assert spare.nodes_fitting(TINY, spot=True) == 0
    assert Spare({"tinyfamily": 0}, regional=None, spot=0).nodes_fitting(TINY, spot=False) == 0
    assert Spare({}, regional=None, spot=0).nodes_fitting(TINY, spot=True) == 0


def test_spare_quota_counts_whole_nodes_against_the_smaller_limit():
    assert Spare({"tinyfamily": 3}, regional=None, spot=None).nodes_fitting(TINY, spot=False) == 3
    assert Spare({"tinyfamily": 3}, regional=2, spot=None).nodes_fitting(TINY, spot=False) == 2
    assert Spare({}, regional=5, spot=None).nodes_fitting(TINY, spot=False) == 0  # no family quota: none
    assert Spare({}, regional=None, spot=7).nodes_fitting(TINY, spot=True) == 7
    # no spot limit at all: more nodes than any region could lose
    assert Spare({}, regional=0, spot=None).nodes_fitting(TINY, spot=True) >= 2**62


def test_taking_nodes_uses_up_family_and_regional_or_spot_quota():
    spare = Spare({"tinyfamily": 5}, regional=10, spot=4)
    spare.take(TINY, spot=False, nodes=3)  # 3 nodes x 1 vCPU from the family and the regional total
    assert (spare.families, spare.regional, spare.spot) == ({"tinyfamily": 2}, 7, 4)
    spare.take(TINY, spot=True, nodes=4)  # spot nodes only count against spot vCPUs
    assert (spare.families, spare.regional, spare.spot) == ({"tinyfamily": 2}, 7, 0)
    # a family the spare never had: what is taken is owed; unlimited quotas stay unlimited
    owing = Spare({}, regional=None, spot=None)
    owing.take(TINY, spot=False, nodes=2)
    owing.take(TINY, spot=True, nodes=9)
    assert (owing.families, owing.regional, owing.spot) == ({"tinyfamily": -2}, None, None)


@pytest.fixture(scope="module")
def demand(tmp_path_factory):
    # on demand: 3 x H100 = 120 family vCPUs, + the head's 4 CPUs (no size) = 124 regional;
    # spot: 2 x T4 = 8 spot vCPUs
    groups = [group("h", H100, gpus=1, cpu="36", max_replicas=3),
              group("t4", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=2, spot=True)]
    view = build(tmp_path_factory.mktemp("spare"), [region("r", [ray_cluster("ray", groups)])])
    d = region_demand(view.releases["r"])
    assert (d.family_vcpus, d.regional_vcpus, d.spot_vcpus) == ({H100_KEY: 120}, 124, 8)
    return d


@pytest.mark.parametrize(("quota", "spare"), [
    # over every quota: nothing spare (not a negative figure); a family the region does not use stays whole
    (Quota({H100_FAMILY: 100, "standardDSv5Family": 16}, regional_vcpus=100, spot_vcpus=6),
     Spare({H100_KEY: 0, "standarddsv5family": 16}, 0, 0)),
    # exactly at every quota: nothing spare either
    (Quota({H100_FAMILY: 120}, regional_vcpus=124, spot_vcpus=8), Spare({H100_KEY: 0}, 0, 0)),
    # room left: 200 - 120, 130 - 124, 20 - 8
    (Quota({H100_FAMILY: 200}, regional_vcpus=130, spot_vcpus=20), Spare({H100_KEY: 80}, 6, 12)),
    # no regional or spot limit declared: not limited; no H100 family quota: no H100 spare
    (Quota({"standardDSv5Family": 16}), Spare({H100_KEY: 0, "standarddsv5family": 16}, None, None)),
])
def test_spare_quota_is_the_quota_less_the_region_own_max_demand(demand, quota, spare):
    got = spare_quota(demand, quota)
    assert (got.families, got.regional, got.spot) == (spare.families, spare.regional, spare.spot)
    assert got.nodes_fitting(TINY, spot=False) == 0  # no quota in TINY's family anywhere


def test_an_unbounded_cpu_group_does_not_make_the_gpu_failover_unbounded(tmp_path):
    lost = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=2),
                               group("cpu", "Standard_D16ds_v5", cpu="4", memory="8Gi", max_replicas=None)])
    view = build(tmp_path, [region("east", [lost], peers=["west"]),
                            region("west", [ray_cluster("ray", [])],
                                   quota={"families": {H100_FAMILY: 80}, "regionalVCpus": 84})])
    [outcome] = failover_outcomes(view).values()
    # west: 80 family vCPUs spare = 2 H100 nodes; 84 - 4 (its head) = 80 regional: both nodes fit
    assert outcome.unbounded == () and outcome.absorbed
    assert [(a.group.group, a.placed, a.gpus_placed) for a in outcome.groups] == [("h", {"west": 2}, 2)]


def test_a_peer_without_a_spot_limit_absorbs_any_number_of_spot_nodes(tmp_path):
    # 1 replica x 2**62 hosts = 2**62 one-GPU pods, one per H100 node
    lost = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=1, spot=True, numOfHosts=2**62)])
    view = build(tmp_path, [region("east", [lost], peers=["west"]),
                            region("west", [ray_cluster("ray", [])], quota={"families": {H100_FAMILY: 0}})])
    [outcome] = failover_outcomes(view).values()
    assert [(a.placed, a.nodes_short) for a in outcome.groups] == [({"west": 2**62}, 0)]
    assert outcome.absorbed
