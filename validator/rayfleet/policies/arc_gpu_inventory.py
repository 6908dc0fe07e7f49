"""Every Arc member declares a GPU inventory that can be counted and holds its release's GPUs."""

from __future__ import annotations

from collections.abc import Iterator

from ..arc import inventory_gpus, pool_problem, pool_size
from ..capacity import region_demand
from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    for index, region in enumerate(fleet.regions):
        if not region.cluster.is_arc:
            continue
        if not region.inventory:
            yield Violation(f"Arc member {region.name!r} declares no GPU inventory, so quota fit and failover "
                            "headroom cannot count its GPUs (an Arc cluster has no Azure quota)",
                            region=region.name, path=region_path(index),
                            source=region_source(fleet, index, "cluster", "kind"))
            continue
        for p_index, pool in enumerate(region.inventory):
            problem = pool_problem(pool)
            if problem is None and pool_size(pool, fleet) is None:
                problem = f"names VM size {pool.vm_size!r}, which is neither in the catalogue nor under vmSizes"
            if problem:
                yield Violation(f"Arc member {region.name!r} node pool {pool.name!r} {problem}", region=region.name,
                                path=region_path(index, "inventory", "nodePools", p_index),
                                source=region_source(fleet, index, "inventory", "nodePools", p_index))
        release = view.releases.get(region.name)
        have = inventory_gpus(region.inventory, fleet)
        if release is not None:
            want = region_demand(release).gpus
            if want > have:
                yield Violation(f"Arc member {region.name!r}: its release asks for up to {want} GPUs but the "
                                f"declared inventory holds {have}", region=region.name,
                                path=region_path(index, "inventory"),
                                source=region_source(fleet, index, "inventory"))


POLICY = Policy(
    id="arc-gpu-inventory",
    title="Every Arc member declares a countable GPU inventory that holds its release's GPUs",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "An Azure Arc-enabled cluster (on premises or in another cloud) has GPUs but no Azure VM quota, so "
        "the fleet only knows its capacity from the node pools the fleet file declares. Without them quota "
        "fit and failover headroom would treat the member as limitless (or useless as a peer); a pool whose "
        "shape cannot be counted, or an inventory smaller than the release's maximum GPU demand, hides "
        "Pending pods the same way an exhausted Azure quota does."
    ),
    remediation=(
        "Under the region's inventory.nodePools, list each GPU pool with its node count and either the VM "
        "size its nodes match (vmSize) or an explicit shape (gpus, vcpus and the nodes' instanceType label); "
        "or lower the release's maxReplicas."
    ),
    references=(
        "https://learn.microsoft.com/azure/azure-arc/kubernetes/overview",
        "https://learn.microsoft.com/azure/azure-arc/kubernetes/conceptual-workload-identity",
    ),
    check=check,
)
