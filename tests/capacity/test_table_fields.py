"""The capacity table, failover and quota breaches field by field on a two-region fleet worked
out by hand: every row's GPUs, vCPUs, quota and headroom, the fleet totals, the notes."""

from __future__ import annotations

from dataclasses import astuple

import pytest
from rayfleet.capacity import capacity_table, failover_outcomes, quota_breaches, region_demand
from rayfleet.capacity.quota import REGIONAL, SPOT, quota_families
from rayfleet.capacity.table import CapacityRow
from rayfleet.fleet import Quota

from tests.capacity.builders import build, group, ray_cluster, region

H100 = "Standard_NC40ads_H100_v5"  # 40 vCPUs, 1 GPU "H100 NVL 94GB"
H100_FAMILY = "StandardNCadsH100v5Family"
T4 = "Standard_NC4as_T4_v3"  # 4 vCPUs, 1 GPU "T4 16GB"
D8 = "Standard_D8s_v5"  # 8 vCPUs, family standardDSv5Family
DS = "standardDSv5Family"
H100_MODEL, T4_MODEL = "H100 NVL 94GB", "T4 16GB"


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    east = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=3),
                               group("t4spot", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=2, spot=True)],
                       head_vm=D8)
    west = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=1),
                               group("cpu", None, cpu="6", max_replicas=2),
                               group("odd", "Standard_Nope", cpu="2", max_replicas=1)], head_vm=D8)
    return build(tmp_path_factory.mktemp("fleet"), [
        # east sits exactly at its regional quota (128 = 8 + 120): at the limit fits
        region("east", [east], quota={"families": {H100_FAMILY: 200, DS: 8}, "regionalVCpus": 128, "spotVCpus": 10},
               peers=["west"]),
        region("west", [west], quota={"families": {H100_FAMILY: 160, DS: 16}, "regionalVCpus": 200},
               peers=["east"])])


def test_demand_per_group_and_region(view):
    east = region_demand(view.releases["east"])
    by_group = {g.group: g for g in east.groups}
    assert {name: (g.max_pods, g.nodes, g.vcpus, g.gpus, g.spot) for name, g in by_group.items()} == {
        "head": (1, 1, 8, 0, False), "h": (3, 3, 120, 3, False), "t4spot": (2, 2, 8, 2, True)}
    assert east.family_vcpus == {DS.lower(): 8, H100_FAMILY.lower(): 120}
    assert (east.regional_vcpus, east.spot_vcpus, east.gpus) == (128, 8, 5)
    west = {g.group: g for g in region_demand(view.releases["west"]).groups}
    assert (west["cpu"].vm, west["cpu"].vm_size_name, west["cpu"].vcpus, west["cpu"].nodes) == (None, None, 12, 0)
    assert (west["odd"].vm_size_name, west["odd"].vcpus) == ("Standard_Nope", 2)
    assert west["h"].describe() == "1 x Standard_NC40ads_H100_v5 for worker group 'h' of RayCluster/ray"
    assert west["cpu"].describe() == "12 vCPUs of CPU requests for worker group 'cpu' of RayCluster/ray"
    assert by_group["head"].label == "head of RayCluster/ray"


def test_failover_outcomes_field_by_field(view):
    outcomes = failover_outcomes(view)
    east = outcomes["east"]
    assert east.absorbed and east.peers == ("west",) and east.unchecked is None and east.unusable_peers == {}
    # the costliest VM size first
    assert [(a.group.group, a.placed, a.nodes_short, a.gpus_needed, a.gpus_placed) for a in east.groups] == [
        ("h", {"west": 3}, 0, 3, 3), ("t4spot", {"west": 2}, 0, 2, 2)]
    assert (east.gpus_needed, east.gpus_placed) == (5, 5)
    assert east.vcpus_taken("west") == {(H100_FAMILY.lower(), False): 120, (REGIONAL, False): 120, (SPOT, True): 8}
    west = outcomes["west"]
    # east's family has room (200 - 120) but its regional quota is used up to the last vCPU
    assert not west.absorbed
    assert [(a.group.group, a.placed, a.nodes_short) for a in west.groups] == [("h", {}, 1)]
    assert west.vcpus_taken("east") == {}
    assert west.message == ("if it is lost, its failover peers (east) cannot absorb its GPU demand: 0 of its 1 "
                            "H100 NVL 94GB GPUs (Standard_NC40ads_H100_v5) fit in the peers' spare quota, 1 short")


