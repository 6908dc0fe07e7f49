"""The Fleet Manager update-run driver (``rayfleet.commands.fleet_manager``), field by field: every
observer event, request and report field of a whole run against the fake hub (the real kubernetes
client over HTTPS), and each way a run can end, from hub states scripted read by read (as kubefleet
reports them: apis/placement/v1beta1 ``stagesStatus``, ``afterStageTaskStatus`` and conditions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rayfleet.commands.fleet_manager import (
    HubApi,
    RegionCheck,
    drive_update_run,
    helmrelease_ready,
    rollout_fleet_manager,
)
from rayfleet.delivery.fleet_manager import stages
from rayfleet.delivery.settings import require_delivery
from rayfleet.findings import Finding, Severity
from rayfleet.fleet import Fleet, Region, load_fleet
from rayfleet.result import Result

from tests.kube.fake_kube import FakeHub, _cond, member_cluster, write_kubeconfig
from tests.kube.fake_kube import RecordingGate as Gate
from tests.support.https_server import HttpsServer

REPO = Path(__file__).resolve().parents[2]
HUB_CONTEXT = "rayfleet-hub"
PLACEMENT_PATH = "/hub/apis/placement.kubernetes-fleet.io/v1beta1"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(REPO / "examples" / "fleet.yaml")


@dataclass
class ScriptedHub(FakeHub):
    """The fake hub, except that each read of a run returns the next scripted ``status`` (the last
    one repeats); ``delete_after`` reads, the run is gone."""

    script: list[dict[str, Any]] = field(default_factory=list)
    delete_after: int | None = None
    reads: int = 0

    def _advance(self, run: dict[str, Any]) -> None:
        if not self.script:
            return super()._advance(run)
        self.reads += 1
        run["status"] = self.script[min(self.reads, len(self.script)) - 1]
        if self.delete_after is not None and self.reads > self.delete_after:
            self.runs.clear()


@dataclass
class Hub:
    server: HttpsServer
    hub: ScriptedHub
    kubeconfig: Path

    def requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path.removeprefix(PLACEMENT_PATH)) for r in self.server.requests
                if r.path.startswith(PLACEMENT_PATH)]


@pytest.fixture
def hub(tmp_path: Path, fleet: Fleet) -> Iterator[Hub]:
    with HttpsServer() as server:
        fake = ScriptedHub(members=[member_cluster(r.member_name, r.location) for r in fleet.regions],
                           stages=[(s.name, s.members) for s in stages(fleet.regions)], prefix="/hub").serve(server)
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {HUB_CONTEXT: (f"{server.url}/hub", server.ca_path)})
        yield Hub(server, fake, kubeconfig)


class Observer:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def stage(self, stage: str, state: str, detail: str = "") -> None:
        self.events.append((stage, state, detail))


class Clock:
    """Time that moves only when the driver sleeps (and by ``tick`` per read)."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now, self.tick, self.sleeps = 100.0, tick, []

    def __call__(self) -> float:
        self.now += self.tick
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _drive(fleet: Fleet, hub: Hub, gate: Any = None, **kwargs: Any):
    kwargs.setdefault("poll_interval", 0)
    kwargs.setdefault("timeout", 30)
    with HubApi.connect(fleet, HUB_CONTEXT, hub.kubeconfig) as api:
        return drive_update_run(fleet, require_delivery(fleet), api, gate or Gate(), **kwargs)


def _member(fleet: Fleet, name: str) -> str:
    return fleet.region(name).member_name


# --- a whole run, every event -------------------------------------------------------------------------

