"""``rayfleet rollout --engine fleet-manager`` and ``export fleet-manager --live``: a
ClusterStagedUpdateRun driven from the hub.

The hub holds what ``rayfleet export fleet-manager`` wrote: a ClusterResourcePlacement with the
``External`` strategy and a ClusterStagedUpdateStrategy with one stage per wave and an
``Approval`` task after each stage. The driver:

1. reads the hub's MemberClusters and refuses when they do not match the fleet
   (``fleet-members-match``), and reads the placement's latest resource snapshot index
   (``ClusterResourceSnapshot`` labels ``kubernetes-fleet.io/parent-CRP``,
   ``is-latest-snapshot``, ``resource-index``);
2. creates the run ``<placement>-<index>`` for that snapshot with ``state: Run`` (or resumes it
   when it exists already);
3. polls the run. When a stage's after-stage approval request exists (its task status carries
   ``approvalRequestName`` and ``ApprovalRequestCreated=True``), it runs rayfleet's checks in the
   stage's regions (preflight clean, the region's Flux HelmRelease Ready, the RayCluster ready)
   and approves the ClusterApprovalRequest (status condition ``Approved=True`` with the request's
   ``observedGeneration``) only when all pass; otherwise it sets the run's ``state: Stop`` and
   reports the stage and region;
4. ends when the run's ``Succeeded`` condition is set: True (every stage done) or False (a
   cluster failed to apply, or the run was abandoned, e.g. a member joined or left mid-run:
   kubefleet compares the cluster count of each stage and fails the run when it changed).

Condition types, labels and the approval shape come from kubefleet (apis/placement/v1beta1,
pkg/utils/condition) and the CRDs in ../shared/crds/fleet (v0.3.1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..delivery.run import RegionCheck, RunObserver, StageGate, StageReport, UpdateRunReport, plan_run
from ..delivery.settings import Delivery, delivery_namespace, require_delivery
from ..findings import Finding, Severity
from ..fleet import Fleet, Region
from ..kube.client import KubeApi
from ..kube.hub import HubApi
from ..pipeline import validate_fleet
from ..plan import plan_region
from ..policies import fleet_members_match
from ..result import RegionSummary, Result
from ..runner import check
from ..subjects import HubMembers, ReleaseObjects
from .rollout import LiveClusterGate

# --- members ---------------------------------------------------------------------------------------

def member_findings(fleet: Fleet, members: list[dict[str, Any]], regions: Sequence[Region]) -> list[Finding]:
    return check([fleet_members_match.POLICY], HubMembers(fleet, tuple(regions), members))


def member_check_result(fleet: Fleet, hub: HubApi, regions: Sequence[Region]) -> Result:
    """``export fleet-manager --live``: the member check as a Result."""
    result = Result(command="export", policies=(fleet_members_match.POLICY,))
    result.findings = member_findings(fleet, hub.member_clusters(), regions)
    result.regions = [RegionSummary(r.name) for r in regions]
    return result


# --- the stage gate ----------------------------------------------------------------------------------

def helmrelease_ready(obj: dict[str, Any] | None) -> tuple[bool, str]:
    """Flux's verdict on a HelmRelease: Ready=True for the current generation."""
    if obj is None:
        return False, "the HelmRelease has not been applied yet"
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if isinstance(generation, int) and (not isinstance(observed, int) or observed < generation):
        return False, f"Flux has not reconciled generation {generation} yet"
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            if cond.get("status") == "True":
                return True, ""
            return False, f"Ready={cond.get('status')}: {cond.get('reason') or ''} {cond.get('message') or ''}".strip()
    return False, "no Ready condition yet"


