"""Losing one region: its failover peers' spare quota can host its GPU nodes."""

from __future__ import annotations

from collections.abc import Iterator

from ..capacity import failover_outcomes, region_demand
from ..findings import Severity, SourceLocation, Violation
from .base import FleetView, Policy, Reads, Scope


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    strict = fleet.settings.failover == "n+1"
    severity = Severity.ERROR if strict else Severity.WARNING
    outcomes = failover_outcomes(view)
    for index, region in enumerate(fleet.regions):
        release = view.releases.get(region.name)
        if release is None:
            continue
        source = _line(view, index)
        if not region.failover_peers:
            gpus = region_demand(release).gpus
            if strict and gpus:
                yield Violation(f"declares no failover peers: losing it loses up to {gpus} GPUs "
                                "(policy.failover is n+1)", region=region.name, severity=severity, source=source)
            continue
        outcome = outcomes.get(region.name)
        if outcome is None or outcome.absorbed:
            continue
        if outcome.unchecked:
            yield Violation(f"failover not fully checked: {outcome.unchecked}; {outcome.message}",
                            region=region.name, severity=Severity.INFO, source=source)
            continue
        yield Violation(outcome.message, region=region.name, severity=severity, source=source)


def _line(view: FleetView, index: int) -> SourceLocation | None:
    document = view.fleet.document
    if document is None:
        return None
    return SourceLocation(document.path, document.line_of(("regions", index, "failoverPeers")))


POLICY = Policy(
    id="failover-headroom",
    title="A lost region's GPU demand fits in its failover peers' spare quota",
    severity=Severity.WARNING,
    scope=Scope.FLEET,
    rationale=(
        "One region never has enough GPUs, and regions fail. When a region is lost its jobs are sent "
        "to its failover peers (for example by Kueue MultiKueue), which can only start them if their "
        "quota has room for the same VM sizes on top of their own maximum demand. The check asks "
        "whether the peers together can host every GPU node of the lost region, node for node and of "
        "the same VM size, within their spare family, regional and spot vCPUs. It is an error when "
        "policy.failover is n+1, and then a region with GPUs must also declare failover peers."
    ),
    remediation=(
        "Add failover peers with spare quota for the same VM sizes, request more quota in the peers, "
        "or lower the lost region's maxReplicas; with policy.failover best-effort the gap is accepted."
    ),
    check=check,
    references=(
        "https://learn.microsoft.com/azure/aks/ray-overview",
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
    ),
    reads=frozenset({Reads.CAPACITY}),
)
