"""Every region's member cluster is selected by exactly one stage of the staged update strategy."""

from __future__ import annotations

from collections.abc import Iterator

from ..delivery.view import export_view, selects
from ..findings import Severity, Violation
from ._delivery import member_labels
from ._fleet import region_path, region_source
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    exports = export_view(view.fleet)
    if exports is None:
        return
    hub = exports.hub
    if hub.problem:
        yield Violation(f"{hub.problem}: run rayfleet export fleet-manager --out "
                        f"{view.fleet.relative(hub.committed)}" if hub.committed else hub.problem,
                        path="delivery.exports.fleetManager")
        return
    strategies = [o for o in hub.of_kind("ClusterStagedUpdateStrategy") if o.name == exports.delivery.strategy]
    if len(strategies) != 1:
        yield Violation(f"the hub export has {len(strategies)} ClusterStagedUpdateStrategy named "
                        f"{exports.delivery.strategy!r} (expected one)", path="delivery.fleetManager.strategy")
        return
    strategy = strategies[0]
    stages = (strategy.body.get("spec") or {}).get("stages") or []
    members: dict[str, list[str]] = {}
    for region in view.fleet.regions:
        members.setdefault(region.member_name, []).append(region.name)
    for index, region in enumerate(view.fleet.regions):
        if len(members[region.member_name]) > 1:
            yield Violation(f"region {region.name!r} shares Fleet Manager member {region.member_name!r} with "
                            f"{', '.join(n for n in members[region.member_name] if n != region.name)}: each region "
                            "needs its own member cluster", region=region.name, path=region_path(index, "fleetMember"),
                            source=region_source(view.fleet, index))
            continue
        chosen = [s.get("name", "?") for s in stages if selects(s.get("labelSelector"), member_labels(region))]
        if len(chosen) != 1:
            detail = "no stage" if not chosen else f"{len(chosen)} stages ({', '.join(chosen)})"
            yield Violation(f"region {region.name!r} (member {region.member_name}) is selected by {detail} of "
                            f"{strategy.name}: expected exactly one", region=region.name, obj=strategy.ref,
                            path="spec.stages", source=strategy.origin)


POLICY = Policy(
    id="fleet-stage-per-region",
    title="Every region's member cluster is in exactly one stage of the update strategy",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "A staged update run only updates clusters its stages select: a region in no stage is never updated "
        "(and Fleet Manager fails the run for a picked cluster that matches no stage), a region in two stages "
        "is ambiguous, and two regions on one member cluster overwrite each other."
    ),
    remediation="Give every region its own fleetMember and its wave, then re-run rayfleet export fleet-manager.",
    references=("https://learn.microsoft.com/azure/kubernetes-fleet/howto-staged-update-run",),
    check=check,
)
