"""The capacity table worked out by hand (capacity/table.py): regions without a rendered release,
families a region only uses when it hosts a lost peer's nodes, and spot rows."""

from __future__ import annotations

from dataclasses import astuple

from rayfleet.capacity import capacity_table
from rayfleet.capacity.quota import REGIONAL

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
