"""Each region's max GPU demand fits its vCPU quota: per VM family, in total, and for spot."""

from __future__ import annotations

from collections.abc import Iterator

from ..capacity.catalogue import normalise_family
from ..capacity.demand import GroupDemand, region_demand
from ..capacity.quota import QuotaBreach, quota_breaches
from ..findings import Severity, SourceLocation, Violation
from ._provenance import describe_setting
from .base import FleetView, Policy, Reads, ReleaseObjects, Scope


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    for index, region in enumerate(fleet.regions):
        release = view.releases.get(region.name)
        if release is None:
            continue
        demand = region_demand(release)
        for group in demand.groups:
            if group.problem:
                yield Violation(f"{group.label}: {group.problem}; its pods can never be scheduled",
                                obj=group.obj, path=group.selector_path or group.path, region=region.name,
                                value=group.vm_size_name)
            if group.unbounded and (group.gpus_per_pod or group.vm is not None):
                yield Violation(f"{group.label} sets no maxReplicas, so the autoscaler may ask for any "
                                "number of nodes and no quota can hold it", obj=group.obj,
                                path=f"{group.path}.maxReplicas", region=region.name)
        if region.quota is None:
            continue
        for breach in quota_breaches(demand, region.quota):
            causes = [c for c in (_cause(release, g) for g in breach.groups if g.vcpus) if c]
            message = breach.message + (f"; {'; '.join(causes)}" if causes else "")
            if region.cluster.is_arc:  # an Arc member's "quota" is its declared inventory (rayfleet.arc)
                message = f"{message} (the declared Arc inventory)"
            yield Violation(message, region=region.name, source=_quota_line(view, index, breach))


def _cause(release: ReleaseObjects, group: GroupDemand) -> str:
    """Where the values files set the group's maxReplicas (an override that raised it, say)."""
    if group.role != "worker":
        return ""
    spec = next((t.group_spec for t in release.pod_templates()
                 if t.obj.ref == group.obj and t.role == "worker" and t.group == group.group), None)
    rendered = spec.get("maxReplicas") if isinstance(spec, dict) else None
    where = describe_setting(release.values, "maxReplicas", rendered, near=group.group)
    return f"{group.label}: {where}" if where else ""


def _quota_line(view: FleetView, index: int, breach: QuotaBreach) -> SourceLocation | None:
    document = view.fleet.document
    if document is None:
        return None
    key: tuple[str | int, ...] = ("regions", index, "quota")
    if view.fleet.regions[index].cluster.is_arc:
        return SourceLocation(document.path, document.line_of(("regions", index, "inventory")))
    if breach.kind == "regional":
        key = (*key, "regionalVCpus")
    elif breach.kind == "spot":
        key = (*key, "spotVCpus")
    else:
        families = view.fleet.regions[index].quota
        names = [n for n in (families.families if families else {}) if _same(n, breach.family_key)]
        key = (*key, "families", names[0]) if names else (*key, "families")
    return SourceLocation(document.path, document.line_of(key))


def _same(name: str, key: str | None) -> bool:
    return key is not None and normalise_family(name) == key


POLICY = Policy(
    id="gpu-quota-fit",
    title="Each region's max GPU demand fits its vCPU quota",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "Azure counts quota in vCPUs per VM family and in total per region (spot VMs in a separate "
        "regional spot bucket). When the autoscaler scales every worker group to maxReplicas and the "
        "nodes need more vCPUs than the quota allows, the extra nodes never arrive: pods stay Pending "
        "and the Ray job waits without an error that names the cause. A region exactly at its limit fits. "
        "The finding names the quota line in the fleet file and, for each group, the values file and line "
        "that set its maxReplicas (and the files it overrode), so an override that raised it is found."
    ),
    remediation=(
        "Lower maxReplicas (or the VM size) of the groups named, or request more quota for the family, "
        "total regional vCPUs or spot vCPUs in the Azure portal and update the region's quota in the fleet file."
    ),
    check=check,
    references=(
        "https://learn.microsoft.com/azure/quotas/per-vm-quota-requests",
        "https://learn.microsoft.com/azure/virtual-machines/quotas",
        "https://learn.microsoft.com/azure/quotas/spot-quota",
    ),
    reads=frozenset({Reads.CAPACITY}),
)