def test_capacity_rows_totals_and_notes(view):
    table = capacity_table(view)
    assert table.quota_source == "fleet file"
    assert [astuple(r) for r in table.rows] == [
        ("east", DS, "family", (), 0, 8, 8, 0),
        ("east", H100_FAMILY, "family", (H100_MODEL,), 3, 120, 200, 80),
        ("east", REGIONAL, "regional", (H100_MODEL,), 3, 128, 128, 0),
        ("east", SPOT, "spot", (T4_MODEL,), 2, 8, 10, 2),
        # west hosts east's H100 nodes and spot nodes if east is lost: its headroom is what is left after
        ("west", DS, "family", (), 0, 8, 16, 8),
        ("west", H100_FAMILY, "family", (H100_MODEL,), 1, 40, 160, 0),
        ("west", REGIONAL, "regional", (H100_MODEL,), 1, 62, 200, 18)]
    assert [astuple(r) for r in table.totals] == [
        ("fleet", DS, "family", (), 0, 16, 24, None),
        ("fleet", H100_FAMILY, "family", (H100_MODEL,), 4, 160, 360, None),
        ("fleet", REGIONAL, "regional", (H100_MODEL,), 4, 190, 328, None),
        ("fleet", SPOT, "spot", (T4_MODEL,), 2, 8, 10, None)]
    assert table.notes == (
        "west: worker group 'cpu' of RayCluster/ray: it selects no VM size; counted by CPU requests only",
        "west: worker group 'odd' of RayCluster/ray: VM size 'Standard_Nope' is unknown; counted by CPU requests only")
    assert capacity_table(view, quota_source="live").quota_source == "live"


def test_no_quota_means_no_limit_and_no_fleet_total(tmp_path):
    cluster = ray_cluster("ray", [group("h", H100, gpus=1, cpu="36", max_replicas=None, replicas=2)])
    view = build(tmp_path, [region("a", [cluster], quota={"families": {H100_FAMILY: 100}}), region("b", [cluster])])
    table = capacity_table(view)
    assert [astuple(r) for r in table.rows] == [
        ("a", H100_FAMILY, "family", (H100_MODEL,), 2, 80, 100, 20),
        ("a", REGIONAL, "regional", (H100_MODEL,), 2, 84, None, None),  # the head: 4 CPUs, no VM size
        ("b", H100_FAMILY, "family", (H100_MODEL,), 2, 80, None, None),
        ("b", REGIONAL, "regional", (H100_MODEL,), 2, 84, None, None)]
    assert [(r.quota_name, r.max_vcpus, r.quota) for r in table.totals] == [(H100_FAMILY, 160, None),
                                                                            (REGIONAL, 168, None)]
    assert table.notes == ("a: worker group 'h' of RayCluster/ray sets no maxReplicas; counted at 2 pods",
                           "b: worker group 'h' of RayCluster/ray sets no maxReplicas; counted at 2 pods")


@pytest.mark.parametrize(("quota", "vcpus", "pct", "fits"), [
    (None, 10, None, None), (0, 0, 0.0, True), (0, 1, None, False), (40, 39, 97.5, True), (40, 40, 100.0, True),
    (40, 41, 102.5, False)])
def test_used_percent_and_fit_at_the_limit(quota, vcpus, pct, fits):
    row = CapacityRow("r", REGIONAL, "regional", (), 0, vcpus, quota)
    assert row.used_pct == pct and row.fits is fits


