"""The rollout report (report/rollout.py) field by field on outcomes built here: the Anyscale
operator's release (planned, deployed with and without a command), the helm binary and Helm 4
flags every command carries, the RayCluster as waited for / named / absent, rounding of every
duration, the stopping point with and without a failed step, and an unfinished report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from rayfleet.findings import Finding, ObjectRef, Severity, Suppression
from rayfleet.fleet import load_fleet
from rayfleet.kube.readiness import Readiness
from rayfleet.plan import OperatorPlan, RegionPlan
from rayfleet.report.rollout import format_rollout_json, region_to_dict, rollout_to_dict
from rayfleet.rollout import DeployOutcome, RegionOutcome, RegionStatus, RolloutReport, StepOutcome, StepStatus

from tests.capacity.builders import region, write_fleet

START = datetime(2026, 12, 2, 7, 0, 0, tzinfo=UTC)


@pytest.fixture
def plans(tmp_path) -> list[RegionPlan]:
    fleet = load_fleet(write_fleet(tmp_path, [region("a", []), region("b", [])]))
    a, b = fleet.regions
    a, b = replace(a, wave=1), replace(b, wave=2)
    operator = OperatorPlan(region=a, release="anyscale-operator", chart="charts/anyscale-operator",
                            version="1.2.3", namespace="anyscale", values_files=("v/op.yaml",))
    return [RegionPlan(a, "charts/ray-aks", ("v/a.yaml",), raycluster="rc", anyscale=operator),
            RegionPlan(b, "charts/ray-aks", ("v/b.yaml",), raycluster="rc")]


def test_anyscale_operator_planned_deployed_and_absent(plans):
    a, b = plans
    operator = a.anyscale
    planned = region_to_dict(RegionOutcome(a), ["x"], helm="/opt/h", helm4=True)["anyscale"]
    assert planned == {"release": "anyscale-operator", "namespace": "anyscale", "chart": "charts/anyscale-operator",
                       "version": "1.2.3", "command": operator.command(helm="/opt/h", helm4=True),
                       "revision": None, "helmStatus": None}
    assert planned["command"][0] == "/opt/h" and "--rollback-on-failure" in planned["command"]  # Helm 4's flag
    assert region_to_dict(RegionOutcome(a), ["x"])["anyscale"]["command"] == operator.command()
    assert "--atomic" in operator.command()
    # deployed without a command of its own: the plan's command, the deployment's revision and status
    bare = DeployOutcome(True, "ok", revision=3, status="deployed")
    deployed = region_to_dict(RegionOutcome(a, anyscale=bare), ["x"], helm="h")["anyscale"]
    assert (deployed["command"], deployed["revision"], deployed["helmStatus"]) == (
        operator.command(helm="h"), 3, "deployed")
    ran = DeployOutcome(False, "boom", revision=None, status="failed", command=["helm", "ran", "this"])
    failed = region_to_dict(RegionOutcome(a, anyscale=ran), ["x"], helm="h")["anyscale"]
    assert (failed["command"], failed["revision"], failed["helmStatus"]) == (["helm", "ran", "this"], None, "failed")
    assert region_to_dict(RegionOutcome(b), ["x"])["anyscale"] is None


def test_region_fields_readiness_and_findings(plans):
    a, _ = plans
    readiness = Readiness("rc", ready=False, found=True, state="suspended", conditions={"Ready": "False"},
                          reason="waiting", waited=2.71828)
    waived = Finding("p2", Severity.WARNING, "w", "fix").suppress(
        Suppression("why", "o@example.com", START.date(), 0))
    outcome = RegionOutcome(a, RegionStatus.FAILED, [StepOutcome("readiness", StepStatus.FAILED, 2.71828, "late")],
                            [Finding("p", Severity.ERROR, "m", "fix", "a", ObjectRef("v1", "Pod", "ns", "x"), "spec.y"),
                             waived],
                            DeployOutcome(True, "", revision=7, status="deployed"), None, readiness, "not ready")
    data = region_to_dict(outcome, ["helm", "c"])
    assert data == {
        "name": "a", "wave": 1, "status": "failed", "message": "not ready", "kubeContext": None, "release": "ray",
        "namespace": "ray", "command": ["helm", "c"],
        "steps": [{"name": "readiness", "status": "failed", "durationSeconds": 2.718, "message": "late"}],
        "revision": 7, "helmStatus": "deployed", "anyscale": data["anyscale"],
        "rayCluster": {"name": "rc", "ready": False, "found": True, "state": "suspended",
                       "conditions": {"Ready": "False"}, "reason": "waiting", "waitedSeconds": 2.718},
        "findings": [
            {"policy": "p", "severity": "error", "message": "m", "region": "a", "object": "Pod/ns/x",
             "path": "spec.y", "waived": False},
            {"policy": "p2", "severity": "warning", "message": "w", "region": None, "object": None, "path": None,
             "waived": True}],
    }
    assert data["anyscale"]["release"] == "anyscale-operator"
    named = region_to_dict(RegionOutcome(a), [])
    assert named["rayCluster"] == {"name": "rc"} and named["revision"] is None and named["helmStatus"] is None
    assert region_to_dict(RegionOutcome(replace(a, raycluster=None)), [])["rayCluster"] is None


def test_report_commands_use_the_helm_binary_and_helm4(plans):
    a, b = plans
    report = RolloutReport("f.yaml", False, [
        RegionOutcome(a, RegionStatus.SUCCEEDED, deploy=DeployOutcome(True, "", 1, "deployed", ["helm", "ran"])),
        RegionOutcome(b, RegionStatus.SUCCEEDED, deploy=DeployOutcome(True, "", 2, "deployed"))],
        started=START, finished=START + timedelta(seconds=2.71828), helm="/opt/helm4", helm4=True)
    data = rollout_to_dict(report)
    # a deployment that ran a command reports it; one that did not reports the plan's, with the binary used
    assert [r["command"] for r in data["regions"]] == [["helm", "ran"], b.command(helm="/opt/helm4", helm4=True)]
    assert data["regions"][0]["anyscale"]["command"] == a.anyscale.command(helm="/opt/helm4", helm4=True)
    assert data["durationSeconds"] == 2.718 and data["finishedAt"] == "2026-12-02T07:00:02+00:00"
    assert data["stoppedAt"] is None and data["waves"] == [
        {"wave": 1, "status": "succeeded", "regions": ["a"]}, {"wave": 2, "status": "succeeded", "regions": ["b"]}]


def test_stopped_at_names_the_failed_step_or_none(plans):
    a, b = plans
    failed = RegionOutcome(b, RegionStatus.FAILED, [StepOutcome("preflight", StepStatus.PASSED),
                                                     StepOutcome("deploy", StepStatus.FAILED, 1.0, "boom"),
                                                     StepOutcome("readiness", StepStatus.FAILED)])
    report = RolloutReport("f.yaml", False, [RegionOutcome(a, RegionStatus.SUCCEEDED), failed], status="failed",
                           started=START, finished=START)
    assert rollout_to_dict(report)["stoppedAt"] == {"wave": 2, "region": "b", "step": "deploy"}
    no_step = replace(failed, steps=[StepOutcome("preflight", StepStatus.PASSED)])
    report = replace(report, regions=[no_step])
    assert rollout_to_dict(report)["stoppedAt"] == {"wave": 2, "region": "b", "step": None}


def test_an_unfinished_report_ends_now(plans):
    before = datetime.now(UTC).replace(microsecond=0)
    report = RolloutReport("f.yaml", True, [RegionOutcome(plans[1], RegionStatus.PLANNED)], status="planned",
                           started=before - timedelta(hours=1))
    data = rollout_to_dict(report)
    finished = datetime.fromisoformat(data["finishedAt"])
    assert before <= finished <= datetime.now(UTC)
    assert 3600 <= data["durationSeconds"] < 3600 + 600
    assert data["dryRun"] is True and data["waves"] == [{"wave": 2, "status": "planned", "regions": ["b"]}]
    assert format_rollout_json(report).startswith('{\n  "schema": "rayfleet-rollout/v1",\n  "tool": {\n    "name"')
