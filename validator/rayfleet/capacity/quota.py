"""Quota fit: which of a region's quotas its max demand exceeds, and quotas from elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..fleet import Quota
from ..subjects import FleetView
from .catalogue import normalise_family
from .demand import GroupDemand, RegionDemand

REGIONAL = "total regional vCPUs"
SPOT = "regional spot vCPUs"


@dataclass(frozen=True)
class QuotaBreach:
    """One quota a region's max demand exceeds."""

    region: str
    kind: str  # "family" | "regional" | "spot"
    name: str  # family as Azure spells it, or REGIONAL / SPOT
    demand: int
    quota: int
    groups: tuple[GroupDemand, ...]
    family_key: str | None = None

    @property
    def excess(self) -> int:
        return self.demand - self.quota

    @property
    def message(self) -> str:
        what = {"family": f"family {self.name}", "regional": "total regional vCPUs",
                "spot": "regional spot vCPUs"}[self.kind]
        parts = "; ".join(g.describe() for g in self.groups if g.vcpus)
        quota = f"the quota of {self.quota}" if self.quota else "no quota (0 vCPUs)"
        return f"{what}: max {self.demand} vCPUs ({parts}) exceed {quota} by {self.excess}"


def quota_families(quota: Quota) -> dict[str, int]:
    """A quota's families keyed by normalised name (the larger figure wins on a clash)."""
    out: dict[str, int] = {}
    for name, value in quota.families.items():
        key = normalise_family(name)
        out[key] = max(out.get(key, 0), int(value))
    return out


def quota_breaches(demand: RegionDemand, quota: Quota) -> list[QuotaBreach]:
    """Every quota the region's max demand exceeds. A region exactly at a limit fits."""
    region = demand.region or ""
    breaches: list[QuotaBreach] = []
    families = quota_families(quota)
    names = demand.family_names
    for key, vcpus in sorted(demand.family_vcpus.items()):
        limit = families.get(key, 0)
        if vcpus > limit:
            breaches.append(QuotaBreach(region, "family", names[key], vcpus, limit,
                                        tuple(demand.in_family(key)), key))
    if quota.regional_vcpus is not None and demand.regional_vcpus > quota.regional_vcpus:
        breaches.append(QuotaBreach(region, "regional", REGIONAL, demand.regional_vcpus, quota.regional_vcpus,
                                    tuple(g for g in demand.groups if not g.spot)))
    if quota.spot_vcpus is not None and demand.spot_vcpus > quota.spot_vcpus:
        breaches.append(QuotaBreach(region, "spot", SPOT, demand.spot_vcpus, quota.spot_vcpus,
                                    tuple(g for g in demand.groups if g.spot)))
    return breaches


def with_quotas(view: FleetView, quotas: Mapping[str, Quota]) -> FleetView:
    """The same view with some regions' quota replaced (e.g. by the live figures from Azure)."""
    regions = tuple(replace(r, quota=quotas[r.name]) if r.name in quotas else r for r in view.fleet.regions)
    fleet = replace(view.fleet, regions=regions)
    by_name = {r.name: r for r in regions}
    releases = {name: replace(rel, region=by_name.get(name, rel.region), fleet=fleet)
                for name, rel in view.releases.items()}
    return FleetView(fleet, releases)