def test_quota_breaches_name_the_quota_the_demand_and_the_excess(view):
    east = region_demand(view.releases["east"])
    assert quota_breaches(east, Quota(families={H100_FAMILY: 120, DS: 8}, regional_vcpus=128, spot_vcpus=8)) == []
    breaches = quota_breaches(east, Quota(families={H100_FAMILY: 119}, regional_vcpus=127, spot_vcpus=7))
    assert [(b.kind, b.name, b.demand, b.quota, b.excess, b.family_key) for b in breaches] == [
        ("family", DS, 8, 0, 8, DS.lower()), ("family", H100_FAMILY, 120, 119, 1, H100_FAMILY.lower()),
        ("regional", REGIONAL, 128, 127, 1, None), ("spot", SPOT, 8, 7, 1, None)]
    assert breaches[0].message == ("family standardDSv5Family: max 8 vCPUs (1 x Standard_D8s_v5 for head of "
                                   "RayCluster/ray) exceed no quota (0 vCPUs) by 8")
    assert breaches[2].message == (
        "total regional vCPUs: max 128 vCPUs (1 x Standard_D8s_v5 for head of RayCluster/ray; 3 x "
        "Standard_NC40ads_H100_v5 for worker group 'h' of RayCluster/ray) exceed the quota of 127 by 1")
    assert breaches[3].message == ("regional spot vCPUs: max 8 vCPUs (2 x Standard_NC4as_T4_v3 for worker group "
                                   "'t4spot' of RayCluster/ray) exceed the quota of 7 by 1")
    assert [g.group for g in breaches[2].groups] == ["head", "h"]


def test_quota_families_keep_the_larger_of_two_spellings():
    quota = Quota(families={"Standard NCADS H100 v5 Family": 10, H100_FAMILY: 30, DS: 5})
    assert quota_families(quota) == {H100_FAMILY.lower(): 30, DS.lower(): 5}
    assert quota_families(Quota(families={H100_FAMILY: 30, "standard ncadsh100v5 family": 10})) == {
        H100_FAMILY.lower(): 30}


def test_check_capacity_result_notes_regions_and_live_quota_origins(view):
    from rayfleet.commands.quota import check_capacity

    result, table = check_capacity(view)
    assert result.command == "quota"
    assert sorted(p.id for p in result.policies) == ["failover-headroom", "gpu-quota-fit", "unknown-vm-size"]
    assert [(r.name, r.objects) for r in result.regions] == [("east", 1), ("west", 1)]
    assert result.capacity is table and table.quota_source == "fleet file"
    assert result.notes == [*table.notes, "quota from the fleet file"]
    failover = [f for f in result.findings if f.policy == "failover-headroom"]
    assert [f.region for f in failover] == ["west"]
    unknown = [f for f in result.findings if f.policy == "unknown-vm-size"]
    assert [f.region for f in unknown] == ["west"]
    tight = build_tight(view)
    result, table = check_capacity(tight, quota_source="live", quota_origins={"east": "https://arm/usages/east"})
    assert table.quota_source == "live" and result.notes[-1] == "quota: live"
    quota = [f for f in result.findings if f.policy == "gpu-quota-fit"]
    # the live figures replaced east's quota (west's still fits), and east's findings point at where they came from
    assert {f.region for f in quota} == {"east"} and len(quota) == 3
    assert {str(f.source) for f in quota} == {"https://arm/usages/east"}


def build_tight(view):
    from rayfleet.capacity import with_quotas

    return with_quotas(view, {"east": Quota(families={H100_FAMILY: 40}, regional_vcpus=50)})


