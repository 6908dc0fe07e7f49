"""``LiveStageGate``'s timing and messages, with a clock that moves only when the gate sleeps: the
HelmRelease polls up to the deadline (at it, not past it), the RayCluster wait gets what is left
(at least a second), and what each outcome says. The HelmRelease is read from a fake member
cluster through the real kubernetes client; preflight and the RayCluster wait are rayfleet's own
seam (``cluster_gate``), scripted here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from rayfleet.commands.fleet_manager import LiveStageGate
from rayfleet.findings import Finding, Severity, Suppression
from rayfleet.fleet import AnyscaleOperator, Fleet, load_fleet
from rayfleet.kube.readiness import Readiness
from rayfleet.pipeline import render_fleet
from rayfleet.subjects import ReleaseObjects

from tests.kube.fake_kube import FakeCluster, helmrelease, write_kubeconfig
from tests.support.https_server import HttpsServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example() -> Fleet:
    return load_fleet(REPO / "examples" / "fleet.yaml")


@pytest.fixture(scope="module")
def releases(example: Fleet) -> dict[str, ReleaseObjects]:
    return {name: r.release for name, r in render_fleet(example, ["eastus2"]).items()}


@dataclass
class Member:
    cluster: FakeCluster
    kubeconfig: Path


@pytest.fixture
def member(tmp_path: Path) -> Iterator[Member]:
    with HttpsServer() as server:
        cluster = FakeCluster(prefix="/eastus2").serve(server)
        yield Member(cluster, write_kubeconfig(tmp_path / "kubeconfig",
                                               {"rayfleet-eus2": (f"{server.url}/eastus2", server.ca_path)}))


class Clock:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) > 20:
            raise AssertionError("the gate keeps polling past its deadline")
        self.now += seconds


@dataclass
class ClusterGate:
    findings: list[Finding] = field(default_factory=list)
    ready: Readiness | None = None
    waits: list[tuple[str, float]] = field(default_factory=list)

    def preflight(self, plan: Any) -> list[Finding]:
        return list(self.findings)

    def wait_ready(self, plan: Any, timeout: float, on_update: Any = None) -> Readiness:
        self.waits.append((plan.raycluster, timeout))
        return self.ready or Readiness(plan.raycluster, True, state="ready")


def _gate(example: Fleet, releases: Any, member: Member, clock: Clock, cluster_gate: ClusterGate, *,
          timeout: float = 10, poll: float = 4) -> LiveStageGate:
    gate = LiveStageGate(example, releases, kubeconfig=str(member.kubeconfig), timeout=timeout, poll_interval=poll,
                         clock=clock, sleep=clock.sleep)
    gate.cluster_gate = cluster_gate  # type: ignore[assignment]
    return gate


def test_polls_the_helmrelease_until_the_deadline_and_no_longer(example, releases, member):
    clock = Clock()
    member.cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2", ready="False")
    check = _gate(example, releases, member, clock, ClusterGate()).check(example.region("eastus2"))
    # deadline 10: sleeps of 4, 4, then the 2 left; at 10 the gate gives up
    assert clock.sleeps == [4, 4, 2]
    assert (check.region, check.ok) == ("eastus2", False)
    assert check.message == "HelmRelease ray: Ready=False: UpgradeFailed context deadline exceeded"


def test_a_ready_helmrelease_then_the_raycluster_gets_the_time_left(example, releases, member):
    clock, cluster_gate = Clock(), ClusterGate()
    member.cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2")
    check = _gate(example, releases, member, clock, cluster_gate, timeout=30).check(example.region("eastus2"))
    assert (check.ok, check.message, clock.sleeps) == (True, "ready", [])
    assert cluster_gate.waits == [("ray-ray-cluster", 30.0)]
    # with the deadline passed, the wait still gets a second
    clock.now = 0.0
    gate = _gate(example, releases, member, clock, cluster_gate, timeout=0)
    assert gate.check(example.region("eastus2")).ok and cluster_gate.waits[-1] == ("ray-ray-cluster", 1.0)


def test_a_raycluster_not_ready_names_it_and_the_reason(example, releases, member):
    cluster_gate = ClusterGate(ready=Readiness("ray-ray-cluster", False, reason="head pod pending"))
    member.cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2")
    check = _gate(example, releases, member, Clock(), cluster_gate).check(example.region("eastus2"))
    assert (check.ok, check.message) == (False, "RayCluster ray-ray-cluster: head pod pending")


def test_no_raycluster_and_the_operator_release(example, member):
    member.cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2")
    cluster_gate = ClusterGate()
    check = _gate(example, {}, member, Clock(), cluster_gate).check(example.region("eastus2"))
    assert (check.ok, check.message) == (True, "HelmRelease ready; the release has no RayCluster")
    operator = AnyscaleOperator(Path("charts/anyscale-operator"), "1.8.0", (), "anyscale-operator", "anyscale")
    region = replace(example.region("eastus2"), anyscale=operator)
    member.cluster.helmreleases[("rayfleet-eastus2", "anyscale-operator")] = helmrelease("anyscale-operator",
                                                                                         "rayfleet-eastus2")
    check = _gate(example, {}, member, Clock(), cluster_gate).check(region)
    assert (check.ok, check.message) == (True, "HelmReleases ready; the release has no RayCluster")
    assert cluster_gate.waits == []


def test_only_unwaived_preflight_errors_block(example, releases, member):
    member.cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2")
    from datetime import date

    warning = Finding("preflight-x", Severity.WARNING, "a warning", "fix", region="eastus2")
    waived = Finding("preflight-y", Severity.ERROR, "waived", "fix", region="eastus2").suppress(
        Suppression("ok", "o@example.com", date(2099, 1, 1), 0))
    error = Finding("preflight-z", Severity.ERROR, "the CSI driver is missing", "fix", region="eastus2")
    check = _gate(example, releases, member, Clock(), ClusterGate([warning, waived])).check(example.region("eastus2"))
    assert check.ok and check.findings == [warning, waived]
    check = _gate(example, releases, member, Clock(), ClusterGate([warning, error, error])).check(
        example.region("eastus2"))
    assert (check.ok, check.message) == (False, "preflight: the CSI driver is missing")
    assert check.findings == [warning, error, error]


def test_the_default_timeout_is_600_seconds(example, releases, member):
    clock = Clock()
    member.cluster.helmreleases[("rayfleet-eastus2", "ray")] = helmrelease("ray", "rayfleet-eastus2", ready="False")
    gate = LiveStageGate(example, releases, kubeconfig=str(member.kubeconfig), poll_interval=250, clock=clock,
                         sleep=clock.sleep)
    gate.cluster_gate = ClusterGate()  # type: ignore[assignment]
    assert not gate.check(example.region("eastus2")).ok
    assert clock.sleeps == [250, 250, 100]
