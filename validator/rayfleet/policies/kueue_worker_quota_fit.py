"""A worker's Kueue GPU quota fits its Azure quota, and its failover headroom."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ..capacity import REGIONAL, SPOT, RegionDemand, Spare, failover_outcomes, region_demand, spare_quota
from ..findings import Severity, Violation
from ..kueue import GPU, queue_targets, scheduling_queue_keys, scheduling_view
from .base import FleetView, Policy, Scope


def _minus(spare: Spare, taken: dict[tuple[str, bool], int]) -> Spare:
    families = dict(spare.families)
    for (key, spot), vcpus in taken.items():
        if key not in (REGIONAL, SPOT) and not spot:
            families[key] = max(families.get(key, 0) - vcpus, 0)
    regional = None if spare.regional is None else max(spare.regional - taken.get((REGIONAL, False), 0), 0)
    spot = None if spare.spot is None else max(spare.spot - taken.get((SPOT, True), 0), 0)
    return Spare(families, regional, spot)


def check(view: FleetView) -> Iterator[Violation]:
    sv = scheduling_view(view)
    if sv is None:
        return
    fleet = view.fleet
    strict = fleet.settings.failover == "n+1"
    outcomes = failover_outcomes(view)
    for region in fleet.workers:
        release = sv.workers.get(region.name)
        if release is None or region.quota is None:
            continue
        demand = region_demand(release)
        taken: dict[tuple[str, bool], int] = {}
        hosts: list[str] = []
        for outcome in outcomes.values():
            if region.name in outcome.peers:
                share = outcome.vcpus_taken(region.name)
                if share:
                    hosts.append(outcome.region)
                for key, vcpus in share.items():
                    taken[key] = max(taken.get(key, 0), vcpus)
        whole = spare_quota(RegionDemand(region.name, ()), region.quota)
        headroom = _minus(spare_quota(demand, region.quota), taken)
        for cq in queue_targets(release, scheduling_queue_keys(fleet)).values():
            for quota in cq.quotas:
                if quota.resource != GPU or not quota.value:
                    continue
                group = next((g for g in demand.groups if g.role == "worker" and g.group == quota.flavor
                              and g.vm is not None and g.vm.gpus), None)
                if group is None or group.vm is None:
                    continue  # no GPU group of that name: kueue-flavors-match-node-pools reports it
                vm = group.vm
                nodes = math.ceil(quota.value / vm.gpus)
                allowed = whole.nodes_fitting(vm, group.spot)
                what = (f"ClusterQueue {cq.name} flavor {quota.flavor!r}: {GPU} nominalQuota {quota.raw} needs "
                        f"{nodes} x {vm.name} ({nodes * vm.vcpus} vCPUs)")
                bucket = "spot vCPU quota" if group.spot else f"{vm.family} and total regional vCPU quota"
                if nodes > allowed:
                    yield Violation(f"{what} but the region's {bucket} holds {allowed} nodes: Kueue would admit jobs "
                                    "whose nodes Azure never provisions", obj=cq.obj.ref, path=quota.path,
                                    value=quota.raw, region=region.name)
                    continue
                room = headroom.nodes_fitting(vm, group.spot)
                if nodes > room:
                    besides = [f"the release's own RayCluster at its max ({group.nodes} nodes of the group)"]
                    if hosts:
                        besides.append(f"the failover share it hosts for {', '.join(hosts)}")
                    yield Violation(f"{what}; besides {' and '.join(besides)} the {bucket} leaves room for "
                                    f"{room} nodes: at full load the queue's jobs wait for nodes",
                                    obj=cq.obj.ref, path=quota.path, value=quota.raw, region=region.name,
                                    severity=Severity.ERROR if strict else Severity.WARNING)


POLICY = Policy(
    id="kueue-worker-quota-fit",
    title="A worker's Kueue GPU quota fits its Azure quota and failover headroom",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "Kueue admits jobs against the ClusterQueue's nominal quota, not against what Azure can provision. A "
        "GPU quota above what the region's vCPU quota holds in the flavor's VM size admits jobs whose nodes "
        "never arrive: their pods stay Pending while they hold quota, and MultiKueue does not send them "
        "elsewhere. Each flavor is its worker group's node pool, so the GPUs translate to nodes of the group's "
        "VM size (as in the capacity model). Beyond that hard limit the quota should also leave room for the "
        "release's own RayCluster at its maximum and for the nodes the region hosts when a failover peer is "
        "lost (a warning; an error when policy.failover is n+1)."
    ),
    remediation=(
        "Lower the ClusterQueue's nvidia.com/gpu nominalQuota for the flavor (and the manager's sum with it), "
        "lower the worker group's maxReplicas, or request more quota for the VM family in that region."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/",
        "https://learn.microsoft.com/azure/quotas/per-vm-quota-requests",
    ),
    check=check,
)
