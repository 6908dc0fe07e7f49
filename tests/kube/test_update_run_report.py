"""A Fleet Manager staged update run as JSON (rayfleet.report.update_run), every field, on a
hand-made report."""

from __future__ import annotations

from rayfleet.delivery.run import RegionCheck, StageReport, UpdateRunReport
from rayfleet.findings import Finding, Severity
from rayfleet.report.update_run import update_run_to_dict


def test_every_field_of_a_stopped_run():
    finding = Finding("raycluster-ready", Severity.ERROR, "RayCluster ray/ray is not ready", "", region="westus3")
    report = UpdateRunReport(
        run="ray-aks-0-2-0", placement="ray-aks", strategy="ray-aks-waves",
        stages=[StageReport("wave-1", 1, ["eastus2"], "succeeded", "", None, [RegionCheck("eastus2", True)]),
                StageReport("wave-2", 2, ["westus3", "swedencentral"], "failed", "westus3 not ready",
                            "approval-wave-2", [RegionCheck("westus3", False, "not ready", [finding])])],
        snapshot="3", dry_run=False, status="stopped", message="stopped after wave-2",
        stopped_at={"stage": "wave-2"}, objects=[{"kind": "StagedUpdateRun", "name": "ray-aks-0-2-0"}])
    assert update_run_to_dict(report) == {
        "engine": "fleet-manager", "run": "ray-aks-0-2-0", "placement": "ray-aks", "strategy": "ray-aks-waves",
        "resourceSnapshotIndex": "3", "dryRun": False, "status": "stopped", "message": "stopped after wave-2",
        "stoppedAt": {"stage": "wave-2"},
        "stages": [
            {"name": "wave-1", "wave": 1, "regions": ["eastus2"], "status": "succeeded", "message": "",
             "approvalRequest": None, "checks": [{"region": "eastus2", "ok": True, "message": "", "findings": []}]},
            {"name": "wave-2", "wave": 2, "regions": ["westus3", "swedencentral"], "status": "failed",
             "message": "westus3 not ready", "approvalRequest": "approval-wave-2",
             "checks": [{"region": "westus3", "ok": False, "message": "not ready", "findings": [
                 {"policy": "raycluster-ready", "severity": "error", "message": "RayCluster ray/ray is not ready"}]}]},
        ],
        "objects": [{"kind": "StagedUpdateRun", "name": "ray-aks-0-2-0"}],
    }
