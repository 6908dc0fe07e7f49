"""Rolling out through Azure Kubernetes Fleet Manager: a ClusterStagedUpdateRun driven from the hub.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from kubernetes import client

from ..delivery.fleet_manager import Stage, stages, update_run
from ..delivery.settings import Delivery, delivery_namespace
from ..errors import InputError, LiveCheckError
from ..findings import Finding, Severity
from ..fleet import Fleet, Region
from ..result import RegionSummary, Result
from .client import KubeApi

GROUP, VERSION = "placement.kubernetes-fleet.io", "v1beta1"
CLUSTER_GROUP = "cluster.kubernetes-fleet.io"
PARENT_LABEL = "kubernetes-fleet.io/parent-CRP"
LATEST_LABEL = "kubernetes-fleet.io/is-latest-snapshot"
INDEX_LABEL = "kubernetes-fleet.io/resource-index"
HUB = "hub"


# --- the hub -------------------------------------------------------------------------------------

class HubApi:
    """The reads and writes rayfleet makes on the Fleet Manager hub."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self._objects = client.CustomObjectsApi(api.api_client)

    @classmethod
    def connect(cls, fleet: Fleet, context: str | None, kubeconfig: str | Path | None = None) -> HubApi:
        from ..delivery.settings import require_delivery

        context = context or require_delivery(fleet).hub_context
        if not context:
            raise InputError("no hub context: pass --hub-context or set delivery.fleetManager.hubContext",
                             file=str(fleet.path), field="delivery.fleetManager.hubContext")
        return cls(KubeApi.connect_context(HUB, context, kubeconfig))

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> HubApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, plural: str, name: str) -> dict[str, Any] | None:
        return self.api.call(f"{plural}/{name}", self._objects.get_cluster_custom_object, GROUP, VERSION, plural, name)

    def member_clusters(self) -> list[dict[str, Any]]:
        page = self.api.call("memberclusters", self._objects.list_cluster_custom_object, CLUSTER_GROUP, VERSION,
                             "memberclusters") or {}
        return [m for m in page.get("items") or [] if isinstance(m, dict)]

    def placement(self, name: str) -> dict[str, Any] | None:
        return self._get("clusterresourceplacements", name)

    def latest_snapshot_index(self, placement: str) -> str | None:
        page = self.api.call("clusterresourcesnapshots", self._objects.list_cluster_custom_object, GROUP, VERSION,
                             "clusterresourcesnapshots",
                             label_selector=f"{PARENT_LABEL}={placement},{LATEST_LABEL}=true") or {}
        indexes = {((i.get("metadata") or {}).get("labels") or {}).get(INDEX_LABEL)
                   for i in page.get("items") or [] if isinstance(i, dict)}
        indexes.discard(None)
        return max(indexes, key=int) if indexes else None

    def update_run(self, name: str) -> dict[str, Any] | None:
        return self._get("clusterstagedupdateruns", name)

    def create_update_run(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.api.call(f"create ClusterStagedUpdateRun {body['metadata']['name']}",
                             self._objects.create_cluster_custom_object, GROUP, VERSION, "clusterstagedupdateruns",
                             body) or {}

    def stop_update_run(self, name: str) -> None:
        self.api.call(f"stop ClusterStagedUpdateRun {name}", self._objects.patch_cluster_custom_object, GROUP,
                      VERSION, "clusterstagedupdateruns", name, {"spec": {"state": "Stop"}})

    def approve(self, name: str, message: str) -> None:
        """Approve a ClusterApprovalRequest: ``Approved=True`` for its current generation."""
        request = self._get("clusterapprovalrequests", name)
        if request is None:
            raise LiveCheckError(HUB, f"ClusterApprovalRequest {name} not found")
        generation = (request.get("metadata") or {}).get("generation") or 1
        condition = {"type": "Approved", "status": "True", "reason": "ApprovedByRayfleet", "message": message,
                     "observedGeneration": generation,
                     "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.api.call(f"approve ClusterApprovalRequest {name}", self._objects.patch_cluster_custom_object_status,
                      GROUP, VERSION, "clusterapprovalrequests", name, {"status": {"conditions": [condition]}})


# --- members ---------------------------------------------------------------------------------------

@dataclass
class MembersView:
    """What ``fleet-members-match`` looks at: the regions and the hub's MemberClusters."""

    fleet: Fleet
    regions: Sequence[Region]
    members: list[dict[str, Any]]


def member_findings(fleet: Fleet, members: list[dict[str, Any]], regions: Sequence[Region]) -> list[Finding]:
    from ..checks import to_finding
    from ..policies import fleet_members_match

    policy = fleet_members_match.POLICY
    return [to_finding(policy, v, None, None, default_source=None)
            for v in fleet_members_match.check(MembersView(fleet, regions, members))]


def member_check_result(fleet: Fleet, hub: HubApi, regions: Sequence[Region]) -> Result:
    """``export fleet-manager --live``: the member check as a Result."""
    from ..policies import fleet_members_match

    result = Result(command="export", policies=(fleet_members_match.POLICY,))
    result.findings = member_findings(fleet, hub.member_clusters(), regions)
    result.regions = [RegionSummary(r.name) for r in regions]
    return result


# --- the stage gate ----------------------------------------------------------------------------------

@dataclass
class RegionCheck:
    region: str
    ok: bool
    message: str = ""
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "ok": self.ok, "message": self.message,
                "findings": [{"policy": f.policy, "severity": f.severity.value, "message": f.message}
                             for f in self.findings]}


