"""A Fleet Manager staged update run as JSON (the JSON report's ``data.rollout`` for
``rollout --engine fleet-manager``)."""

from __future__ import annotations

from typing import Any

from ..delivery.run import RegionCheck, StageReport, UpdateRunReport


def region_check_to_dict(check: RegionCheck) -> dict[str, Any]:
    return {"region": check.region, "ok": check.ok, "message": check.message,
            "findings": [{"policy": f.policy, "severity": f.severity.value, "message": f.message}
                         for f in check.findings]}


def stage_to_dict(stage: StageReport) -> dict[str, Any]:
    return {"name": stage.name, "wave": stage.wave, "regions": stage.regions, "status": stage.status,
            "message": stage.message, "approvalRequest": stage.approval,
            "checks": [region_check_to_dict(c) for c in stage.checks]}


def update_run_to_dict(report: UpdateRunReport) -> dict[str, Any]:
    return {"engine": "fleet-manager", "run": report.run, "placement": report.placement, "strategy": report.strategy,
            "resourceSnapshotIndex": report.snapshot, "dryRun": report.dry_run, "status": report.status,
            "message": report.message, "stoppedAt": report.stopped_at,
            "stages": [stage_to_dict(s) for s in report.stages], "objects": report.objects}
