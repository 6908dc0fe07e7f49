"""``rayfleet rollout --engine fleet-manager``: validate, then drive a Fleet Manager staged update run
from the hub (``rayfleet.kube.update_run``), approving each stage after rayfleet's checks pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .delivery.settings import require_delivery
from .findings import Severity
from .fleet import Fleet
from .result import RegionSummary, Result

if TYPE_CHECKING:
    from .kube.update_run import HubApi, RunObserver, StageGate


def rollout_fleet_manager(fleet: Fleet, *, regions: Sequence[str] | None = None, dry_run: bool = False,
                          hub_context: str | None = None, kubeconfig: str | None = None, timeout: float = 600,
                          run_timeout: float = 6 * 3600, poll_interval: float = 10.0,
                          observer: RunObserver | None = None, hub: HubApi | None = None,
                          gate: StageGate | None = None, validate: Callable[..., Result] | None = None) -> Result:
    """Validate (refuse on errors); a dry run plans the run; otherwise create and drive it.

    ``Result.extra["rollout_report"]`` is the ``UpdateRunReport``, ``extra["rollout"]`` its JSON.
    """
    from .kube.update_run import HubApi, LiveStageGate, drive_update_run, plan_run
    from .pipeline import validate_fleet

    delivery = require_delivery(fleet)
    selected = fleet.select(list(regions) if regions else None)
    validation = (validate or validate_fleet)(fleet, regions=[r.name for r in selected])
    result = Result(command="rollout", findings=list(validation.findings), policies=validation.policies,
                    notes=list(validation.notes))
    result.regions = [RegionSummary(r.name) for r in selected]
    if validation.failed(Severity.ERROR):
        report = plan_run(fleet, delivery, selected, None)
        report.status, report.message = "refused", "validation failed: fix the errors first"
    elif dry_run:
        report = plan_run(fleet, delivery, selected, None)
        report.dry_run, report.status = True, "planned"
    else:
        renders = validation.extra.get("renders") or {}
        releases = {name: render.release for name, render in renders.items()}
        owned = hub is None
        hub = hub or HubApi.connect(fleet, hub_context, kubeconfig)
        try:
            gate = gate or LiveStageGate(fleet, releases, kubeconfig=kubeconfig, timeout=timeout)
            report = drive_update_run(fleet, delivery, hub, gate, regions=selected, timeout=run_timeout,
                                      poll_interval=poll_interval, observer=observer)
        finally:
            if owned:
                hub.close()
        for stage in report.stages:
            for check in stage.checks:
                result.findings.extend(check.findings)
    result.findings.extend(report.findings)
    result.extra["rollout"] = report.to_dict()
    result.extra["rollout_report"] = report
    return result