def test_a_peer_quota_is_used_up_group_by_group(tmp_path):
    lost = ray_cluster("ray", [group("big", H100, gpus=1, cpu="36", max_replicas=2),
                               group("small", H100, gpus=1, cpu="36", max_replicas=1),
                               group("s1", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=2, spot=True),
                               group("s2", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=1, spot=True)])
    idle = ray_cluster("ray", [group("cpu", D8, cpu="4", max_replicas=1)])
    view = build(tmp_path, [
        region("lost", [lost], peers=["peer"]),
        # room for exactly two H100 nodes and two spot T4 nodes after its own demand (8 + 4 head vCPUs)
        region("peer", [idle], quota={"families": {H100_FAMILY: 80, DS: 8}, "spotVCpus": 8})])
    outcome = failover_outcomes(view)["lost"]
    assert [(a.group.group, a.placed, a.nodes_short) for a in outcome.groups] == [
        ("big", {"peer": 2}, 0), ("small", {}, 1), ("s1", {"peer": 2}, 0), ("s2", {}, 1)]
    assert not outcome.absorbed
    assert outcome.message == (
        "if it is lost, its failover peers (peer) cannot absorb its GPU demand: 2 of its 3 H100 NVL 94GB GPUs "
        "(Standard_NC40ads_H100_v5) fit in the peers' spare quota, 1 short; 2 of its 3 T4 16GB spot GPUs "
        "(Standard_NC4as_T4_v3) fit in the peers' spare spot vCPUs, 1 short")


def _groups(tmp_path, groups):
    view = build(tmp_path, [region("r", [ray_cluster("ray", groups)])])
    return {g.group: g for g in region_demand(view.releases["r"]).groups}


def _spot_affinity(*values: str) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.azure.com/scalesetpriority", "operator": "In",
                               "values": list(values)}]}]}}}


def _with_affinity(g: dict, affinity: dict) -> dict:
    g["template"]["spec"]["affinity"] = affinity
    return g


@pytest.mark.parametrize(("values", "spot"), [(("spot",), True), (("Spot", "spot"), True),
                                              (("spot", "regular"), False), ((), False)])
def test_spot_by_node_affinity_only_when_every_value_is_spot(tmp_path, values, spot):
    demand = _groups(tmp_path, [_with_affinity(group("g", T4, gpus=1, cpu="3", memory="8Gi"), _spot_affinity(*values))])
    assert demand["g"].spot is spot


def test_spot_by_node_selector_ignores_case(tmp_path):
    g = group("g", T4, gpus=1, cpu="3", memory="8Gi", extra_selector={"kubernetes.azure.com/scalesetpriority": "Spot"})
    assert _groups(tmp_path, [g])["g"].spot is True


@pytest.mark.parametrize(("hosts", "pods"), [(2**62, 2**62), (2**63, 1), (-(2**63), 1), (3, 3)])
def test_num_of_hosts_beyond_int64_is_not_a_count(tmp_path, hosts, pods):
    g = group("g", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=1, numOfHosts=hosts)
    assert _groups(tmp_path, [g])["g"].max_pods == pods


def test_negative_max_replicas_is_no_pods_and_no_nodes(tmp_path):
    g = _groups(tmp_path, [group("g", T4, gpus=1, cpu="3", memory="8Gi", max_replicas=-1)])["g"]
    assert (g.max_pods, g.nodes, g.vcpus, g.gpus, g.unbounded) == (0, 0, 0, 0, False)


def test_a_fleet_vm_size_without_memory_packs_by_cpu_only(tmp_path):
    sizes = {"Standard_Custom_Big": {"vcpus": 16, "gpus": 0, "family": "customFamily"}}
    view = build(tmp_path, [region("r", [ray_cluster("ray", [group("g", "Standard_Custom_Big", cpu="4", memory="900Gi",
                                                                     max_replicas=8)])])], vm_sizes=sizes)
    g = {d.group: d for d in region_demand(view.releases["r"]).groups}["g"]
    assert (g.pods_per_node, g.nodes, g.vcpus, g.problem) == (4, 2, 32, None)


# --- the capacity table as JSON, text and Markdown (report/capacity.py)

