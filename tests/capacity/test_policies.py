"""gpu-quota-fit, failover-headroom, unknown-vm-size and the capacity table on purpose-built fleets."""

from __future__ import annotations

from rayfleet.capacity import capacity_table, failover_outcomes, with_quotas
from rayfleet.commands.quota import check_capacity
from rayfleet.findings import Severity
from rayfleet.fleet import Quota
from rayfleet.policies import get_policy
from rayfleet.report.capacity import capacity_to_dict
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

from tests.capacity.builders import build, group, ray_cluster, region

H100 = "Standard_NC40ads_H100_v5"
H100_FAMILY = "StandardNCadsH100v5Family"
A100 = "Standard_NC24ads_A100_v4"


def h100_cluster(max_replicas, *, spot=0):
    groups = [group("h100", H100, gpus=1, cpu="36", max_replicas=max_replicas)]
    if spot:
        groups.append(group("h100-spot", H100, gpus=1, cpu="36", max_replicas=spot, spot=True))
    return ray_cluster("ray", groups)


def findings(view, policy_id):
    return check([get_policy(policy_id)], view)


def summary(view, policy_id):
    return [(f.region, f.severity.value, f.message) for f in findings(view, policy_id)]


# --- gpu-quota-fit ---------------------------------------------------------------------------


def test_region_exactly_at_its_limits_passes(tmp_path):
    view = build(tmp_path, [region("eastus2", [h100_cluster(8, spot=2)],
                                   quota={"families": {H100_FAMILY: 320}, "regionalVCpus": 324, "spotVCpus": 80})])
    assert summary(view, "gpu-quota-fit") == []


def test_family_regional_and_spot_are_each_checked(tmp_path):
    view = build(tmp_path, [region("eastus2", [h100_cluster(8, spot=3)],
                                   quota={"families": {H100_FAMILY: 280}, "regionalVCpus": 300, "spotVCpus": 80})])
    got = findings(view, "gpu-quota-fit")
    assert [(f.region, f.severity) for f in got] == [("eastus2", Severity.ERROR)] * 3
    assert [f.message.split(":")[0] for f in got] == [f"family {H100_FAMILY}", "total regional vCPUs",
                                                      "regional spot vCPUs"]
    assert got[2].message == ("regional spot vCPUs: max 120 vCPUs (3 x Standard_NC40ads_H100_v5 for worker group "
                              "'h100-spot' of RayCluster/ray) exceed the quota of 80 by 40")
    # each finding points at the quota line of the fleet file
    assert all(f.source.file.endswith("fleet.yaml") and f.source.line for f in got)
    assert len({f.source.line for f in got}) == 3


def test_region_without_quota_is_not_checked(tmp_path):
    view = build(tmp_path, [region("eastus2", [h100_cluster(100)])])
    assert summary(view, "gpu-quota-fit") == []


def test_unbounded_gpu_group_is_an_error_even_without_quota(tmp_path):
    cluster = ray_cluster("ray", [group("h100", H100, gpus=1, cpu="36", max_replicas=None)])
    view = build(tmp_path, [region("eastus2", [cluster])])
    [finding] = findings(view, "gpu-quota-fit")
    assert finding.path == "spec.workerGroupSpecs[0].maxReplicas"
    assert "sets no maxReplicas" in finding.message


# --- failover-headroom -----------------------------------------------------------------------


def two_regions(tmp_path, *, east_max, west_max, west_quota, failover=None, spot=0):
    return build(tmp_path, [
        region("eastus2", [h100_cluster(east_max, spot=spot)], quota={"families": {H100_FAMILY: 400}},
               peers=["westus3"]),
        region("westus3", [h100_cluster(west_max)], quota=west_quota, peers=["eastus2"]),
    ], failover=failover)


def test_failover_absorbed_when_the_peer_has_room(tmp_path):
    # eastus2 needs 4 H100 nodes (160 vCPUs); westus3 uses 160 of 320: 160 spare
    view = two_regions(tmp_path, east_max=4, west_max=4, west_quota={"families": {H100_FAMILY: 320}})
    assert summary(view, "failover-headroom") == []
    outcome = failover_outcomes(view)["eastus2"]
    assert outcome.absorbed and outcome.gpus_placed == 4


def test_failover_short_is_a_warning_in_best_effort(tmp_path):
    view = two_regions(tmp_path, east_max=6, west_max=4, west_quota={"families": {H100_FAMILY: 320}})
    assert summary(view, "failover-headroom") == [(
        "eastus2", "warning",
        "if it is lost, its failover peers (westus3) cannot absorb its GPU demand: 4 of its 6 H100 NVL 94GB GPUs "
        "(Standard_NC40ads_H100_v5) fit in the peers' spare quota, 2 short")]