def test_a_whole_run_event_by_event(fleet, hub):
    observer, gate, clock = Observer(), Gate(), Clock()
    report = _drive(fleet, hub, gate, observer=observer, poll_interval=7, timeout=100, clock=clock,
                    sleep=clock.sleep)
    wave = {1: "rayfleet-3-after-wave1", 2: "rayfleet-3-after-wave2", 3: "rayfleet-3-after-wave3"}
    checking = "rayfleet readiness checks before approving "
    assert observer.events == [
        ("-", "created", "ClusterStagedUpdateRun rayfleet-3 (resource snapshot 3)"),
        ("wave1", "updating", "eastus2"), ("wave1", "checking", checking + wave[1]),
        ("wave1", "approved", wave[1]), ("wave1", "succeeded", ""),
        ("wave2", "updating", "swedencentral, westus3"), ("wave2", "checking", checking + wave[2]),
        ("wave2", "approved", wave[2]), ("wave2", "succeeded", ""),
        ("wave3", "updating", "manager"), ("wave3", "checking", checking + wave[3]),
        ("wave3", "approved", wave[3]), ("wave3", "succeeded", ""),
    ]
    # one read before anything happens, then apply / approve per stage, then the run's Succeeded
    assert clock.sleeps == [7] * 7
    assert (report.status, report.message, report.stopped_at) == ("succeeded", "every stage updated and approved",
                                                                  None)
    assert (report.run, report.snapshot, report.placement, report.strategy) == ("rayfleet-3", "3", "rayfleet",
                                                                              "rayfleet-waves")
    assert [(s.name, s.wave, s.regions, s.status, s.approval, [c.region for c in s.checks]) for s in report.stages] == [
        ("wave1", 1, ["eastus2"], "succeeded", wave[1], ["eastus2"]),
        ("wave2", 2, ["swedencentral", "westus3"], "succeeded", wave[2], ["swedencentral", "westus3"]),
        ("wave3", 3, ["manager"], "succeeded", wave[3], ["manager"])]
    assert report.objects == [{"apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                               "kind": "ClusterStagedUpdateRun",
                               "metadata": {"name": "rayfleet-3",
                                            "labels": {"app.kubernetes.io/managed-by": "rayfleet"}},
                               "spec": {"placementName": "rayfleet", "resourceSnapshotIndex": "3",
                                        "stagedRolloutStrategyName": "rayfleet-waves", "state": "Run"}}]
    assert report.findings == []
    # the requests, in order: the placement, the latest snapshot, the run created once, then reads and approvals
    requests = hub.requests()
    assert requests[:4] == [("GET", "/clusterresourceplacements/rayfleet"), ("GET", "/clusterresourcesnapshots"),
                            ("GET", "/clusterstagedupdateruns/rayfleet-3"), ("POST", "/clusterstagedupdateruns")]
    approvals = [p for m, p in requests if m == "PATCH"]
    assert approvals == [f"/clusterapprovalrequests/{wave[i]}/status" for i in (1, 2, 3)]
    messages = [p["status"]["conditions"][0]["message"] for _, p in hub.hub.patches]
    assert messages == ["rayfleet: readiness checks passed in eastus2",
                        "rayfleet: readiness checks passed in swedencentral, westus3",
                        "rayfleet: readiness checks passed in manager"]


def test_a_failed_check_stops_the_run_with_every_field(fleet, hub):
    observer = Observer()
    gate = Gate(failing={"westus3": "RayCluster not ready"})
    report = _drive(fleet, hub, gate, observer=observer)
    assert gate.checked == ["eastus2", "swedencentral", "westus3"]
    assert report.status == "failed"
    assert report.message == ("stage wave2 failed rayfleet's checks in westus3: RayCluster not ready; "
                              "run rayfleet-3 stopped")
    assert report.stopped_at == {"stage": "wave2", "region": "westus3", "reason": "RayCluster not ready"}
    wave2 = report.stage("wave2")
    assert (wave2.status, wave2.message, wave2.approval) == ("failed", "westus3: RayCluster not ready",
                                                             "rayfleet-3-after-wave2")
    assert [(c.region, c.ok) for c in wave2.checks] == [("swedencentral", True), ("westus3", False)]
    assert [s.status for s in report.stages] == ["succeeded", "failed", "not-started"]
    assert observer.events[-1] == ("wave2", "failed", "westus3: RayCluster not ready")
    # the stop is one merge patch of the run's spec; nothing approved for wave2
    assert hub.hub.patches[-1] == ("application/merge-patch+json", {"spec": {"state": "Stop"}})
    assert [p for _, p in hub.requests() if "wave2" in p] == []


def test_a_resumed_run_is_not_created_again(fleet, hub):
    assert _drive(fleet, hub, Gate(failing={"eastus2": "no"})).status == "failed"
    observer = Observer()
    second = _drive(fleet, hub, observer=observer)
    assert observer.events[0] == ("-", "resumed", "ClusterStagedUpdateRun rayfleet-3 exists: watching it")
    assert (second.status, second.message) == ("stopped", "the run was stopped on the hub")
    assert [m for m, p in hub.requests() if p == "/clusterstagedupdateruns"] == ["POST"]


