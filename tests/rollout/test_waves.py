"""The wave logic behind its seams: a recording Helm deployer (our own interface) and, for the
cluster, either a scripted gate or the real kubernetes client against the fake AKS server."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field

import pytest
from rayfleet.commands.rollout import LiveClusterGate, rollout_fleet
from rayfleet.errors import LiveCheckError
from rayfleet.findings import Finding, Severity
from rayfleet.kube.readiness import Readiness
from rayfleet.report.rollout import format_rollout_json, rollout_to_dict
from rayfleet.result import Result
from rayfleet.rollout import (
    DeployOutcome,
    RegionPlan,
    RegionStatus,
    RolloutObserver,
    execute_rollout,
    plan_region,
)

from tests.kube.fake_kube import raycluster

ORDER = ["eastus2", "swedencentral", "westus3", "manager"]  # waves 1: eastus2; 2: swedencentral, westus3; 3: manager


@dataclass
class RecordingDeployer:
    fail: set[str] = field(default_factory=set)
    calls: list[RegionPlan] = field(default_factory=list)
    executable: str = "helm"

    def upgrade_install(self, plan: RegionPlan) -> DeployOutcome:
        self.calls.append(plan)
        if plan.name in self.fail:
            return DeployOutcome(False, "UPGRADE FAILED: timed out waiting for the condition", command=plan.command())
        return DeployOutcome(True, "Upgrade complete", revision=3, status="deployed", command=plan.command())


@dataclass
class ScriptedGate:
    blocked: set[str] = field(default_factory=set)
    not_ready: set[str] = field(default_factory=set)
    unreachable: set[str] = field(default_factory=set)
    log: list[tuple[str, str]] = field(default_factory=list)

    def preflight(self, plan: RegionPlan) -> list[Finding]:
        self.log.append(("preflight", plan.name))
        if plan.name in self.unreachable:
            raise LiveCheckError(plan.name, "cannot reach the API server")
        if plan.name in self.blocked:
            return [Finding("preflight-gpu-nodes", Severity.ERROR, "no GPU nodes", "add a pool", region=plan.name)]
        return [Finding("preflight-namespace", Severity.INFO, "namespace created", "", region=plan.name)]

    def apply_crds(self, plan: RegionPlan) -> list[str]:
        self.log.append(("crds", plan.name))
        return ["rayclusters.ray.io"]

    def wait_ready(self, plan, timeout, on_update=None) -> Readiness:
        self.log.append(("wait", plan.name))
        ready = plan.name not in self.not_ready
        return Readiness(plan.raycluster or "", ready, state="ready" if ready else None,
                         reason="" if ready else f"not ready after {timeout:g}s: HeadPodReady=False")


class Recorder(RolloutObserver):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def wave_started(self, wave, plans) -> None:
        self.events.append(("wave", wave, [p.name for p in plans]))

    def step(self, region, step, state, detail="") -> None:
        self.events.append((region, step, state))


def _plans(example, releases, **kwargs):
    return [plan_region(example, r, releases[r.name], **kwargs) for r in example.regions]


def test_plan_uses_the_values_stack_in_plan_order(example, releases):
    plan = plan_region(example, example.region("westus3"), releases["westus3"], timeout=300)
    assert plan.values_files[0].endswith("values/platform.yaml")
    assert plan.values_files[1].endswith("values/regions/westus3.yaml")
    assert plan.values_files[2].endswith("values/overrides/platform-team.yaml")
    command = plan.command()
    assert command[:4] == ["helm", "upgrade", "--install", "ray"]
    assert command[5:7] == ["--namespace", "ray"] and "--atomic" in command and "--wait" in command
    assert command[command.index("--timeout") + 1] == "300s"
    assert command[-2:] == ["--kube-context", "rayfleet-wus3"]
    assert [command[i + 1] for i, a in enumerate(command) if a == "-f"] == list(plan.values_files)
    assert "--rollback-on-failure" in plan.command(helm4=True) and "--atomic" not in plan.command(helm4=True)
    assert plan.raycluster == "ray-ray-cluster"


def test_waves_run_in_order_and_all_succeed(example, releases):
    deployer, gate, recorder = RecordingDeployer(), ScriptedGate(), Recorder()
    report = execute_rollout(_plans(example, releases), gate=gate, deployer=deployer, observer=recorder)
    assert report.status == "succeeded" and report.ok
    assert [p.name for p in deployer.calls] == ORDER
    # the operator is in the release: its CRDs go in after preflight, before helm; the MultiKueue
    # manager renders no RayCluster: no readiness wait there
    assert gate.log == [(step, r) for r in ORDER for step in ("preflight", "crds", "wait")
                        if (step, r) != ("wait", "manager")]
    assert [e for e in recorder.events if e[0] == "wave"] == [("wave", 1, ["eastus2"]),
                                                              ("wave", 2, ["swedencentral", "westus3"]),
                                                              ("wave", 3, ["manager"])]
    assert all(o.status is RegionStatus.SUCCEEDED for o in report.regions)


def test_wave_order_beats_fleet_order(example, releases):
    plans = _plans(example, releases)
    from dataclasses import replace
    plans[0] = replace(plans[0], region=replace(plans[0].region, wave=4))
    deployer = RecordingDeployer()
    execute_rollout(plans, gate=ScriptedGate(), deployer=deployer)
    assert [p.name for p in deployer.calls] == ["swedencentral", "westus3", "manager", "eastus2"]


@pytest.mark.parametrize(("where", "step"), [("blocked", "preflight"), ("fail", "deploy"),
                                             ("not_ready", "readiness")])
def test_stops_at_the_first_failed_region(example, releases, where, step):
    gate, deployer = ScriptedGate(), RecordingDeployer()
    target = gate if where != "fail" else deployer
    getattr(target, where).add("swedencentral")
    report = execute_rollout(_plans(example, releases), gate=gate, deployer=deployer)
    statuses = {o.name: o.status for o in report.regions}
    assert statuses == {"eastus2": RegionStatus.SUCCEEDED, "swedencentral": RegionStatus.FAILED,
                        "westus3": RegionStatus.NOT_STARTED, "manager": RegionStatus.NOT_STARTED}
    assert report.status == "failed"
    assert "westus3" not in [p.name for p in deployer.calls]
    assert ("preflight", "westus3") not in gate.log
    data = rollout_to_dict(report)
    assert data["stoppedAt"] == {"wave": 2, "region": "swedencentral", "step": step}
    assert [w["status"] for w in data["waves"]] == ["succeeded", "failed", "not-started"]


def test_unreachable_cluster_stops_with_an_error(example, releases):
    gate = ScriptedGate(unreachable={"eastus2"})
    deployer = RecordingDeployer()
    report = execute_rollout(_plans(example, releases), gate=gate, deployer=deployer)
    assert report.status == "error" and report.error == "region eastus2: cannot reach the API server"
    assert deployer.calls == [] and [o.status for o in report.regions][1:] == [RegionStatus.NOT_STARTED] * 3


def test_dry_run_checks_every_region_and_deploys_nothing(example, releases):
    gate = ScriptedGate(blocked={"eastus2"})
    report = execute_rollout(_plans(example, releases), gate=gate, deployer=None, dry_run=True)
    assert [o.status for o in report.regions] == [RegionStatus.BLOCKED] + [RegionStatus.CHECKED] * 3
    assert report.status == "blocked" and not report.ok
    assert all(step == "preflight" for step, _ in gate.log)


def test_json_report_shape(example, releases):
    deployer = RecordingDeployer(fail={"westus3"})
    report = execute_rollout(_plans(example, releases), gate=ScriptedGate(), deployer=deployer,
                             fleet_path="examples/fleet.yaml")
    data = json.loads(format_rollout_json(report))
    assert data["schema"] == "rayfleet-rollout/v1" and data["dryRun"] is False and data["status"] == "failed"
    region = data["regions"][0]
    assert set(region) >= {"name", "wave", "status", "kubeContext", "release", "namespace", "command", "steps",
                           "revision", "helmStatus", "rayCluster", "findings"}
    assert region["revision"] == 3 and region["helmStatus"] == "deployed"
    assert [s["name"] for s in region["steps"]] == ["preflight", "crds", "deploy", "readiness"]
    deploy = data["regions"][2]["steps"][2]
    assert (deploy["name"], deploy["status"]) == ("deploy", "failed")
    assert deploy["message"] == "UPGRADE FAILED: timed out waiting for the condition"


def test_rollout_refuses_when_validation_fails(example, releases):
    def failing_validation(fleet, regions=None):
        return Result("validate", findings=[Finding("render-error", Severity.ERROR, "boom", "fix", region="eastus2")])

    deployer = RecordingDeployer()
    result = rollout_fleet(example, deployer=deployer, gate=ScriptedGate(), releases=releases,
                           validate=failing_validation)
    report = result.rollout
    assert report.status == "refused" and deployer.calls == []
    assert rollout_to_dict(result.rollout)["validation"]["error"] == 1
    assert result.findings[0].policy == "render-error"


def test_rollout_against_the_fake_clusters(example, fake_aks):
    """Preflight and readiness through the real kubernetes client; Helm behind the interface."""
    for cluster in fake_aks.clusters.values():
        cluster.set_raycluster(raycluster("ray-ray-cluster", head_ready="False", provisioned="False"),
                               raycluster("ray-ray-cluster", state="ready", head_ready="True", provisioned="True"))
    fake_aks.clusters["westus3"].git_version = "v1.32.7"
    # swedencentral has no A100 nodes in the default fake: the rollout stops there.
    deployer = RecordingDeployer()
    result = rollout_fleet(example, deployer=deployer, kubeconfig=str(fake_aks.kubeconfig), timeout=5)
    report = result.rollout
    assert [p.name for p in deployer.calls] == ["eastus2"]
    assert {o.name: o.status.value for o in report.regions} == {
        "eastus2": "succeeded", "swedencentral": "failed", "westus3": "not-started", "manager": "not-started"}
    assert report.regions[0].readiness.ready
    assert any(f.policy == "preflight-gpu-nodes" and f.region == "swedencentral" for f in result.findings)
    assert not any(r.path.startswith("/westus3") for r in fake_aks.server.requests)


def test_live_gate_applies_waivers(example, fake_aks, releases):
    from dataclasses import replace

    from rayfleet.fleet import Waiver, WaiverScope
    waived = replace(example, waivers=(Waiver("preflight-gpu-nodes", WaiverScope(region="swedencentral"),
                                              "A100 pool scales from zero", "ops@example.com",
                                              __import__("datetime").date(2099, 1, 1)),))
    gate = LiveClusterGate(waived, releases, kubeconfig=str(fake_aks.kubeconfig))
    findings = gate.preflight(plan_region(waived, waived.region("swedencentral"), releases["swedencentral"]))
    assert findings and all(not f.counts for f in findings if f.policy == "preflight-gpu-nodes")


def test_pyhelm3_deployer_needs_a_binary():
    from rayfleet.errors import EngineError
    from rayfleet.rollout import PyHelm3Deployer

    with pytest.raises(EngineError, match="helm binary 'no-such-helm' not found"):
        PyHelm3Deployer("no-such-helm")


HELM = shutil.which("helm")


def test_pyhelm3_deployer_reports_an_unreachable_cluster(example, releases, tmp_path):
    """With a real helm where there is one, else the stand-in of test_helm_standin failing as helm does."""
    from rayfleet.rollout import PyHelm3Deployer

    from tests.kube.fake_kube import write_kubeconfig
    from tests.rollout.test_helm_standin import stand_in

    helm = HELM or stand_in(tmp_path, "fail")[0]
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"rayfleet-eus2": ("https://127.0.0.1:1", "/dev/null")})
    deployer = PyHelm3Deployer(helm, kubeconfig=str(kubeconfig))
    plan = plan_region(example, example.region("eastus2"), releases["eastus2"], timeout=5)
    outcome = deployer.upgrade_install(plan)
    assert not outcome.ok and outcome.message and outcome.command[0] == helm


def test_live_rollout_applies_the_pinned_crds_server_side_before_helm(tmp_path, fake_aks, shared_dir):
    """With the operator built into the chart, each region gets its CRDs by server-side apply
    (field manager rayfleet, conflicts forced) after preflight and before the Helm step."""
    from rayfleet.fleet import load_fleet

    from tests.support.upstream import ship

    ship(tmp_path, shared_dir)
    fleet = load_fleet(tmp_path / "examples" / "fleet.yaml")
    cluster = fake_aks.cluster
    cluster.set_raycluster(raycluster("ray-ray-cluster", state="ready", head_ready="True", provisioned="True"))
    applied_before_helm: list[int] = []

    class Deployer(RecordingDeployer):
        def upgrade_install(self, plan):
            applied_before_helm.append(len(cluster.applied))
            return super().upgrade_install(plan)

    result = rollout_fleet(fleet, regions=["eastus2"], deployer=Deployer(), kubeconfig=str(fake_aks.kubeconfig),
                           timeout=5)
    report = result.rollout
    assert report.status == "succeeded", rollout_to_dict(report)
    names = [name for name, _, _ in cluster.applied]
    assert sorted(names) == ["rayclusters.ray.io", "raycronjobs.ray.io", "rayjobs.ray.io", "rayservices.ray.io"]
    assert applied_before_helm == [len(names)]
    for _, query, body in cluster.applied:
        assert query == {"fieldManager": "rayfleet", "force": "true"}
        assert body["kind"] == "CustomResourceDefinition" and "status" not in body
    patches = [r for r in fake_aks.server.requests if r.method == "PATCH"]
    assert {r.headers["content-type"] for r in patches} == {"application/apply-patch+yaml"}
    step = report.regions[0].step("crds")
    assert step.status.value == "passed" and "rayclusters.ray.io" in step.message
    assert cluster.crds["rayclusters.ray.io"]["metadata"]["managedFields"][0]["manager"] == "rayfleet"


def test_forbidden_crd_apply_stops_the_rollout_before_helm(tmp_path, fake_aks, shared_dir):
    from rayfleet.fleet import load_fleet

    from tests.support.upstream import ship

    ship(tmp_path, shared_dir)
    fleet = load_fleet(tmp_path / "examples" / "fleet.yaml")
    fake_aks.cluster.forbid_apply = True
    deployer = RecordingDeployer()
    result = rollout_fleet(fleet, regions=["eastus2"], deployer=deployer, kubeconfig=str(fake_aks.kubeconfig),
                           timeout=5)
    report = result.rollout
    assert deployer.calls == [] and report.status == "error"
    step = report.regions[0].step("crds")
    assert step.status.value == "failed" and "forbidden" in step.message
