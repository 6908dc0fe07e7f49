"""The update strategy's stages follow the fleet's waves, canary first, each gated by an approval."""

from __future__ import annotations

from collections.abc import Iterator

from ..delivery.view import export_view, selects
from ..findings import Severity, Violation
from ._delivery import member_labels
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    exports = export_view(view.fleet)
    if exports is None or exports.hub.problem:
        return  # fleet-stage-per-region reports a missing export
    for strategy in exports.hub.of_kind("ClusterStagedUpdateStrategy"):
        if strategy.name != exports.delivery.strategy:
            continue
        previous: tuple[int, str] | None = None
        for index, stage in enumerate((strategy.body.get("spec") or {}).get("stages") or []):
            name = stage.get("name", "?")
            waves = sorted({r.wave for r in view.fleet.regions
                            if selects(stage.get("labelSelector"), member_labels(r))})
            where = f"spec.stages[{index}]"
            if len(waves) > 1:
                yield Violation(f"stage {name} mixes waves {', '.join(map(str, waves))}", obj=strategy.ref,
                                path=where, source=strategy.origin)
            if waves and previous is not None and waves[0] <= previous[0]:
                yield Violation(f"stage {name} (wave {waves[0]}) runs after stage {previous[1]} (wave {previous[0]}): "
                                "stages must follow the waves in ascending order", obj=strategy.ref, path=where,
                                source=strategy.origin)
            if not any(t.get("type") == "Approval" for t in stage.get("afterStageTasks") or []):
                yield Violation(f"stage {name} has no approval gate after it: the next wave would start before "
                                "rayfleet's readiness checks", obj=strategy.ref, path=f"{where}.afterStageTasks",
                                source=strategy.origin)
            if waves:
                previous = (waves[-1], name)


POLICY = Policy(
    id="fleet-stage-order",
    title="Update stages follow the waves (canary first), each gated by an approval",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "Waves exist so a bad release stops at the canary. Fleet Manager runs stages in the order listed and "
        "moves on when a stage's after-stage tasks finish: a stage out of wave order, a stage mixing waves, or a "
        "stage without an approval gate lets a later wave update before the earlier one is proven ready."
    ),
    remediation="Re-run rayfleet export fleet-manager (one stage per wave, ascending, approval after each) and "
                "commit the result.",
    references=("https://learn.microsoft.com/azure/kubernetes-fleet/howto-staged-update-run",),
    check=check,
)