def test_failover_short_is_an_error_in_n_plus_1(tmp_path):
    view = two_regions(tmp_path, east_max=6, west_max=4, west_quota={"families": {H100_FAMILY: 320}}, failover="n+1")
    assert [s for _, s, _ in summary(view, "failover-headroom")] == ["error"]


def test_regional_spare_limits_failover_too(tmp_path):
    view = two_regions(tmp_path, east_max=4, west_max=0,
                       west_quota={"families": {H100_FAMILY: 1000}, "regionalVCpus": 100})
    # westus3: head 4 vCPUs -> 96 regional vCPUs spare -> 2 nodes of 40
    assert failover_outcomes(view)["eastus2"].gpus_placed == 2


def test_spot_groups_fail_over_into_spot_quota(tmp_path):
    view = two_regions(tmp_path, east_max=0, west_max=0, spot=3,
                       west_quota={"families": {H100_FAMILY: 1000}, "spotVCpus": 80})
    [(_, _, message)] = summary(view, "failover-headroom")
    assert "2 of its 3 H100 NVL 94GB spot GPUs (Standard_NC40ads_H100_v5) fit in the peers' spare spot vCPUs, 1 short" \
        in message


def test_several_peers_share_the_load_in_listed_order(tmp_path):
    view = build(tmp_path, [
        region("eastus2", [h100_cluster(5)], quota={"families": {H100_FAMILY: 200}},
               peers=["westus3", "swedencentral"]),
        region("westus3", [h100_cluster(1)], quota={"families": {H100_FAMILY: 120}}, peers=["eastus2"]),
        region("swedencentral", [h100_cluster(1)], quota={"families": {H100_FAMILY: 160}}, peers=["eastus2"]),
    ])
    outcome = failover_outcomes(view)["eastus2"]
    assert outcome.absorbed
    assert outcome.groups[0].placed == {"westus3": 2, "swedencentral": 3}


def test_another_gpu_model_does_not_absorb(tmp_path):
    view = build(tmp_path, [
        region("eastus2", [h100_cluster(2)], quota={"families": {H100_FAMILY: 80}}, peers=["westus3"]),
        region("westus3", [ray_cluster("ray", [group("a100", A100, gpus=1, cpu="20", max_replicas=1)])],
               quota={"families": {"StandardNCADSA100v4Family": 1000, H100_FAMILY: 0}}, peers=["eastus2"]),
    ])
    got = dict((r, m) for r, _, m in summary(view, "failover-headroom"))
    assert "0 of its 2 H100 NVL 94GB GPUs" in got["eastus2"]
    assert "0 of its 1 A100 80GB PCIe GPUs" in got["westus3"]


def test_peer_without_quota_absorbs_nothing_and_says_so(tmp_path):
    view = build(tmp_path, [
        region("eastus2", [h100_cluster(2)], quota={"families": {H100_FAMILY: 80}}, peers=["westus3"]),
        region("westus3", [h100_cluster(0)]),
    ])
    [(_, _, message)] = summary(view, "failover-headroom")
    assert message.endswith("(westus3 declares no quota)")


def test_n_plus_1_needs_failover_peers(tmp_path):
    view = build(tmp_path, [region("eastus2", [h100_cluster(2)], quota={"families": {H100_FAMILY: 80}})],
                 failover="n+1")
    assert summary(view, "failover-headroom") == [
        ("eastus2", "error", "declares no failover peers: losing it loses up to 2 GPUs (policy.failover is n+1)")]
    best_effort = build(tmp_path / "b", [region("eastus2", [h100_cluster(2)])])
    assert summary(best_effort, "failover-headroom") == []


def test_peer_not_checked_in_this_run_gives_info(tmp_path):
    view = two_regions(tmp_path, east_max=6, west_max=4, west_quota={"families": {H100_FAMILY: 320}})
    view.releases.pop("westus3")
    [(region_name, severity, message)] = summary(view, "failover-headroom")
    assert (region_name, severity) == ("eastus2", "info")
    assert message.startswith("failover not fully checked: peer westus3 was not checked in this run")


# --- unknown-vm-size -------------------------------------------------------------------------


def release_findings(view, name):
    release: ReleaseObjects = view.releases[name]
    return [(v.path, v.message) for v in get_policy("unknown-vm-size").check(release)]