class LiveStageGate:
    """Per region: preflight clean, the Flux HelmRelease Ready, the RayCluster ready (member contexts)."""

    def __init__(self, fleet: Fleet, releases: Mapping[str, ReleaseObjects], *, kubeconfig: str | None = None,
                 timeout: float = 600, poll_interval: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.fleet = fleet
        self.releases = releases
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.clock, self.sleep = clock, sleep
        self.cluster_gate = LiveClusterGate(fleet, releases, kubeconfig=kubeconfig)

    def check(self, region: Region) -> RegionCheck:
        plan = plan_region(self.fleet, region, self.releases.get(region.name), timeout=int(self.timeout),
                           kubeconfig=self.kubeconfig)
        findings = self.cluster_gate.preflight(plan)
        blocking = [f for f in findings if f.counts and f.severity is Severity.ERROR]
        if blocking:
            return RegionCheck(region.name, False, f"preflight: {blocking[0].message}", findings)
        deadline = self.clock() + self.timeout
        # the region's release, then its Anyscale operator's (which dependsOn it)
        names = [region.release_name, *([region.anyscale.release_name] if region.anyscale else [])]
        with KubeApi.connect(region, self.kubeconfig) as api:
            for name in names:
                while True:
                    ok, why = helmrelease_ready(api.helmrelease(delivery_namespace(region), name))
                    if ok:
                        break
                    if self.clock() >= deadline:
                        return RegionCheck(region.name, False, f"HelmRelease {name}: {why}", findings)
                    self.sleep(min(self.poll_interval, max(0.0, deadline - self.clock())))
        if plan.raycluster is None:
            return RegionCheck(region.name, True, f"{'HelmReleases' if len(names) > 1 else 'HelmRelease'} ready; "
                               "the release has no RayCluster", findings)
        readiness = self.cluster_gate.wait_ready(plan, max(1.0, deadline - self.clock()))
        if not readiness.ready:
            return RegionCheck(region.name, False, f"RayCluster {plan.raycluster}: {readiness.reason}", findings)
        return RegionCheck(region.name, True, "ready", findings)


# --- the run ------------------------------------------------------------------------------------------

def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """A condition of a run (``status.conditions``) or of a stage, task or cluster status
    (``conditions`` directly)."""
    conditions = obj.get("conditions") if "conditions" in obj else (obj.get("status") or {}).get("conditions")
    for cond in conditions or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def _is_true(obj: dict[str, Any], kind: str) -> bool:
    cond = _condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


def drive_update_run(fleet: Fleet, delivery: Delivery, hub: HubApi, gate: StageGate, *,
                     regions: Sequence[Region] | None = None, timeout: float = 3600, poll_interval: float = 10.0,
                     observer: RunObserver | None = None, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> UpdateRunReport:
    """Create (or resume) the update run for the latest snapshot and see it through, approving each
    stage only after ``gate`` passes in every region of the stage. Raises ``LiveCheckError`` when
    the hub cannot be read."""
    observer = observer or RunObserver()
    chosen = tuple(regions or fleet.regions)
    report = plan_run(fleet, delivery, chosen, None)
    report.findings = member_findings(fleet, hub.member_clusters(), chosen)
    if any(f.severity is Severity.ERROR for f in report.findings):
        report.status, report.message = "refused", "the hub's member clusters do not match the fleet"
        return report
    if hub.placement(delivery.placement) is None:
        report.status = "refused"
        report.message = (f"the hub has no ClusterResourcePlacement {delivery.placement}: apply the output of "
                          "rayfleet export fleet-manager first")
        return report
    snapshot = hub.latest_snapshot_index(delivery.placement)
    if snapshot is None:
        report.status, report.message = "refused", f"placement {delivery.placement} has no resource snapshot yet"
        return report
    planned = plan_run(fleet, delivery, chosen, snapshot)
    report.run, report.snapshot, report.objects = planned.run, snapshot, planned.objects
    by_member = {r.member_name: r for r in fleet.regions}
    if hub.update_run(report.run) is None:
        hub.create_update_run(report.objects[0])
        observer.stage("-", "created", f"ClusterStagedUpdateRun {report.run} (resource snapshot {snapshot})")
    else:
        observer.stage("-", "resumed", f"ClusterStagedUpdateRun {report.run} exists: watching it")
    deadline = clock() + timeout
    while True:
        run = hub.update_run(report.run)
        if run is None:
            report.status, report.message = "failed", f"ClusterStagedUpdateRun {report.run} was deleted"
            return report
        stopped = _follow_stages(run, report, by_member, hub, gate, observer)
        if stopped:
            return report
        succeeded = _condition(run, "Succeeded")
        if succeeded is not None and succeeded.get("status") in ("True", "False"):
            _finish(run, report, succeeded, by_member)
            return report
        progressing = _condition(run, "Progressing")
        if progressing is not None and progressing.get("reason") == "UpdateRunStopped":
            report.status, report.message = "stopped", "the run was stopped on the hub"
            return report
        if clock() >= deadline:
            report.status = "timeout"
            report.message = f"the run did not finish within {timeout:g}s (it keeps running on the hub)"
            return report
        sleep(poll_interval)


def _follow_stages(run: dict[str, Any], report: UpdateRunReport, by_member: dict[str, Region], hub: HubApi,
                   gate: StageGate, observer: RunObserver) -> bool:
    """Update stage states from the run; check and approve a stage that waits. True: run stopped."""
    for status in (run.get("status") or {}).get("stagesStatus") or []:
        stage = report.stage(status.get("stageName", ""))
        if stage is None:
            continue
        if _is_true(status, "Succeeded"):
            if stage.status != "succeeded":
                stage.status = "succeeded"
                observer.stage(stage.name, "succeeded")
            continue
        if _is_true(status, "Progressing") and stage.status == "not-started":
            stage.status = "updating"
            observer.stage(stage.name, "updating", ", ".join(stage.regions))
        for task in status.get("afterStageTaskStatus") or []:
            if task.get("type") != "Approval" or not task.get("approvalRequestName"):
                continue
            if not _is_true(task, "ApprovalRequestCreated") or _is_true(task, "ApprovalRequestApproved"):
                continue
            if stage.status in ("approved", "succeeded"):
                continue
            if not _check_stage(stage, status, task["approvalRequestName"], report, by_member, hub, gate, observer):
                return True
    return False


def _check_stage(stage: StageReport, status: dict[str, Any], request: str, report: UpdateRunReport,
                 by_member: dict[str, Region], hub: HubApi, gate: StageGate, observer: RunObserver) -> bool:
    stage.status, stage.approval = "checking", request
    observer.stage(stage.name, "checking", "rayfleet readiness checks before approving " + request)
    members = [c.get("clusterName") for c in status.get("clusters") or [] if isinstance(c, dict)]
    for member in members:
        region = by_member.get(str(member))
        check = gate.check(region) if region is not None else RegionCheck(
            str(member), False, f"member {member} is not a region of the fleet")
        stage.checks.append(check)
        if not check.ok:
            stage.status, stage.message = "failed", f"{check.region}: {check.message}"
            hub.stop_update_run(report.run)
            report.status = "failed"
            report.message = f"stage {stage.name} failed rayfleet's checks in {check.region}: {check.message}; " \
                             f"run {report.run} stopped"
            report.stopped_at = {"stage": stage.name, "region": check.region, "reason": check.message}
            observer.stage(stage.name, "failed", stage.message)
            return False
    hub.approve(request, f"rayfleet: readiness checks passed in {', '.join(c.region for c in stage.checks)}")
    stage.status = "approved"
    observer.stage(stage.name, "approved", request)
    return True


def _finish(run: dict[str, Any], report: UpdateRunReport, succeeded: dict[str, Any],
            by_member: dict[str, Region]) -> None:
    if succeeded.get("status") == "True":
        report.status, report.message = "succeeded", "every stage updated and approved"
        for stage in report.stages:
            stage.status = "succeeded"
        return
    message = str(succeeded.get("message") or succeeded.get("reason") or "the run failed")
    # kubefleet abandons a run whose stages changed under it (a member joined or left).
    report.status = "aborted" if "has changed" in message else "failed"
    report.message = message
    for status in (run.get("status") or {}).get("stagesStatus") or []:
        cond = _condition(status, "Succeeded")
        if cond is not None and cond.get("status") == "False":
            stage = report.stage(status.get("stageName", ""))
            failed = [c.get("clusterName") for c in status.get("clusters") or []
                      if isinstance(c, dict) and (_condition(c, "Succeeded") or {}).get("status") == "False"]
            if stage is not None:
                stage.status, stage.message = "failed", str(cond.get("message") or message)
            region = by_member.get(str(failed[0])) if failed else None
            report.stopped_at = {"stage": status.get("stageName"),
                                 "region": region.name if region else (failed[0] if failed else None),
                                 "reason": str(cond.get("message") or message)}
            return
    current = next((s for s in report.stages if s.status != "succeeded"), None)
    if current is not None:
        current.status, current.message = report.status, message
    report.stopped_at = {"stage": current.name if current else None, "region": None, "reason": message}




# --- the command ---------------------------------------------------------------------------------

def rollout_fleet_manager(fleet: Fleet, *, regions: Sequence[str] | None = None, dry_run: bool = False,
                          hub_context: str | None = None, kubeconfig: str | None = None, timeout: float = 600,
                          run_timeout: float = 6 * 3600, poll_interval: float = 10.0,
                          observer: RunObserver | None = None, hub: HubApi | None = None,
                          gate: StageGate | None = None, validate: Callable[..., Result] | None = None) -> Result:
    """Validate (refuse on errors); a dry run plans the run; otherwise create and drive it.

    ``Result.update_run`` is the ``UpdateRunReport`` (the JSON report's ``data.rollout``).
    """
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
        releases = dict(validation.releases)
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
            for region_check in stage.checks:
                result.findings.extend(region_check.findings)
    result.findings.extend(report.findings)
    result.update_run = report
    return result


__all__ = ["HubApi", "LiveStageGate", "RegionCheck", "RunObserver", "StageGate", "UpdateRunReport",
           "drive_update_run", "helmrelease_ready", "member_check_result", "member_findings", "plan_run",
           "rollout_fleet_manager"]