def test_refusals_name_the_placement_and_snapshot(fleet, hub):
    hub.hub.snapshot_index = None
    report = _drive(fleet, hub)
    assert (report.status, report.message) == ("refused", "placement rayfleet has no resource snapshot yet")
    assert report.run == "rayfleet-latest" and report.snapshot is None and hub.hub.runs == {}
    hub.hub.placement = "other"
    report = _drive(fleet, hub)
    assert (report.status, report.message) == (
        "refused", "the hub has no ClusterResourcePlacement rayfleet: apply the output of rayfleet export "
                   "fleet-manager first")


def test_a_warning_about_members_does_not_refuse(fleet, hub):
    # a member that left the fleet is only what the policy says it is: an error refuses, nothing else does
    hub.hub.members[1]["status"]["conditions"][1]["status"] = "False"
    report = _drive(fleet, hub)
    severities = {f.severity for f in report.findings}
    assert report.findings and ((Severity.ERROR in severities) == (report.status == "refused"))


# --- scripted hub states: how a run ends ---------------------------------------------------------------

def _stage(name: str, *conds: dict[str, Any], clusters: list[dict[str, Any]] | None = None,
           tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"stageName": name, "clusters": clusters or [], "conditions": list(conds)}
    if tasks is not None:
        out["afterStageTaskStatus"] = tasks
    return out


def _run(*stages_: dict[str, Any], conds: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"conditions": [_cond("Initialized", "True", "UpdateRunInitializedSuccessfully"), *conds],
            "stagesStatus": list(stages_)}


def _approval(name: str, *conds: dict[str, Any], kind: str = "Approval") -> dict[str, Any]:
    return {"type": kind, "approvalRequestName": name, "conditions": list(conds)}


CREATED = _cond("ApprovalRequestCreated", "True", "StageTaskApprovalRequestCreated")
APPROVED = _cond("ApprovalRequestApproved", "True", "StageTaskApprovalRequestApproved")
PROGRESSING = _cond("Progressing", "True", "StageUpdatingStarted")
SUCCEEDED = _cond("Succeeded", "True", "StageUpdatingSucceeded")


def _failed_run(message: str, reason: str = "UpdateRunFailed", *stages_: dict[str, Any]) -> dict[str, Any]:
    return _run(*stages_, conds=(_cond("Succeeded", "False", reason, message),))


def test_a_run_failed_in_a_stage_names_the_failed_cluster_as_its_region(fleet, hub):
    sdc, wus3 = _member(fleet, "swedencentral"), _member(fleet, "westus3")
    clusters = [{"clusterName": sdc, "conditions": [_cond("Succeeded", "True", "ok")]},
                {"clusterName": wus3, "conditions": [_cond("Succeeded", "False", "ClusterUpdatingFailed")]},
                {"clusterName": _member(fleet, "eastus2"), "conditions": [_cond("Succeeded", "False", "x")]}]
    hub.hub.script = [_failed_run("run failed", "UpdateRunFailed",
                                  _stage("wave1", SUCCEEDED),
                                  _stage("wave2", _cond("Succeeded", "False", "StageUpdatingFailed", "apply failed"),
                                         clusters=clusters))]
    report = _drive(fleet, hub)
    assert (report.status, report.message) == ("failed", "run failed")
    assert report.stopped_at == {"stage": "wave2", "region": "westus3", "reason": "apply failed"}
    assert [(s.status, s.message) for s in report.stages] == [("succeeded", ""), ("failed", "apply failed"),
                                                              ("not-started", "")]


def test_a_failed_stage_without_a_message_or_a_known_member(fleet, hub):
    clusters = [{"clusterName": "stranger", "conditions": [_cond("Succeeded", "False", "x")]}, "not-a-dict",
                {"clusterName": "other", "conditions": [_cond("Succeeded", "False", "x")]}]
    hub.hub.script = [_failed_run("", "", _stage("wave1", _cond("Succeeded", "False", "StageUpdatingFailed"),
                                                 clusters=clusters))]
    report = _drive(fleet, hub)
    # no message and no reason: the run's own words; the member is named as the hub calls it
    assert (report.status, report.message) == ("failed", "the run failed")
    assert report.stopped_at == {"stage": "wave1", "region": "stranger", "reason": "the run failed"}
    assert report.stage("wave1").message == "the run failed"