def release_severities(view, name):
    policy = get_policy("unknown-vm-size")
    return [(v.severity or policy.severity).value for v in policy.check(view.releases[name])]


def test_unknown_size_and_gpu_group_without_size(tmp_path):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", [
        group("typo", "Standard_NC40ads_H100_v6", gpus=1, cpu="36"),
        group("nosize", None, gpus=1, cpu="36"),
        group("cpu-nosize", None, cpu="4"),
        group("ok", H100, gpus=1, cpu="36"),
    ])])])
    assert release_findings(view, "eastus2") == [
        ('spec.workerGroupSpecs[0].template.spec.nodeSelector["node.kubernetes.io/instance-type"]',
         "worker group 'typo' runs on VM size 'Standard_NC40ads_H100_v6', which is neither in rayfleet's catalogue "
         "nor in the fleet file's vmSizes (a typo?), so the GPU quota and failover checks cannot count it"),
        ("spec.workerGroupSpecs[1].template.spec.nodeSelector",
         "worker group 'nosize' asks for GPUs but selects no VM size (no node.kubernetes.io/instance-type "
         "nodeSelector), so its quota cannot be checked"),
    ]
    # A typo must fail the run (it switches the quota check off); a missing size is a warning.
    assert release_severities(view, "eastus2") == ["error", "warning"]


def test_fleet_vm_sizes_make_a_size_known(tmp_path):
    view = build(tmp_path, [region("eastus2", [ray_cluster("ray", [group("new", "Standard_NX1_v9", gpus=1)])])],
                 vm_sizes={"Standard_NX1_v9": {"vcpus": 8, "gpus": 1, "family": "standardNXv9Family"}})
    assert release_findings(view, "eastus2") == []


# --- table and live quotas -------------------------------------------------------------------


def test_capacity_table_rows_totals_and_headroom_after_failover(tmp_path):
    view = two_regions(tmp_path, east_max=2, west_max=4,
                       west_quota={"families": {H100_FAMILY: 320}, "regionalVCpus": 500, "spotVCpus": 0})
    table = capacity_table(view)
    rows = {(r.region, r.kind): r for r in table.rows}
    east = rows[("eastus2", "family")]
    assert (east.quota_name, east.gpu_models, east.max_gpus, east.max_vcpus, east.quota) == (
        H100_FAMILY, ("H100 NVL 94GB",), 2, 80, 400)
    assert east.used_pct == 20.0
    assert east.headroom_after_failover == 400 - 80 - 160  # absorbs westus3's 4 nodes
    west = rows[("westus3", "family")]
    assert west.headroom_after_failover == 320 - 160 - 80  # absorbs eastus2's 2 nodes
    assert rows[("westus3", "regional")].headroom_after_failover == 500 - 164 - 80
    assert rows[("westus3", "spot")].max_vcpus == 0 and rows[("eastus2", "regional")].quota is None
    totals = {(r.kind, r.quota_name): r for r in table.totals}
    assert (totals[("family", H100_FAMILY)].max_gpus, totals[("family", H100_FAMILY)].quota) == (6, 720)
    assert totals[("regional", "total regional vCPUs")].quota is None  # eastus2 declares none
    assert capacity_to_dict(table)["rows"][0]["usedPercent"] == 20.0


def test_live_quotas_replace_the_fleet_file_figures(tmp_path):
    view = two_regions(tmp_path, east_max=8, west_max=0, west_quota={"families": {H100_FAMILY: 320}})
    assert summary(view, "gpu-quota-fit") == []
    live = with_quotas(view, {"eastus2": Quota({"standardncadsh100v5family": 200}, 1000, 0)})
    assert [m.split(":")[0] for _, _, m in summary(live, "gpu-quota-fit")] == [f"family {H100_FAMILY}"]
    assert live.releases["eastus2"].region.quota.regional_vcpus == 1000
    assert view.fleet.regions[0].quota.regional_vcpus is None  # the original is untouched


def test_check_capacity_runs_the_three_policies_and_keeps_the_table(tmp_path):
    view = two_regions(tmp_path, east_max=12, west_max=4, west_quota={"families": {H100_FAMILY: 320}})
    result, table = check_capacity(view)
    assert {f.policy for f in result.findings} == {"gpu-quota-fit", "failover-headroom"}
    assert result.command == "quota" and result.capacity == table
    assert [p.id for p in result.policies] == ["unknown-vm-size", "gpu-quota-fit", "failover-headroom"]
