"""Every step of a region's rollout, through the seams with scripted stand-ins: the status,
message and detail of each step, what the observer hears, and the report's overall status.
A tiny fleet (no chart rendering), so these run in well under a second."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rayfleet.errors import LiveCheckError
from rayfleet.findings import Finding, Severity, Suppression
from rayfleet.fleet import load_fleet
from rayfleet.kube.readiness import Readiness
from rayfleet.rollout import (
    DeployOutcome,
    RegionOutcome,
    RegionPlan,
    RegionStatus,
    RolloutObserver,
    StepStatus,
    execute_rollout,
    run_region,
)

from tests.capacity.builders import region, write_fleet


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> list[RegionPlan]:
    folder = tmp_path_factory.mktemp("fleet")
    fleet = load_fleet(write_fleet(folder, [region("a", []), region("b", []), region("c", [])]))
    waves = {"a": 1, "b": 2, "c": 2}
    from dataclasses import replace

    return [RegionPlan(replace(r, wave=waves[r.name]), "chart", (), raycluster="rc", apply_crds=True)
            for r in fleet.regions]


@dataclass
class Gate:
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    crds: list[str] = field(default_factory=lambda: ["rayclusters.ray.io", "rayjobs.ray.io"])
    ready: bool = True
    raise_at: dict[str, str] = field(default_factory=dict)  # region -> step that raises
    log: list[tuple[str, str]] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)

    def _maybe_raise(self, plan: RegionPlan, step: str) -> None:
        self.log.append((step, plan.name))
        if self.raise_at.get(plan.name) == step:
            raise LiveCheckError(plan.name, f"{step} unreadable")

    def preflight(self, plan):
        self._maybe_raise(plan, "preflight")
        return list(self.findings.get(plan.name, []))

    def apply_crds(self, plan):
        self._maybe_raise(plan, "crds")
        return list(self.crds)

    def wait_ready(self, plan, timeout, on_update=None):
        self._maybe_raise(plan, "readiness")
        self.timeouts.append(timeout)
        if on_update:
            on_update(Readiness(plan.raycluster, False, state="suspended", reason=""))
            on_update(Readiness(plan.raycluster, False, state=None, reason="head pod pending"))
        if self.ready:
            return Readiness(plan.raycluster, True, state="ready")
        return Readiness(plan.raycluster, False, reason="not ready after 600s")


@dataclass
class Deployer:
    ok: bool = True
    revision: int | None = 4
    calls: list[str] = field(default_factory=list)

    def upgrade_install(self, plan):
        self.calls.append(plan.name)
        if not self.ok:
            return DeployOutcome(False, "UPGRADE FAILED: boom")
        return DeployOutcome(True, "done", revision=self.revision, status="deployed")


class Recorder(RolloutObserver):
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.finished: list[str] = []

    def step(self, region, step, state, detail=""):
        self.events.append((region, step, state, detail))

    def region_finished(self, outcome):
        self.finished.append(outcome.name)


def _steps(outcome: RegionOutcome) -> list[tuple[str, StepStatus, str]]:
    return [(s.name, s.status, s.message) for s in outcome.steps]


def _warning(region: str, *, waived: bool = False) -> Finding:
    finding = Finding("preflight-x", Severity.WARNING, "a warning", "fix", region=region)
    if waived:
        from datetime import date
        finding = finding.suppress(Suppression("ok", "o@example.com", date(2099, 1, 1), 0))
    return finding


def test_a_successful_region_records_every_step_and_its_detail(plans):
    gate = Gate(findings={"a": [_warning("a"), _warning("a"), _warning("a", waived=True)]})
    recorder = Recorder()
    outcome = run_region(RegionOutcome(plans[0]), deployer=Deployer(), gate=gate, dry_run=False,
                         observer=recorder)
    assert outcome.status is RegionStatus.SUCCEEDED and outcome.message == ""
    assert _steps(outcome) == [
        ("preflight", StepStatus.PASSED, "2 warning(s)"),  # waived warnings do not count
        ("crds", StepStatus.PASSED, "applied server-side: rayclusters.ray.io, rayjobs.ray.io"),
        ("deploy", StepStatus.PASSED, "revision 4"),
        ("readiness", StepStatus.PASSED, "ready")]
    assert all(s.seconds >= 0 for s in outcome.steps)
    assert outcome.deploy.revision == 4 and outcome.readiness.ready
    assert gate.timeouts == [600]  # the plan's default --timeout
    assert recorder.events == [
        ("a", "preflight", "started", ""), ("a", "preflight", "passed", "2 warning(s)"),
        ("a", "crds", "started", "server-side apply, field manager rayfleet"),
        ("a", "crds", "passed", "applied server-side: rayclusters.ray.io, rayjobs.ray.io"),
        ("a", "deploy", "started", " ".join(plans[0].command())), ("a", "deploy", "passed", "revision 4"),
        ("a", "readiness", "started", "RayCluster ray/rc"),
        ("a", "readiness", "waiting", "suspended"), ("a", "readiness", "waiting", "head pod pending"),
        ("a", "readiness", "passed", "ready")]


def test_quiet_preflight_no_crds_no_revision_and_no_raycluster(plans):
    from dataclasses import replace

    plan = replace(plans[0], raycluster=None)
    recorder = Recorder()
    gate = Gate(crds=[])
    outcome = run_region(RegionOutcome(plan), deployer=Deployer(revision=None), gate=gate, dry_run=False,
                         observer=recorder)
    assert outcome.status is RegionStatus.SUCCEEDED
    assert _steps(outcome) == [
        ("preflight", StepStatus.PASSED, ""),
        ("crds", StepStatus.SKIPPED, "the chart has no KubeRay CRDs (run helm dependency build)"),
        ("deploy", StepStatus.PASSED, "deployed"),
        ("readiness", StepStatus.SKIPPED, "the release has no RayCluster")]
    assert ("a", "crds", "skipped", "the chart has no KubeRay CRDs (run helm dependency build)") in recorder.events
    assert ("a", "readiness", "skipped", "the release has no RayCluster") in recorder.events
    assert ("readiness", "a") not in gate.log
    no_operator = replace(plans[0], apply_crds=False)
    gate = Gate()
    outcome = run_region(RegionOutcome(no_operator), deployer=Deployer(), gate=gate, dry_run=False,
                         observer=RolloutObserver())
    assert [s.name for s in outcome.steps] == ["preflight", "deploy", "readiness"]
    assert ("crds", "a") not in gate.log


@pytest.mark.parametrize(("fail_on", "blocks"), [(Severity.ERROR, False), (Severity.WARNING, True),
                                                 (Severity.INFO, True)])
def test_preflight_blocks_at_the_fail_on_severity(plans, fail_on, blocks):
    gate = Gate(findings={"a": [_warning("a", waived=True), _warning("a")]})
    recorder = Recorder()
    outcome = run_region(RegionOutcome(plans[0]), deployer=Deployer(), gate=gate, dry_run=False,
                         observer=recorder, fail_on=fail_on)
    if not blocks:
        assert outcome.status is RegionStatus.SUCCEEDED
        return
    detail = "1 blocking finding(s): a warning"  # the waived warning never blocks
    assert outcome.status is RegionStatus.FAILED and outcome.message == f"preflight failed: {detail}"
    assert _steps(outcome) == [("preflight", StepStatus.FAILED, detail)]
    assert recorder.events[-1] == ("a", "preflight", "failed", detail)
    dry = run_region(RegionOutcome(plans[0]), deployer=None, gate=gate, dry_run=True, observer=Recorder(),
                     fail_on=fail_on)
    assert dry.status is RegionStatus.BLOCKED


def test_failed_deploy_and_readiness_stop_the_region(plans):
    recorder = Recorder()
    outcome = run_region(RegionOutcome(plans[0]), deployer=Deployer(ok=False), gate=Gate(), dry_run=False,
                         observer=recorder)
    assert outcome.status is RegionStatus.FAILED
    assert outcome.message == "helm upgrade --install failed: UPGRADE FAILED: boom"
    assert _steps(outcome)[-1] == ("deploy", StepStatus.FAILED, "UPGRADE FAILED: boom")
    assert recorder.events[-1] == ("a", "deploy", "failed", "UPGRADE FAILED: boom")
    recorder = Recorder()
    outcome = run_region(RegionOutcome(plans[0]), deployer=Deployer(), gate=Gate(ready=False), dry_run=False,
                         observer=recorder)
    assert outcome.status is RegionStatus.FAILED and outcome.message == "RayCluster rc not ready after 600s"
    assert _steps(outcome)[-1] == ("readiness", StepStatus.FAILED, "not ready after 600s")
    assert recorder.events[-1] == ("a", "readiness", "failed", "not ready after 600s")


@pytest.mark.parametrize("step", ["preflight", "crds", "readiness"])
def test_an_unreadable_cluster_is_recorded_then_raised(plans, step):
    recorder = Recorder()
    outcome = RegionOutcome(plans[0])
    with pytest.raises(LiveCheckError):
        run_region(outcome, deployer=Deployer(), gate=Gate(raise_at={"a": step}), dry_run=False, observer=recorder)
    assert outcome.status is RegionStatus.FAILED and outcome.message == f"region a: {step} unreadable"
    assert _steps(outcome)[-1] == (step, StepStatus.FAILED, f"{step} unreadable")
    assert recorder.events[-1] == ("a", step, "failed", f"{step} unreadable")
    dry = RegionOutcome(plans[0])
    with pytest.raises(LiveCheckError):
        run_region(dry, deployer=None, gate=Gate(raise_at={"a": "preflight"}), dry_run=True, observer=recorder)
    assert dry.status is RegionStatus.BLOCKED


def test_report_status_for_every_kind_of_run(plans):
    # live, all good
    deployer = Deployer()
    report = execute_rollout(plans, gate=Gate(), deployer=deployer, fleet_path="fleet.yaml", helm="h", helm4=True)
    assert (report.status, report.ok, report.error, report.stopped_at) == ("succeeded", True, None, None)
    assert (report.fleet, report.dry_run, report.helm, report.helm4) == ("fleet.yaml", False, "h", True)
    assert deployer.calls == ["a", "b", "c"] and report.finished is not None
    # live, a region fails: the rest of its wave and later waves are not started
    gate = Gate(findings={"b": [Finding("p", Severity.ERROR, "no", "fix", region="b")]})
    recorder = Recorder()
    report = execute_rollout(plans, gate=gate, deployer=Deployer(), observer=recorder)
    assert report.status == "failed" and not report.ok
    assert [o.status for o in report.regions] == [RegionStatus.SUCCEEDED, RegionStatus.FAILED,
                                                  RegionStatus.NOT_STARTED]
    assert report.stopped_at is report.regions[1] and recorder.finished == ["a", "b"]
    # dry run, checked and blocked
    report = execute_rollout(plans, gate=Gate(), deployer=None, dry_run=True)
    assert report.status == "checked" and report.ok
    assert [o.status for o in report.regions] == [RegionStatus.CHECKED] * 3
    report = execute_rollout(plans, gate=gate, deployer=None, dry_run=True)
    assert report.status == "blocked" and not report.ok
    assert [o.status for o in report.regions] == [RegionStatus.CHECKED, RegionStatus.BLOCKED,
                                                  RegionStatus.CHECKED]
    assert report.stopped_at is None  # a dry run stops nowhere
    # offline dry run: nothing read
    recorder = Recorder()
    report = execute_rollout(plans, gate=None, deployer=None, dry_run=True, preflight=False, observer=recorder)
    assert report.status == "planned" and report.ok
    assert [o.status for o in report.regions] == [RegionStatus.PLANNED] * 3
    assert [_steps(o) for o in report.regions] == [
        [("preflight", StepStatus.SKIPPED, "offline dry run (add --preflight)")]] * 3
    assert recorder.events[0] == ("a", "preflight", "skipped", "offline dry run (add --preflight)")
    # unreadable clusters: the first error is the report's; a dry run goes on to the next region
    report = execute_rollout(plans, gate=Gate(raise_at={"a": "preflight", "c": "preflight"}), deployer=None,
                             dry_run=True)
    assert report.status == "error" and report.error == "region a: preflight unreadable" and not report.ok
    assert [o.status for o in report.regions] == [RegionStatus.BLOCKED, RegionStatus.CHECKED,
                                                  RegionStatus.BLOCKED]
    report = execute_rollout(plans, gate=Gate(raise_at={"a": "crds"}), deployer=Deployer())
    assert report.status == "error" and [o.status for o in report.regions][1:] == [RegionStatus.NOT_STARTED] * 2


@pytest.fixture(scope="module")
def tiny_fleet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    return load_fleet(write_fleet(folder, [region("a", []), region("b", []), region("c", [])]))


def _validation(*findings: Finding):
    from rayfleet.result import RegionSummary, Result

    def validate(fleet, regions=None):
        assert regions is not None
        return Result("validate", list(findings), [RegionSummary(n, 7) for n in regions if n != "c"], (),
                      notes=["validated"])
    return validate


def test_rollout_fleet_refuses_on_validation_errors(tiny_fleet):
    from rayfleet.commands.rollout import rollout_fleet

    error = Finding("render-error", Severity.ERROR, "boom", "fix", region="a")
    deployer = Deployer()
    result = rollout_fleet(tiny_fleet, deployer=deployer, gate=Gate(), releases={},
                           validate=_validation(error, _warning("b")))
    report = result.rollout
    assert report.status == "refused" and not report.ok and deployer.calls == []
    assert report.finished == report.started
    assert [o.status for o in report.regions] == [RegionStatus.NOT_STARTED] * 3
    assert report.validation == {"info": 0, "warning": 1, "error": 1}
    assert result.command == "rollout" and result.findings == [error, _warning("b")]
    assert result.notes == ["validated"]
    # objects as validate counted them; a region validate did not count shows none
    assert [(r.name, r.objects) for r in result.regions] == [("a", 7), ("b", 7), ("c", 0)]
    # a warning alone does not refuse
    result = rollout_fleet(tiny_fleet, deployer=Deployer(), gate=Gate(), releases={},
                           validate=_validation(_warning("b")))
    assert result.rollout.status == "succeeded"


def test_rollout_fleet_selects_regions_and_passes_timeout_and_helm(tiny_fleet):
    from rayfleet.commands.rollout import rollout_fleet
    from rayfleet.errors import EngineError

    deployer = Deployer()
    deployer.executable, deployer.helm4 = "/opt/helm4", True
    gate = Gate(findings={"b": [_warning("b")]})
    result = rollout_fleet(tiny_fleet, regions=["b", "c"], timeout=300, deployer=deployer, gate=gate, releases={},
                           validate=_validation())
    report = result.rollout
    assert [o.name for o in report.regions] == ["b", "c"] and deployer.calls == ["b", "c"]
    assert (report.helm, report.helm4, report.status) == ("/opt/helm4", True, "succeeded")
    assert result.findings == [_warning("b")]  # preflight findings join the validation's
    command = result.regions[0].helm_command
    assert command.startswith("/opt/helm4 upgrade --install ray ") and "--timeout 300s" in command
    assert "--rollback-on-failure" in command
    assert [p.timeout for p in (o.plan for o in report.regions)] == [300, 300]
    with pytest.raises(EngineError, match="needs a Helm deployer"):
        rollout_fleet(tiny_fleet, gate=Gate(), releases={}, validate=_validation())
    # an offline dry run needs neither a deployer nor a gate: nothing is read
    result = rollout_fleet(tiny_fleet, dry_run=True, preflight=False, releases={}, validate=_validation())
    assert result.rollout.status == "planned" and result.rollout.dry_run
    assert result.regions[0].helm_command.startswith("helm upgrade --install ray ")
    assert "--timeout 600s" in result.regions[0].helm_command  # the default --timeout


# --- the rollout report as JSON (report/rollout.py)

@pytest.mark.parametrize(("statuses", "state"), [
    ({RegionStatus.PLANNED}, "planned"), (set(), "planned"),
    ({RegionStatus.SUCCEEDED}, "succeeded"), ({RegionStatus.CHECKED}, "checked"),
    ({RegionStatus.SUCCEEDED, RegionStatus.FAILED}, "failed"), ({RegionStatus.CHECKED, RegionStatus.BLOCKED}, "failed"),
    ({RegionStatus.NOT_STARTED}, "not-started"), ({RegionStatus.SUCCEEDED, RegionStatus.NOT_STARTED}, "partial"),
    ({RegionStatus.SUCCEEDED, RegionStatus.CHECKED}, "partial")])
def test_wave_state(statuses, state):
    from rayfleet.report.rollout import _wave_state

    assert _wave_state(statuses) == state


def test_rollout_report_every_field(plans):
    from datetime import timedelta

    from rayfleet.report.rollout import REPORT_SCHEMA, format_rollout_json, rollout_to_dict

    gate = Gate(findings={"b": [Finding("p", Severity.ERROR, "no", "fix", region="b", path="spec.x"),
                                _warning("b", waived=True)]})
    report = execute_rollout(plans, gate=gate, deployer=Deployer(), fleet_path="f.yaml", helm="h")
    report.finished = report.started + timedelta(seconds=1.23456)
    report.validation = {"error": 0, "warning": 2, "info": 0}
    text = format_rollout_json(report)
    assert text.startswith('{\n  "schema": ') and text.endswith("}\n")
    import json as _json
    data = _json.loads(text)
    assert data == rollout_to_dict(report)
    assert (data["schema"], data["tool"]["name"], data["fleet"], data["dryRun"], data["status"], data["error"]) == (
        REPORT_SCHEMA, "rayfleet", "f.yaml", False, "failed", None)
    assert data["startedAt"] == report.started.isoformat(timespec="seconds")
    assert data["durationSeconds"] == 1.235 and data["validation"] == {"error": 0, "warning": 2, "info": 0}
    assert data["stoppedAt"] == {"wave": 2, "region": "b", "step": "preflight"}
    assert data["waves"] == [{"wave": 1, "status": "succeeded", "regions": ["a"]},
                             {"wave": 2, "status": "failed", "regions": ["b", "c"]}]
    a, b, c = data["regions"]
    assert (a["name"], a["wave"], a["status"], a["message"], a["release"], a["namespace"]) == (
        "a", 1, "succeeded", "", "ray", "ray")
    assert a["revision"] == 4 and a["helmStatus"] == "deployed"
    assert a["rayCluster"] == {"name": "rc", "ready": True, "found": True, "state": "ready", "conditions": {},
                               "reason": "", "waitedSeconds": 0.0}
    assert a["command"] == plans[0].command(helm="h")  # the deployer gave no command: the plan's, with the helm used
    assert [s["name"] for s in a["steps"]] == ["preflight", "crds", "deploy", "readiness"]
    assert a["steps"][2] == {"name": "deploy", "status": "passed", "durationSeconds": round(
        report.regions[0].steps[2].seconds, 3), "message": "revision 4"}
    assert b["status"] == "failed" and b["revision"] is None and b["helmStatus"] is None
    assert b["rayCluster"] == {"name": "rc"}  # not waited for: only its name
    assert b["findings"] == [
        {"policy": "p", "severity": "error", "message": "no", "region": "b", "object": None, "path": "spec.x",
         "waived": False},
        {"policy": "preflight-x", "severity": "warning", "message": "a warning", "region": "b", "object": None,
         "path": None, "waived": True}]
    assert c["status"] == "not-started" and c["steps"] == []
    from dataclasses import replace
    bare = execute_rollout([replace(plans[0], raycluster=None)], gate=None, deployer=None, dry_run=True,
                           preflight=False)
    assert rollout_to_dict(bare)["regions"][0]["rayCluster"] is None
    assert rollout_to_dict(bare)["stoppedAt"] is None
    deployed = execute_rollout(plans[:1], gate=Gate(), deployer=CommandDeployer())
    assert rollout_to_dict(deployed)["regions"][0]["command"] == ["helm", "as", "run"]


class CommandDeployer(Deployer):
    def upgrade_install(self, plan):
        return DeployOutcome(True, "done", revision=1, status="deployed", command=["helm", "as", "run"])
