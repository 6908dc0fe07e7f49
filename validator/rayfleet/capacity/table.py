"""The capacity table: per region and quota, max GPUs and vCPUs against the quota, and the
headroom left after the worst failover the region is a peer for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..fleet import Region
from ..subjects import FleetView
from .catalogue import normalise_family
from .demand import GroupDemand, RegionDemand
from .failover import FailoverOutcome, demands_of, failover_outcomes
from .quota import REGIONAL, SPOT, quota_families


@dataclass(frozen=True)
class CapacityRow:
    """One line of the capacity table: a region's demand on one quota."""

    region: str  # region name, or "fleet" for totals
    quota_name: str  # family as Azure spells it, REGIONAL or SPOT
    kind: str  # "family" | "regional" | "spot"
    gpu_models: tuple[str, ...]
    max_gpus: int
    max_vcpus: int
    quota: int | None
    headroom_after_failover: int | None = None

    @property
    def used_pct(self) -> float | None:
        if self.quota is None:
            return None
        if self.quota == 0:
            return None if self.max_vcpus else 0.0
        return 100.0 * self.max_vcpus / self.quota

    @property
    def fits(self) -> bool | None:
        return None if self.quota is None else self.max_vcpus <= self.quota


@dataclass(frozen=True)
class CapacityTable:
    rows: tuple[CapacityRow, ...]
    totals: tuple[CapacityRow, ...]
    notes: tuple[str, ...] = ()
    quota_source: str = "fleet file"  # or "live"


def capacity_table(view: FleetView, *, quota_source: str = "fleet file") -> CapacityTable:
    """Per region and quota: max GPUs, max vCPUs, the quota, % used and the headroom left after
    the region absorbs its share of the worst single-region failure it is a peer for; then
    fleet totals per family. Regions are in fleet order, families by name."""
    demands = demands_of(view)
    outcomes = failover_outcomes(view)
    rows: list[CapacityRow] = []
    notes: list[str] = []
    for region in view.fleet.regions:
        demand = demands.get(region.name)
        if demand is None:
            continue
        rows.extend(_region_rows(region, demand, outcomes))
        for g in demand.groups:
            if g.vm is None and g.role == "worker":
                size = f"VM size {g.vm_size_name!r} is unknown" if g.vm_size_name else "it selects no VM size"
                notes.append(f"{region.name}: {g.label}: {size}; counted by CPU requests only")
            if g.unbounded:
                notes.append(f"{region.name}: {g.label} sets no maxReplicas; counted at {g.max_pods} pods")
    return CapacityTable(tuple(rows), tuple(_totals(rows)), tuple(notes), quota_source)


def _region_rows(region: Region, demand: RegionDemand, outcomes: Mapping[str, FailoverOutcome]) -> list[CapacityRow]:
    quota = region.quota
    families = quota_families(quota) if quota is not None else {}
    taken_worst: dict[tuple[str, bool], int] = {}
    for outcome in outcomes.values():
        if region.name not in outcome.peers:
            continue
        for key, vcpus in outcome.vcpus_taken(region.name).items():
            taken_worst[key] = max(taken_worst.get(key, 0), vcpus)

    def headroom(limit: int | None, used: int, key: tuple[str, bool]) -> int | None:
        return None if limit is None else limit - used - taken_worst.get(key, 0)

    rows: list[CapacityRow] = []
    names = dict(demand.family_names)
    used = dict(demand.family_vcpus)
    for outcome in outcomes.values():  # families this region would host for a lost peer
        for a in outcome.groups:
            vm = a.group.vm
            if vm is not None and not a.group.spot and a.placed.get(region.name):
                names.setdefault(vm.family_key, vm.family)
                used.setdefault(vm.family_key, 0)
    for key, vcpus in sorted(used.items(), key=lambda kv: names[kv[0]].lower()):
        groups = demand.in_family(key)
        limit = families.get(key, 0) if quota is not None else None
        rows.append(CapacityRow(region.name, names[key], "family", _models(groups), sum(g.gpus for g in groups),
                                vcpus, limit, headroom(limit, vcpus, (key, False))))
    on_demand = [g for g in demand.groups if not g.spot]
    regional = quota.regional_vcpus if quota is not None else None
    rows.append(CapacityRow(region.name, REGIONAL, "regional", _models(on_demand), sum(g.gpus for g in on_demand),
                            demand.regional_vcpus, regional,
                            headroom(regional, demand.regional_vcpus, (REGIONAL, False))))
    spot_groups = [g for g in demand.groups if g.spot]
    spot_limit = quota.spot_vcpus if quota is not None else None
    if spot_groups or spot_limit is not None:
        rows.append(CapacityRow(region.name, SPOT, "spot", _models(spot_groups), sum(g.gpus for g in spot_groups),
                                demand.spot_vcpus, spot_limit, headroom(spot_limit, demand.spot_vcpus, (SPOT, True))))
    return rows


def _models(groups: Iterable[GroupDemand]) -> tuple[str, ...]:
    return tuple(sorted({g.vm.gpu_model for g in groups if g.vm is not None and g.vm.gpu_model and g.gpus}))


def _totals(rows: list[CapacityRow]) -> list[CapacityRow]:
    merged: dict[tuple[str, str], list[CapacityRow]] = {}
    for row in rows:
        key = (row.kind, normalise_family(row.quota_name) if row.kind == "family" else row.kind)
        merged.setdefault(key, []).append(row)
    totals: list[CapacityRow] = []
    order = {"family": 0, "regional": 1, "spot": 2}
    for (kind, _), items in sorted(merged.items(), key=lambda kv: (order[kv[0][0]], kv[1][0].quota_name.lower())):
        quotas = [r.quota for r in items]  # headroom after failover is per region: no fleet total
        totals.append(CapacityRow(
            "fleet", items[0].quota_name, kind, tuple(sorted({m for r in items for m in r.gpu_models})),
            sum(r.max_gpus for r in items), sum(r.max_vcpus for r in items),
            None if any(q is None for q in quotas) else sum(q for q in quotas if q is not None)))
    return totals
