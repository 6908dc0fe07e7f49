"""Failover: whether a lost region's peers can host its GPU nodes within their spare quota."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from ..fleet import Quota
from ..subjects import FleetView
from .catalogue import VmSize
from .demand import GroupDemand, RegionDemand, region_demand
from .quota import REGIONAL, SPOT, quota_families


@dataclass
class Spare:
    """A region's spare quota: what its own max demand leaves free. None = not limited."""

    families: dict[str, int]
    regional: int | None
    spot: int | None

    def nodes_fitting(self, vm: VmSize, spot: bool) -> int:
        if spot:
            return _fits(self.spot, vm.vcpus)
        return min(_fits(self.families.get(vm.family_key, 0), vm.vcpus), _fits(self.regional, vm.vcpus))

    def take(self, vm: VmSize, spot: bool, nodes: int) -> None:
        used = nodes * vm.vcpus
        if spot:
            self.spot = None if self.spot is None else self.spot - used
            return
        self.families[vm.family_key] = self.families.get(vm.family_key, 0) - used
        self.regional = None if self.regional is None else self.regional - used


def _fits(free: int | None, vcpus: int) -> int:
    if free is None:
        return 2**62
    return max(free, 0) // vcpus


def spare_quota(demand: RegionDemand, quota: Quota) -> Spare:
    families = quota_families(quota)
    for key, used in demand.family_vcpus.items():
        families[key] = families.get(key, 0) - used
    regional = None if quota.regional_vcpus is None else quota.regional_vcpus - demand.regional_vcpus
    spot = None if quota.spot_vcpus is None else quota.spot_vcpus - demand.spot_vcpus
    return Spare({k: max(v, 0) for k, v in families.items()},
                 None if regional is None else max(regional, 0), None if spot is None else max(spot, 0))


@dataclass(frozen=True)
class Absorbed:
    """What one GPU group of a lost region needs, and where its nodes went."""

    group: GroupDemand
    placed: dict[str, int]  # peer → nodes

    @property
    def nodes_short(self) -> int:
        return self.group.nodes - sum(self.placed.values())

    @property
    def gpus_needed(self) -> int:
        return self.group.gpus

    @property
    def gpus_placed(self) -> int:
        if self.group.nodes == 0:
            return 0
        per_node = self.group.pods_per_node * self.group.gpus_per_pod
        return min(self.group.gpus, sum(self.placed.values()) * per_node)


@dataclass(frozen=True)
class FailoverOutcome:
    """What happens to one region's GPU demand when it is lost."""

    region: str
    peers: tuple[str, ...]
    groups: tuple[Absorbed, ...]
    unusable_peers: dict[str, str] = field(default_factory=dict)  # peer → why it absorbs nothing
    unbounded: tuple[GroupDemand, ...] = ()
    unchecked: str | None = None  # why the outcome could not be computed

    @property
    def gpus_needed(self) -> int:
        return sum(a.gpus_needed for a in self.groups)

    @property
    def gpus_placed(self) -> int:
        return sum(a.gpus_placed for a in self.groups)

    @property
    def absorbed(self) -> bool:
        return not self.unbounded and all(a.nodes_short == 0 for a in self.groups)

    def vcpus_taken(self, peer: str) -> dict[tuple[str, bool], int]:
        """(family key or REGIONAL/SPOT, spot) → vCPUs ``peer`` gives to this region's failover."""
        taken: dict[tuple[str, bool], int] = {}
        for a in self.groups:
            nodes = a.placed.get(peer, 0)
            if not nodes or a.group.vm is None:
                continue
            vcpus = nodes * a.group.vm.vcpus
            key = (SPOT, True) if a.group.spot else (a.group.vm.family_key, False)
            taken[key] = taken.get(key, 0) + vcpus
            if not a.group.spot:
                taken[(REGIONAL, False)] = taken.get((REGIONAL, False), 0) + vcpus
        return taken

    @property
    def message(self) -> str:
        peers = ", ".join(self.peers)
        lines: list[str] = []
        if self.unbounded:
            lines.append("its GPU demand has no bound (" + "; ".join(
                f"{g.label} sets no maxReplicas" for g in self.unbounded) + ")")
        by_model: dict[tuple[str, str, bool], list[Absorbed]] = {}
        for a in self.groups:
            vm = a.group.vm
            assert vm is not None
            by_model.setdefault((vm.gpu_model or vm.name, vm.name, a.group.spot), []).append(a)
        for (model, size, spot), items in by_model.items():
            needed = sum(a.gpus_needed for a in items)
            placed = sum(a.gpus_placed for a in items)
            if placed >= needed:
                continue
            kind = "spot " if spot else ""
            lines.append(f"{placed} of its {needed} {model} {kind}GPUs ({size}) fit in the peers' spare "
                         f"{'spot vCPUs' if spot else 'quota'}, {needed - placed} short")
        why = "; ".join(f"{p} {reason}" for p, reason in self.unusable_peers.items())
        text = f"if it is lost, its failover peers ({peers}) cannot absorb its GPU demand: " + "; ".join(lines)
        return f"{text} ({why})" if why else text


