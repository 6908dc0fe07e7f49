"""Every region names a failover peer that exists."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    known = {r.name for r in view.fleet.regions}
    for index, region in enumerate(view.fleet.regions):
        if region.role == "manager":
            continue  # the MultiKueue manager runs no Ray jobs (the fleet file may not give it peers)
        if not region.failover_peers:
            yield Violation(f"region {region.name!r} names no failover peer", region=region.name,
                            path=region_path(index), source=region_source(view.fleet, index))
            continue
        for peer_index, peer in enumerate(region.failover_peers):
            problem = None
            if peer == region.name:
                problem = "is the region itself"
            elif peer not in known:
                problem = "is not a region of the fleet"
            if problem:
                yield Violation(f"region {region.name!r} failover peer {peer!r} {problem}", region=region.name,
                                path=region_path(index, "failoverPeers", peer_index),
                                source=region_source(view.fleet, index, "failoverPeers", peer_index))


POLICY = Policy(
    id="failover-peers-exist",
    title="Every region names a failover peer that exists",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "GPU quota is per region, so when a region fails its Ray jobs must go somewhere named in advance. "
        "A region without a peer, with itself as its peer or with a peer that is not in the fleet (a typo, "
        "a removed region) has no failover at all. The MultiKueue manager (role manager) runs no Ray jobs "
        "and is exempt."
    ),
    remediation="List at least one other region of the fleet in the region's failoverPeers.",
    references=(
        "https://learn.microsoft.com/azure/reliability/reliability-aks",
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
    ),
    check=check,
)