def _report_table():
    from rayfleet.capacity.table import CapacityTable

    rows = (CapacityRow("east", "FamA", "family", ("H100",), 3, 120, 100, -20),  # over its quota
            CapacityRow("east", REGIONAL, "regional", (), 0, 8, None, None),  # no quota
            CapacityRow("east", SPOT, "spot", ("A10", "T4"), 2, 0, 0, 0),  # 0 of 0: fits
            CapacityRow("west", "FamA", "family", (), 0, 5, 0, None),  # 5 of 0: over, no percentage
            CapacityRow("west", REGIONAL, "regional", (), 0, 91, 100, 9),  # above 90%: a warning colour
            CapacityRow("west", SPOT, "spot", (), 0, 1, 3, 2))  # 33.3%
    totals = (CapacityRow("fleet", "FamA", "family", ("H100",), 3, 125, 100, None),)
    return CapacityTable(rows, totals, ("a note " + "word " * 30,), "live")


def test_capacity_as_json_every_field():
    from rayfleet.report.capacity import capacity_to_dict

    data = capacity_to_dict(_report_table())
    assert data["quotaSource"] == "live" and data["notes"] == list(_report_table().notes)
    assert data["rows"][0] == {"region": "east", "quota": "FamA", "kind": "family", "gpuModels": ["H100"],
                               "maxGpus": 3, "maxVCpus": 120, "limit": 100, "usedPercent": 120.0,
                               "headroomAfterFailover": -20}
    assert [r["usedPercent"] for r in data["rows"]] == [120.0, None, 0.0, None, 91.0, 33.3]
    assert [r["limit"] for r in data["rows"]] == [100, None, 0, 0, 100, 3]
    assert data["totals"] == [{"region": "fleet", "quota": "FamA", "kind": "family", "gpuModels": ["H100"],
                               "maxGpus": 3, "maxVCpus": 125, "limit": 100, "usedPercent": 125.0,
                               "headroomAfterFailover": None}]


def test_capacity_as_markdown_marks_what_is_over():
    from rayfleet.capacity.table import CapacityTable
    from rayfleet.report.capacity import capacity_markdown

    lines = capacity_markdown(_report_table())
    assert lines[:4] == ["### GPU capacity (quota: live)", "",
                         "| Region | Quota | GPU | Max GPUs | Max vCPUs | Quota vCPUs | Used | After failover |",
                         "|---|---|---|---:|---:|---:|---:|---:|"]
    assert lines[4:] == [
        "| east | FamA | H100 | 3 | 120 | 100 | **120% over** | -20 |",
        f"| east | {REGIONAL} | - | 0 | 8 | - | - | - |",
        f"| east | {SPOT} | A10, T4 | 2 | 0 | 0 | 0% | 0 |",
        "| west | FamA | - | 0 | 5 | 0 | **- over** | - |",
        f"| west | {REGIONAL} | - | 0 | 91 | 100 | 91% | 9 |",
        f"| west | {SPOT} | - | 0 | 1 | 3 | 33% | 2 |",
        "| fleet | FamA | H100 | 3 | 125 | 100 | **125% over** | - |", ""]
    assert capacity_markdown(CapacityTable((), ())) == []


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("│┃").replace("┃", "│").split("│")]