class StageGate(Protocol):
    def check(self, region: Region) -> RegionCheck: ...


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

    def __init__(self, fleet: Fleet, releases: dict[str, Any], *, kubeconfig: str | None = None,
                 timeout: float = 600, poll_interval: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        from ..rollout import LiveClusterGate

        self.fleet = fleet
        self.releases = releases
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.clock, self.sleep = clock, sleep
        self.cluster_gate = LiveClusterGate(fleet, releases, kubeconfig=kubeconfig)

    def check(self, region: Region) -> RegionCheck:
        from ..rollout import plan_region

        plan = plan_region(self.fleet, region, self.releases.get(region.name), timeout=int(self.timeout),
                           kubeconfig=self.kubeconfig)
        findings = self.cluster_gate.preflight(plan)
        blocking = [f for f in findings if f.counts and f.severity is Severity.ERROR]
        if blocking:
            return RegionCheck(region.name, False, f"preflight: {blocking[0].message}", findings)
        deadline = self.clock() + self.timeout
        with KubeApi.connect(region, self.kubeconfig) as api:
            while True:
                ok, why = helmrelease_ready(api.helmrelease(delivery_namespace(region), region.release_name))
                if ok:
                    break
                if self.clock() >= deadline:
                    return RegionCheck(region.name, False, f"HelmRelease {region.release_name}: {why}", findings)
                self.sleep(min(self.poll_interval, max(0.0, deadline - self.clock())))
        if plan.raycluster is None:
            return RegionCheck(region.name, True, "HelmRelease ready; the release has no RayCluster", findings)
        readiness = self.cluster_gate.wait_ready(plan, max(1.0, deadline - self.clock()))
        if not readiness.ready:
            return RegionCheck(region.name, False, f"RayCluster {plan.raycluster}: {readiness.reason}", findings)
        return RegionCheck(region.name, True, "ready", findings)


# --- the run ------------------------------------------------------------------------------------------

@dataclass
class StageReport:
    name: str
    wave: int
    regions: list[str]
    status: str = "not-started"  # not-started | updating | checking | approved | succeeded | failed
    message: str = ""
    approval: str | None = None
    checks: list[RegionCheck] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "wave": self.wave, "regions": self.regions, "status": self.status,
                "message": self.message, "approvalRequest": self.approval,
                "checks": [c.to_dict() for c in self.checks]}


@dataclass
class UpdateRunReport:
    run: str
    placement: str
    strategy: str
    stages: list[StageReport]
    snapshot: str | None = None
    dry_run: bool = False
    status: str = "pending"  # succeeded | failed | stopped | aborted | timeout | refused | planned
    message: str = ""
    stopped_at: dict[str, Any] | None = None
    objects: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "planned")

    def stage(self, name: str) -> StageReport | None:
        return next((s for s in self.stages if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"engine": "fleet-manager", "run": self.run, "placement": self.placement, "strategy": self.strategy,
                "resourceSnapshotIndex": self.snapshot, "dryRun": self.dry_run, "status": self.status,
                "message": self.message, "stoppedAt": self.stopped_at,
                "stages": [s.to_dict() for s in self.stages], "objects": self.objects}


class RunObserver:
    """Progress callbacks; the default does nothing (the CLI draws them)."""

    def stage(self, stage: str, state: str, detail: str = "") -> None:
        pass


def plan_run(fleet: Fleet, delivery: Delivery, regions: Sequence[Region], snapshot: str | None) -> UpdateRunReport:
    """The run rayfleet would create, and its stages (no hub needed)."""
    name = f"{delivery.placement}-{snapshot if snapshot is not None else 'latest'}"
    report = UpdateRunReport(name, delivery.placement, delivery.strategy,
                             [StageReport(s.name, s.wave, [r.name for r in s.regions]) for s in stages(regions)],
                             snapshot=snapshot)
    report.objects = [update_run(delivery, name, snapshot)]
    return report


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


__all__ = ["HubApi", "LiveStageGate", "MembersView", "RegionCheck", "RunObserver", "Stage", "StageGate",
           "UpdateRunReport", "drive_update_run", "helmrelease_ready", "member_check_result", "plan_run"]
