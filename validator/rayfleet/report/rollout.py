"""The rollout report as JSON for CI (shape: ``docs/rollout.md``); the JSON report carries it
as ``data.rollout``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..findings import Finding
from ..plan import waves
from ..rollout import RegionOutcome, RegionStatus, RolloutReport, StepOutcome, StepStatus

if TYPE_CHECKING:  # the kubernetes client loads only for the commands that talk to a cluster
    from ..kube.readiness import Readiness

REPORT_SCHEMA = "rayfleet-rollout/v1"


def readiness_to_dict(readiness: Readiness) -> dict[str, Any]:
    return {"name": readiness.name, "ready": readiness.ready, "found": readiness.found, "state": readiness.state,
            "conditions": dict(readiness.conditions), "reason": readiness.reason,
            "waitedSeconds": round(readiness.waited, 3)}


def step_to_dict(step: StepOutcome) -> dict[str, Any]:
    return {"name": step.name, "status": step.status.value, "durationSeconds": round(step.seconds, 3),
            "message": step.message}


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"policy": f.policy, "severity": f.severity.value, "message": f.message, "region": f.region,
            "object": str(f.obj) if f.obj else None, "path": f.path or None, "waived": not f.counts}


def _operator_dict(outcome: RegionOutcome, helm: str, helm4: bool) -> dict[str, Any] | None:
    """The region's Anyscale operator release (None when it runs none)."""
    operator, deployed = outcome.plan.anyscale, outcome.anyscale
    if operator is None:
        return None
    return {"release": operator.release, "namespace": operator.namespace, "chart": operator.chart,
            "version": operator.version,
            "command": deployed.command if deployed and deployed.command else operator.command(helm=helm, helm4=helm4),
            "revision": deployed.revision if deployed else None, "helmStatus": deployed.status if deployed else None}


def region_to_dict(outcome: RegionOutcome, command: list[str], helm: str = "helm",
                   helm4: bool = False) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "name": plan.name, "wave": plan.wave, "status": outcome.status.value, "message": outcome.message,
        "kubeContext": plan.kube_context, "release": plan.release, "namespace": plan.namespace,
        "command": command,
        "steps": [step_to_dict(s) for s in outcome.steps],
        "revision": outcome.deploy.revision if outcome.deploy else None,
        "helmStatus": outcome.deploy.status if outcome.deploy else None,
        "anyscale": _operator_dict(outcome, helm, helm4),
        "rayCluster": readiness_to_dict(outcome.readiness) if outcome.readiness else (
            {"name": plan.raycluster} if plan.raycluster else None),
        "findings": [_finding_dict(f) for f in outcome.findings],
    }


def _wave_state(statuses: set[RegionStatus]) -> str:
    if statuses <= {RegionStatus.PLANNED}:
        return "planned"
    if statuses <= {RegionStatus.SUCCEEDED} or statuses <= {RegionStatus.CHECKED}:
        return "succeeded" if RegionStatus.SUCCEEDED in statuses else "checked"
    if statuses & {RegionStatus.FAILED, RegionStatus.BLOCKED}:
        return "failed"
    if statuses == {RegionStatus.NOT_STARTED}:
        return "not-started"
    return "partial"


def rollout_to_dict(report: RolloutReport) -> dict[str, Any]:
    finished = report.finished or datetime.now(UTC)
    stopped = report.stopped_at
    wave_rows = []
    for wave, plans in waves([r.plan for r in report.regions]):
        statuses = {o.status for o in report.regions if o.plan.wave == wave}
        wave_rows.append({"wave": wave, "status": _wave_state(statuses), "regions": [p.name for p in plans]})
    return {
        "schema": REPORT_SCHEMA,
        "tool": {"name": "rayfleet", "version": __version__},
        "fleet": report.fleet,
        "dryRun": report.dry_run,
        "status": report.status,
        "error": report.error,
        "startedAt": report.started.isoformat(timespec="seconds"),
        "finishedAt": finished.isoformat(timespec="seconds"),
        "durationSeconds": round((finished - report.started).total_seconds(), 3),
        "validation": dict(report.validation),
        "stoppedAt": {"wave": stopped.plan.wave, "region": stopped.name,
                      "step": next((s.name for s in stopped.steps if s.status is StepStatus.FAILED), None)}
        if stopped else None,
        "waves": wave_rows,
        "regions": [region_to_dict(r, r.deploy.command if r.deploy and r.deploy.command
                                   else r.plan.command(helm=report.helm, helm4=report.helm4), report.helm, report.helm4)
                    for r in report.regions],
    }


def format_rollout_json(report: RolloutReport) -> str:
    """The JSON report for CI (shape: ``docs/rollout.md``)."""
    return json.dumps(rollout_to_dict(report), indent=2) + "\n"