def test_capacity_as_text_grid_colours_and_records():
    from rayfleet.report.capacity import format_capacity_table

    text = format_capacity_table(_report_table(), width=200)
    lines = text.splitlines()
    assert lines[0].rstrip() == "GPU capacity (quota: live)"
    header = next(line for line in lines if "region" in line and "after failover" in line)
    assert _cells(header) == ["region", "quota", "GPU", "max GPUs", "max vCPUs", "quota vCPUs", "used",
                              "after failover"]
    rows = [_cells(line) for line in lines if line.strip().startswith("│")]
    assert rows == [
        ["east", "FamA", "H100", "3", "120", "100", "120%", "-20"],
        ["east", REGIONAL, "-", "0", "8", "-", "-", "-"],
        ["east", SPOT, "A10, T4", "2", "0", "0", "0%", "0"],
        ["west", "FamA", "-", "0", "5", "0", "over", "-"],
        ["west", REGIONAL, "-", "0", "91", "100", "91%", "9"],
        ["west", SPOT, "-", "0", "1", "3", "33%", "2"],
        ["fleet", "FamA", "H100", "3", "125", "100", "125%", "-"]]
    # the totals are a section of their own: a rule between the last region row and the fleet row
    fleet_at = next(i for i, line in enumerate(lines) if "│ fleet" in line)
    assert lines[fleet_at - 1].startswith("├─") and "│ west" in lines[fleet_at - 2]
    # names left-aligned, numbers right-aligned
    east = next(line for line in lines if "│ east " in line and "FamA" in line)
    assert east.startswith("│ east   │ FamA      ") and "│        3 │       120 │" in east
    notes = [line for line in lines if line.startswith("note: ")]
    assert notes and all(len(line) <= 200 for line in lines)
    coloured = format_capacity_table(_report_table(), width=200, color=True).splitlines()
    red = [line for line in coloured if "\x1b[31m" in line]
    yellow = [line for line in coloured if "\x1b[33m" in line]
    assert len(red) == 3 and len(yellow) == 1 and "91" in yellow[0]
    # too narrow for the grid: one record per row, nothing cut
    narrow = format_capacity_table(_report_table(), width=60).splitlines()
    assert narrow[0] == "GPU capacity (quota: live)"
    assert narrow[1] == "east  FamA"
    assert narrow[2].startswith("  GPU H100 · max GPUs 3 · max vCPUs 120 · quota vCPUs 100")
    assert "used 120%" in " ".join(narrow[2:4]) and all(len(line) <= 60 for line in narrow)
    note = next(i for i, line in enumerate(narrow) if line.startswith("note: a note"))
    assert narrow[note + 1].startswith("      word") and not narrow[note + 1].startswith("       ")


def test_capacity_results_are_immutable_values():
    """Demand is cached per release and shared by three policies and the table: none of the
    results may be changed in place by whoever reads them."""
    from dataclasses import FrozenInstanceError, fields

    from rayfleet.capacity.demand import GroupDemand, RegionDemand
    from rayfleet.capacity.failover import Absorbed, FailoverOutcome
    from rayfleet.capacity.quota import QuotaBreach
    from rayfleet.capacity.table import CapacityTable

    for cls in (GroupDemand, RegionDemand, Absorbed, FailoverOutcome, QuotaBreach, CapacityRow, CapacityTable):
        assert cls.__dataclass_params__.frozen, cls.__name__
    row = CapacityRow("r", REGIONAL, "regional", (), 0, 1, 2)
    with pytest.raises(FrozenInstanceError):
        row.quota = 3  # type: ignore[misc]
    assert [f.name for f in fields(row)][-1] == "headroom_after_failover"


def test_a_group_without_nodes_places_no_gpus(view):
    from dataclasses import replace

    from rayfleet.capacity.failover import Absorbed

    h = next(g for g in region_demand(view.releases["east"]).groups if g.group == "h")
    assert Absorbed(h, {"west": 2}).gpus_placed == 2 and Absorbed(h, {"west": 9}).gpus_placed == 3
    assert Absorbed(replace(h, nodes=0), {"west": 2}).gpus_placed == 0
    assert Absorbed(h, {"west": 1, "x": 1}).nodes_short == 1


def test_unbounded_gpu_demand_and_unusable_peers_are_named(tmp_path):
    lost = ray_cluster("ray", [group("u", H100, gpus=1, cpu="36", max_replicas=None, replicas=1)])
    view = build(tmp_path, [
        region("lost", [lost], peers=["nq", "peer"]),
        region("nq", [ray_cluster("ray", [])]),
        region("peer", [ray_cluster("ray", [])], quota={"families": {H100_FAMILY: 400}})])
    outcome = failover_outcomes(view)["lost"]
    assert [g.group for g in outcome.unbounded] == ["u"] and not outcome.absorbed
    assert [(a.group.group, a.placed) for a in outcome.groups] == [("u", {"peer": 1})]
    assert outcome.unusable_peers == {"nq": "declares no quota"}
    assert outcome.message == (
        "if it is lost, its failover peers (nq, peer) cannot absorb its GPU demand: its GPU demand has no bound "
        "(worker group 'u' of RayCluster/ray sets no maxReplicas) (nq declares no quota)")