def _gpu_groups(demand: RegionDemand) -> list[GroupDemand]:
    return [g for g in demand.groups if g.gpus > 0 and g.vm is not None and g.nodes > 0]


def failover_outcome(lost: str, demands: Mapping[str, RegionDemand], quotas: Mapping[str, Quota | None],
                     peers: Iterable[str]) -> FailoverOutcome:
    """Whether ``peers`` can together host the GPU nodes of region ``lost`` (see the module doc)."""
    peers = tuple(peers)
    demand = demands[lost]
    unusable: dict[str, str] = {}
    spares: dict[str, Spare] = {}
    for peer in peers:
        if peer not in demands:
            unusable[peer] = "was not checked in this run"
            continue
        quota = quotas.get(peer)
        if quota is None:
            unusable[peer] = "declares no quota"
            continue
        spares[peer] = spare_quota(demands[peer], quota)
    groups = sorted(_gpu_groups(demand), key=lambda g: (-(g.vm.vcpus if g.vm else 0), g.label))
    results: list[Absorbed] = []
    for group in groups:
        assert group.vm is not None
        left = group.nodes
        placed: dict[str, int] = {}
        for peer in peers:
            if peer not in spares or left == 0:
                continue
            nodes = min(left, spares[peer].nodes_fitting(group.vm, group.spot))
            if nodes:
                spares[peer].take(group.vm, group.spot, nodes)
                placed[peer] = nodes
                left -= nodes
        results.append(Absorbed(group, placed))
    unbounded = tuple(g for g in demand.unbounded if g.gpus_per_pod > 0)
    return FailoverOutcome(lost, peers, tuple(results), unusable, unbounded)


def demands_of(view: FleetView) -> dict[str, RegionDemand]:
    """Region → demand, for releases that have objects (a release that failed to render has none
    and must not look like a region with all its quota spare)."""
    return {name: region_demand(release) for name, release in view.releases.items() if release.objects}


def failover_outcomes(view: FleetView) -> dict[str, FailoverOutcome]:
    """For every region in the view with GPU demand and failover peers: what losing it means."""
    demands = demands_of(view)
    quotas = {r.name: r.quota for r in view.fleet.regions}
    known = {r.name for r in view.fleet.regions}
    outcomes: dict[str, FailoverOutcome] = {}
    for region in view.fleet.regions:
        if region.name not in demands or not region.failover_peers:
            continue
        outcome = failover_outcome(region.name, demands, quotas, region.failover_peers)
        unusable = {p: ("is not a region of the fleet" if p not in known else why)
                    for p, why in outcome.unusable_peers.items()}
        unchecked = [p for p in region.failover_peers if p in known and p not in demands]
        outcomes[region.name] = replace(
            outcome, unusable_peers=unusable,
            unchecked=f"peer {', '.join(unchecked)} was not checked in this run" if unchecked else None)
    return outcomes