def test_a_failed_stage_with_no_failed_cluster_and_an_unknown_stage(fleet, hub):
    hub.hub.script = [_failed_run("m", "UpdateRunFailed",
                                  _stage("gone", _cond("Succeeded", "False", "x", "first")),
                                  _stage("wave2", _cond("Succeeded", "True", "y"),
                                         clusters=[{"clusterName": "c", "conditions": []}]),
                                  _stage("wave3", _cond("Succeeded", "False", "z", "third"),
                                         clusters=[{"clusterName": _member(fleet, "manager"),
                                                    "conditions": [_cond("Succeeded", "True", "ok")]}]))]
    report = _drive(fleet, hub)
    # the first failed stage wins even when rayfleet does not know it; no cluster failed: no region
    assert report.stopped_at == {"stage": "gone", "region": None, "reason": "first"}
    assert [s.status for s in report.stages] == ["not-started", "succeeded", "not-started"]


def test_a_run_failed_with_the_reason_only_ends_at_the_first_stage_not_done(fleet, hub):
    hub.hub.script = [_failed_run("", "UpdateRunFailed", _stage("wave1", SUCCEEDED), _stage("wave2", PROGRESSING))]
    report = _drive(fleet, hub)
    assert (report.status, report.message) == ("failed", "UpdateRunFailed")
    assert report.stopped_at == {"stage": "wave2", "region": None, "reason": "UpdateRunFailed"}
    assert [(s.status, s.message) for s in report.stages] == [("succeeded", ""), ("failed", "UpdateRunFailed"),
                                                              ("not-started", "")]


def test_a_changed_stage_aborts_and_every_stage_done_names_none(fleet, hub):
    message = "the number of clusters in index `1` stage has changed, new: 1, existing: 2"
    hub.hub.script = [_failed_run(message, "UpdateRunFailed", *(_stage(f"wave{i}", SUCCEEDED) for i in (1, 2, 3)))]
    report = _drive(fleet, hub)
    assert (report.status, report.message) == ("aborted", message)
    assert report.stopped_at == {"stage": None, "region": None, "reason": message}
    assert [(s.status, s.message) for s in report.stages] == [("succeeded", "")] * 3


def test_succeeded_unknown_keeps_watching_until_the_timeout(fleet, hub):
    clock = Clock()
    hub.hub.script = [_run(conds=(_cond("Succeeded", "Unknown", "x"), _cond("Progressing", "True", "Running")))]
    report = _drive(fleet, hub, timeout=20, poll_interval=5, clock=clock, sleep=clock.sleep)
    # deadline 120: reads at 100, 105, 110, 115 sleep; the read at 120 is at the deadline
    assert clock.sleeps == [5, 5, 5, 5]
    assert (report.status, report.message) == ("timeout", "the run did not finish within 20s (it keeps running "
                                                          "on the hub)")


def test_a_run_stopped_on_the_hub_and_a_deleted_run(fleet, hub):
    hub.hub.script = [_run(conds=(_cond("Progressing", "False", "UpdateRunStopped"),))]
    assert _drive(fleet, hub).status == "stopped"
    hub.hub.script = [_run(conds=(_cond("Progressing", "False", "UpdateRunPaused"),))]
    assert _drive(fleet, hub, timeout=0).status == "timeout"  # another reason is not a stop
    hub.hub.runs.clear()
    hub.hub.script, hub.hub.reads, hub.hub.delete_after = [_run()], 0, 1
    report = _drive(fleet, hub)
    assert (report.status, report.message) == ("failed", "ClusterStagedUpdateRun rayfleet-3 was deleted")


