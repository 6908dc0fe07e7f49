"""The capacity table worked out by hand (capacity/table.py): regions without a rendered release,
families a region only uses when it hosts a lost peer's nodes, and spot rows."""

from __future__ import annotations

from dataclasses import astuple

from rayfleet.capacity import capacity_table
from rayfleet.capacity.quota import REGIONAL, SPOT

from tests.capacity.builders import build, group, ray_cluster, region

H100 = "Standard_NC40ads_H100_v5"  # 40 vCPUs, 1 GPU "H100 NVL 94GB"
H100_FAMILY = "StandardNCadsH100v5Family"
H100_MODEL = "H100 NVL 94GB"


def test_a_region_whose_release_has_no_objects_has_no_rows(tmp_path):
    # "empty" rendered nothing (e.g. a failed render): it must not look like a region with all its quota free
    cluster = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=2)])
    view = build(tmp_path, [region("empty", [], quota={"families": {H100_FAMILY: 400}, "regionalVCpus": 400}),
                            region("a", [cluster], quota={"families": {H100_FAMILY: 100}, "regionalVCpus": 90})])
    table = capacity_table(view)
    # a: 2 x 40 = 80 family vCPUs of 100; + the head's 4 CPU requests (no size) = 84 regional of 90
    assert [astuple(r) for r in table.rows] == [
        ("a", H100_FAMILY, "family", (H100_MODEL,), 2, 80, 100, 20),
        ("a", REGIONAL, "regional", (H100_MODEL,), 2, 84, 90, 6)]
    assert [(r.region, r.quota_name, r.max_vcpus, r.quota) for r in table.totals] == [
        ("fleet", H100_FAMILY, 80, 100), ("fleet", REGIONAL, 84, 90)]


def test_a_peer_gets_a_row_for_a_family_it_only_uses_to_host_a_lost_region(tmp_path):
    east = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=2)])
    west = ray_cluster("ray", [])  # only a head (4 CPU requests, no VM size): no H100 of its own
    view = build(tmp_path, [region("east", [east], peers=["west"]),
                            region("west", [west], quota={"families": {H100_FAMILY: 100}, "regionalVCpus": 100})])
    table = capacity_table(view)
    # losing east puts its 2 H100 nodes (80 vCPUs) on west: west's H100 headroom is 100 - 0 - 80 = 20,
    # its regional headroom 100 - 4 - 80 = 16; east declares no quota (no limit, no headroom)
    assert [astuple(r) for r in table.rows] == [
        ("east", H100_FAMILY, "family", (H100_MODEL,), 2, 80, None, None),
        ("east", REGIONAL, "regional", (H100_MODEL,), 2, 84, None, None),
        ("west", H100_FAMILY, "family", (), 0, 0, 100, 20),
        ("west", REGIONAL, "regional", (), 0, 4, 100, 16)]
    assert [astuple(r) for r in table.totals] == [
        ("fleet", H100_FAMILY, "family", (H100_MODEL,), 2, 80, None, None),
        ("fleet", REGIONAL, "regional", (H100_MODEL,), 2, 88, None, None)]


def test_a_family_the_quota_does_not_list_has_a_limit_of_zero(tmp_path):
    cluster = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=1)])
    view = build(tmp_path, [region("a", [cluster], quota={"families": {"standardDSv5Family": 16},
                                                          "regionalVCpus": 50})])
    # 1 x 40 H100 vCPUs against no H100 quota: 40 over; regional 40 + 4 (head) of 50
    assert [astuple(r) for r in capacity_table(view).rows] == [
        ("a", H100_FAMILY, "family", (H100_MODEL,), 1, 40, 0, -40),
        ("a", REGIONAL, "regional", (H100_MODEL,), 1, 44, 50, 6)]


T4 = "Standard_NC4as_T4_v3"  # 4 vCPUs, 1 GPU "T4 16GB", family "Standard NCASv3_T4 Family"


def test_spot_headroom_is_left_after_hosting_a_lost_region_spot_nodes(tmp_path):
    east = ray_cluster("ray", [group("t4", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=2, spot=True)])
    view = build(tmp_path, [region("east", [east], peers=["west"]),
                            region("west", [ray_cluster("ray", [])],
                                   quota={"families": {"standardDSv5Family": 8}, "regionalVCpus": 10,
                                          "spotVCpus": 20})])
    # east's 2 spot T4 nodes (8 spot vCPUs) go to west: west's spot headroom 20 - 0 - 8 = 12;
    # its regional headroom 10 - 4 (head) = 6 (spot nodes take no regional quota)
    assert [astuple(r) for r in capacity_table(view).rows] == [
        ("east", REGIONAL, "regional", (), 0, 4, None, None),
        ("east", SPOT, "spot", ("T4 16GB",), 2, 8, None, None),
        ("west", REGIONAL, "regional", (), 0, 4, 10, 6),
        ("west", SPOT, "spot", (), 0, 0, 20, 12)]


def test_the_fleet_total_names_a_family_as_the_first_region_spells_it(tmp_path):
    custom = {"Standard_T4_Custom": {"vcpus": 4, "gpus": 1, "family": "standardNCASv3_T4Family",
                                     "gpuModel": "T4 16GB", "memoryGiB": 28}}
    view = build(tmp_path, [
        region("a", [ray_cluster("ray", [group("t4", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=1)])]),
        region("b", [ray_cluster("ray", [group("t4", "Standard_T4_Custom", gpus=1, cpu="3", memory="8Gi",
                                               max_replicas=1)])])], vm_sizes=custom)
    table = capacity_table(view)
    assert [(r.region, r.quota_name) for r in table.rows if r.kind == "family"] == [
        ("a", "Standard NCASv3_T4 Family"), ("b", "standardNCASv3_T4Family")]
    assert astuple(table.totals[0]) == ("fleet", "Standard NCASv3_T4 Family", "family", ("T4 16GB",), 2, 8, None, None)


def test_fleet_totals_list_families_before_the_regional_total_whatever_their_names(tmp_path):
    custom = {"Standard_X4": {"vcpus": 4, "gpus": 1, "family": "XFamily", "gpuModel": "X", "memoryGiB": 16}}
    view = build(tmp_path, [region("a", [ray_cluster("ray", [group("x", "Standard_X4", gpus=1, cpu="2",
                                                                   memory="4Gi", max_replicas=2)])])],
                 vm_sizes=custom)
    # "XFamily" sorts after "total regional vCPUs" by name, but families come first
    assert [(r.quota_name, r.max_vcpus) for r in capacity_table(view).totals] == [("XFamily", 8), (REGIONAL, 12)]