def test_approval_tasks_that_do_not_wait_are_not_checked(fleet, hub):
    gate, observer = Gate(), Observer()
    eus2 = [{"clusterName": _member(fleet, "eastus2")}]
    hub.hub.script = [_run(
        _stage("wave1", PROGRESSING, clusters=eus2, tasks=[
            _approval("wrong-type", CREATED, kind="TimedWait"),  # not an approval
            {"type": "Approval", "conditions": [CREATED]},  # no request name
            _approval("not-created"),  # the request does not exist yet
            _approval("done", CREATED, APPROVED)]),  # approved already
        _stage("unknown", PROGRESSING, tasks=[_approval("x", CREATED)]),
        conds=(_cond("Progressing", "False", "UpdateRunStopped"),))]
    report = _drive(fleet, hub, gate, observer=observer)
    assert gate.checked == [] and report.status == "stopped"
    assert observer.events[1:] == [("wave1", "updating", "eastus2")]
    assert report.stage("wave1").status == "updating"


def test_a_stage_approved_or_checked_once_is_not_checked_again(fleet, hub):
    gate, observer = Gate(), Observer()
    eus2 = [{"clusterName": _member(fleet, "eastus2")}]
    waiting = _run(_stage("wave1", PROGRESSING, clusters=eus2, tasks=[_approval("req1", CREATED)]))
    hub.hub.approvals["req1"] = {"metadata": {"name": "req1", "generation": 4}}
    hub.hub.script = [waiting, waiting, _run(conds=(_cond("Progressing", "False", "UpdateRunStopped"),))]
    report = _drive(fleet, hub, gate, observer=observer)
    assert gate.checked == ["eastus2"]  # the request still shows as waiting on the next read: not approved twice
    [(_, patch)] = hub.hub.patches
    condition = patch["status"]["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"], condition["observedGeneration"]) == \
        ("Approved", "True", "ApprovedByRayfleet", 4)
    assert report.stage("wave1").status == "approved"


def test_a_succeeded_stage_that_was_never_followed_is_reported_once(fleet, hub):
    observer = Observer()
    done = _run(_stage("wave1", SUCCEEDED, tasks=[_approval("req1", CREATED)]))
    hub.hub.script = [done, done, _run(conds=(_cond("Progressing", "False", "UpdateRunStopped"),))]
    _drive(fleet, hub, observer=observer)
    assert observer.events[1:] == [("wave1", "succeeded", "")]


def test_a_stage_member_that_is_not_a_region_fails_the_stage(fleet, hub):
    gate = Gate()
    hub.hub.script = [_run(_stage("wave1", PROGRESSING, clusters=[{"clusterName": "stranger"}],
                                  tasks=[_approval("req1", CREATED)]))]
    report = _drive(fleet, hub, gate)
    assert gate.checked == []
    assert report.stopped_at == {"stage": "wave1", "region": "stranger",
                                 "reason": "member stranger is not a region of the fleet"}


def test_selected_regions_only(fleet, hub):
    report = _drive(fleet, hub, regions=[fleet.region("westus3")], timeout=0)
    assert [(s.name, s.regions) for s in report.stages] == [("wave2", ["westus3"])]


# --- helmrelease_ready ----------------------------------------------------------------------------------

def _hr(generation: Any = 2, observed: Any = 2, conditions: Any = None) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": conditions if conditions is not None else
                              [{"type": "Ready", "status": "True"}]}
    if observed is not None:
        status["observedGeneration"] = observed
    return {"metadata": {"generation": generation}, "status": status}


@pytest.mark.parametrize(("obj", "expected"), [
    (None, (False, "the HelmRelease has not been applied yet")),
    (_hr(), (True, "")),
    (_hr(observed=3), (True, "")),  # observed above the generation: reconciled
    (_hr(observed=1), (False, "Flux has not reconciled generation 2 yet")),
    (_hr(observed=None), (False, "Flux has not reconciled generation 2 yet")),
    (_hr(observed="2"), (False, "Flux has not reconciled generation 2 yet")),
    (_hr(generation=None, observed=None), (True, "")),  # no generation: nothing to compare
    (_hr(conditions=[]), (False, "no Ready condition yet")),
    (_hr(conditions=["Ready", {"type": "Released", "status": "True"}]), (False, "no Ready condition yet")),
    (_hr(conditions=[{"type": "Ready", "status": "False", "reason": "UpgradeFailed", "message": "boom"}]),
     (False, "Ready=False: UpgradeFailed boom")),
    (_hr(conditions=[{"type": "Ready", "status": "Unknown"}]), (False, "Ready=Unknown:")),
    ({"metadata": None, "status": None}, (False, "no Ready condition yet")),
])
def test_helmrelease_ready(obj, expected):
    assert helmrelease_ready(obj) == expected


# --- the command -------------------------------------------------------------------------------------

def _finding(severity: Severity, message: str) -> Finding:
    return Finding(policy="p", severity=severity, message=message, remediation="r")


class Validation:
    def __init__(self, *findings: Finding) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.findings = list(findings)

    def __call__(self, fleet: Fleet, *, regions: list[str]) -> Result:
        self.calls.append(tuple(regions))
        return Result(command="validate", findings=list(self.findings), notes=["a note"])


def test_the_command_refuses_on_validation_errors_and_plans_a_dry_run(fleet):
    validate = Validation(_finding(Severity.ERROR, "broken"))
    result = rollout_fleet_manager(fleet, regions=["westus3", "eastus2"], validate=validate)
    assert validate.calls == [("eastus2", "westus3")]
    assert [r.name for r in result.regions] == ["eastus2", "westus3"] and result.notes == ["a note"]
    report = result.update_run
    assert (report.status, report.message, report.dry_run) == ("refused", "validation failed: fix the errors first",
                                                                False)
    assert [f.message for f in result.findings] == ["broken"]
    validate = Validation(_finding(Severity.WARNING, "meh"))
    result = rollout_fleet_manager(fleet, dry_run=True, validate=validate)
    assert validate.calls == [tuple(r.name for r in fleet.regions)]
    assert (result.update_run.status, result.update_run.dry_run) == ("planned", True)
    assert result.update_run.run == "rayfleet-latest"
    assert result.update_run.objects[0]["spec"] == {"placementName": "rayfleet",
                                                    "stagedRolloutStrategyName": "rayfleet-waves", "state": "Run"}


def test_the_command_drives_the_run_and_keeps_the_checks_findings(fleet, hub):
    check_finding = _finding(Severity.WARNING, "from the gate")

    class FindingGate(Gate):
        def check(self, region: Region) -> RegionCheck:
            self.checked.append(region.name)
            return RegionCheck(region.name, True, "ready", [check_finding])

    class CallersHub(HubApi):
        closed = 0

        def close(self) -> None:
            self.closed += 1
            super().close()

    with CallersHub.connect(fleet, HUB_CONTEXT, hub.kubeconfig) as api:
        result = rollout_fleet_manager(fleet, validate=Validation(), hub=api, gate=FindingGate(), poll_interval=0)
        assert api.closed == 0  # a hub passed in is the caller's to close
    assert api.closed == 1
    assert result.update_run.status == "succeeded"
    assert result.findings == [check_finding] * 4  # one per region checked
    assert json.dumps(hub.hub.runs["rayfleet-3"]["spec"], sort_keys=True) == json.dumps(
        {"placementName": "rayfleet", "resourceSnapshotIndex": "3", "stagedRolloutStrategyName": "rayfleet-waves",
         "state": "Run"}, sort_keys=True)


def test_the_default_run_timeout_is_an_hour(fleet, hub):
    times = iter([0.0, 3599.0, 3600.0])
    sleeps: list[float] = []
    hub.hub.script = [_run(conds=(_cond("Progressing", "True", "Running"),))]
    with HubApi.connect(fleet, HUB_CONTEXT, hub.kubeconfig) as api:
        report = drive_update_run(fleet, require_delivery(fleet), api, Gate(), clock=lambda: next(times),
                                  sleep=sleeps.append)
    assert sleeps == [10.0]  # the default poll interval
    assert report.message == "the run did not finish within 3600s (it keeps running on the hub)"


def test_the_command_reports_what_the_hub_members_check_found(fleet, hub):
    hub.hub.members = [m for m in hub.hub.members if m["metadata"]["name"] != "rayfleet-wus3"]
    with HubApi.connect(fleet, HUB_CONTEXT, hub.kubeconfig) as api:
        result = rollout_fleet_manager(fleet, validate=Validation(), hub=api, gate=Gate(), poll_interval=0)
    assert result.update_run.status == "refused" and hub.hub.runs == {}
    assert [(f.policy, f.message) for f in result.findings] == [
        ("fleet-members-match", "region 'westus3': the hub has no MemberCluster 'rayfleet-wus3'")]
