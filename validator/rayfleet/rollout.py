"""The rollout engine: per wave and region, preflight, the pinned operator's CRDs applied
server-side, ``helm upgrade --install`` and a readiness gate on the RayCluster, recorded in a
``RolloutReport``. (``rayfleet.commands.rollout`` validates
first and wires the live seams; ``rayfleet.report.rollout`` writes the report as JSON.)

Waves run in ascending ``region.wave``; regions inside a wave run one after another in fleet
order. A region that declares the Anyscale operator gets a second ``helm upgrade --install`` right after
its release and before the readiness wait (docs/anyscale.md says why in that order).

The first region that fails stops the rollout: nothing after it is touched. Three seams
keep the wave logic testable without a cluster or a ``helm`` binary:

- ``HelmDeployer``: ``upgrade_install(plan) -> DeployOutcome``; ``PyHelm3Deployer`` drives the
  user's ``helm`` through pyhelm3 with the same ``-f`` files ``rayfleet plan`` prints.
- ``ClusterGate``: preflight, the CRD apply and the readiness wait;
  ``commands.rollout.LiveClusterGate`` uses the kube context.
- ``RolloutObserver``: progress callbacks (the CLI draws them; the library never prints).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .errors import EngineError, LiveCheckError
from .findings import Finding, Severity
from .plan import DEFAULT_TIMEOUT, OperatorPlan, RegionPlan, plan_region, waves
from .render import pyhelm3_command
from .secrets import redact_text
from .text import one_line

if TYPE_CHECKING:  # the kubernetes client is imported only by the commands that talk to a cluster
    from .kube.readiness import Readiness

FIELD_MANAGER = "rayfleet"  # owner of the CRD fields rayfleet applies server-side

# --- the seams ---------------------------------------------------------------------------------

@dataclass
class DeployOutcome:
    """What ``helm upgrade --install`` did."""

    ok: bool
    message: str = ""
    revision: int | None = None
    status: str | None = None  # Helm's release status: deployed, failed, ...
    command: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Helm's stderr can quote values and kubeconfig tokens: redacted before anything shows it
        self.message = one_line(redact_text(self.message), 500)


class HelmDeployer(Protocol):
    def upgrade_install(self, plan: RegionPlan | OperatorPlan) -> DeployOutcome:
        """One release: the region's (``RegionPlan``) or its Anyscale operator's (``OperatorPlan``)."""
        ...


class ClusterGate(Protocol):
    def preflight(self, plan: RegionPlan) -> list[Finding]: ...

    def apply_crds(self, plan: RegionPlan) -> list[str]:
        """Apply the pinned operator's CRDs server-side; the names applied (empty: none to apply)."""
        ...

    def wait_ready(self, plan: RegionPlan, timeout: float,
                   on_update: Callable[[Readiness], None] | None = None) -> Readiness: ...


class RolloutObserver:
    """Progress callbacks; the default does nothing."""

    def wave_started(self, wave: int, plans: Sequence[RegionPlan]) -> None:
        pass

    def step(self, region: str, step: str, state: str, detail: str = "") -> None:
        """``state``: started, passed, failed, skipped, waiting."""

    def region_finished(self, outcome: RegionOutcome) -> None:
        pass


class PyHelm3Deployer:
    """``helm upgrade --install`` with the user's ``helm`` binary, through pyhelm3.

    The ``-f`` files go to Helm as they are, so the values merge is Helm's own (pyhelm3's own
    values argument concatenates lists, which ``helm -f`` does not).
    """

    def __init__(self, executable: str = "helm", *, kubeconfig: str | None = None) -> None:
        resolved, Command = pyhelm3_command(executable)
        self.executable = resolved
        self.kubeconfig = kubeconfig
        self._command_type = Command
        try:
            self.version = Command(executable=resolved).client_version()
        except Exception as exc:  # a binary that is not Helm, or cannot run
            raise EngineError(f"{resolved}: cannot read the Helm version: {one_line(exc)}") from None
        self.helm4 = self.version.major >= 4

    def upgrade_install(self, plan: RegionPlan | OperatorPlan) -> DeployOutcome:
        from pyhelm3.errors import Error as HelmCliError

        command = self._command_type(executable=self.executable, kubecontext=plan.kube_context,
                                     kubeconfig=Path(self.kubeconfig) if self.kubeconfig else None)
        shown = plan.command(helm=self.executable, helm4=self.helm4)
        try:
            output = asyncio.run(command.run([*plan.helm_args(helm4=self.helm4), "--output", "json"]))
        except HelmCliError as exc:
            return DeployOutcome(False, exc.stderr.decode("utf-8", "replace"), command=shown)
        try:
            data = json.loads(output[output.index(b"{"):])
        except ValueError:
            return DeployOutcome(True, "helm succeeded (its output was not JSON)", command=shown)
        info = data.get("info") or {}
        return DeployOutcome(True, one_line(info.get("description") or ""), revision=data.get("version"),
                             status=info.get("status"), command=shown)


# --- outcomes ----------------------------------------------------------------------------------

class RegionStatus(StrEnum):
    SUCCEEDED = "succeeded"  # deployed and ready
    FAILED = "failed"  # a step failed: see the steps
    NOT_STARTED = "not-started"  # the rollout stopped before this region
    CHECKED = "checked"  # dry run: preflight passed
    PLANNED = "planned"  # dry run without preflight: nothing was read from the cluster
    BLOCKED = "blocked"  # dry run: preflight failed


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepOutcome:
    name: str  # preflight | crds | deploy | anyscale | readiness
    status: StepStatus
    seconds: float = 0.0
    message: str = ""


@dataclass
class RegionOutcome:
    plan: RegionPlan
    status: RegionStatus = RegionStatus.NOT_STARTED
    steps: list[StepOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    deploy: DeployOutcome | None = None
    anyscale: DeployOutcome | None = None  # the Anyscale operator's helm step
    readiness: Readiness | None = None
    message: str = ""

    @property
    def name(self) -> str:
        return self.plan.name

    def step(self, name: str) -> StepOutcome | None:
        return next((s for s in self.steps if s.name == name), None)


@dataclass
class RolloutReport:
    """What the rollout did where; ``to_dict`` is the JSON report (``docs/rollout.md``)."""

    fleet: str
    dry_run: bool
    regions: list[RegionOutcome]
    status: str = "succeeded"  # succeeded | failed | refused | error | checked | blocked | planned
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None
    error: str | None = None  # a cluster that could not be read (exit 2)
    validation: dict[str, int] = field(default_factory=dict)
    helm: str = "helm"
    helm4: bool = False

    @property
    def stopped_at(self) -> RegionOutcome | None:
        return next((r for r in self.regions if r.status in (RegionStatus.FAILED,)), None)

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "checked", "planned")


# --- the rollout -------------------------------------------------------------------------------

def _blocking(findings: Sequence[Finding], fail_on: Severity) -> list[Finding]:
    return [f for f in findings if f.counts and f.severity.at_least(fail_on)]


def _unreadable(outcome: RegionOutcome, observer: RolloutObserver, step: str, start: float, exc: LiveCheckError,
                status: RegionStatus | None = None) -> None:
    """Record a step the cluster could not answer (the caller re-raises)."""
    outcome.steps.append(StepOutcome(step, StepStatus.FAILED, time.perf_counter() - start, exc.cause))
    outcome.status = status or RegionStatus.FAILED
    outcome.message = str(exc)
    observer.step(outcome.name, step, "failed", exc.cause)


def run_region(outcome: RegionOutcome, *, deployer: HelmDeployer | None, gate: ClusterGate | None, dry_run: bool,
               observer: RolloutObserver, fail_on: Severity = Severity.ERROR, preflight: bool = True) -> RegionOutcome:
    """Preflight, deploy, wait (dry run: preflight only, or nothing without ``preflight``),
    recorded in ``outcome``.

    ``LiveCheckError`` (a cluster that cannot be read) propagates after it is recorded.
    """
    plan = outcome.plan
    name = plan.name

    if dry_run and not preflight:  # offline: no kube context is read
        outcome.steps.append(StepOutcome("preflight", StepStatus.SKIPPED, 0.0, "offline dry run (add --preflight)"))
        observer.step(name, "preflight", "skipped", "offline dry run (add --preflight)")
        outcome.status = RegionStatus.PLANNED
        return outcome
    assert gate is not None

    observer.step(name, "preflight", "started")
    start = time.perf_counter()
    try:
        outcome.findings = gate.preflight(plan)
    except LiveCheckError as exc:
        _unreadable(outcome, observer, "preflight", start, exc, RegionStatus.BLOCKED if dry_run else None)
        raise
    blocking = _blocking(outcome.findings, fail_on)
    seconds = time.perf_counter() - start
    if blocking:
        detail = f"{len(blocking)} blocking finding(s): {blocking[0].message}"
        outcome.steps.append(StepOutcome("preflight", StepStatus.FAILED, seconds, detail))
        outcome.status = RegionStatus.BLOCKED if dry_run else RegionStatus.FAILED
        outcome.message = f"preflight failed: {detail}"
        observer.step(name, "preflight", "failed", detail)
        return outcome
    warnings = sum(1 for f in outcome.findings if f.counts and f.severity is Severity.WARNING)
    outcome.steps.append(StepOutcome("preflight", StepStatus.PASSED, seconds,
                                     f"{warnings} warning(s)" if warnings else ""))
    observer.step(name, "preflight", "passed", f"{warnings} warning(s)" if warnings else "")
    if dry_run:
        outcome.status = RegionStatus.CHECKED
        return outcome

    if plan.apply_crds:
        observer.step(name, "crds", "started", "server-side apply, field manager " + FIELD_MANAGER)
        start = time.perf_counter()
        try:
            applied = gate.apply_crds(plan)
        except LiveCheckError as exc:
            _unreadable(outcome, observer, "crds", start, exc)
            raise
        status = StepStatus.PASSED if applied else StepStatus.SKIPPED
        detail = (f"applied server-side: {', '.join(applied)}" if applied
                  else "the chart has no KubeRay CRDs (run helm dependency build)")
        outcome.steps.append(StepOutcome("crds", status, time.perf_counter() - start, detail))
        observer.step(name, "crds", status.value, detail)

    observer.step(name, "deploy", "started", " ".join(plan.command()))
    start = time.perf_counter()
    assert deployer is not None
    outcome.deploy = deployer.upgrade_install(plan)
    seconds = time.perf_counter() - start
    if not outcome.deploy.ok:
        outcome.steps.append(StepOutcome("deploy", StepStatus.FAILED, seconds, outcome.deploy.message))
        outcome.status = RegionStatus.FAILED
        outcome.message = f"helm upgrade --install failed: {outcome.deploy.message}"
        observer.step(name, "deploy", "failed", outcome.deploy.message)
        return outcome
    detail = f"revision {outcome.deploy.revision}" if outcome.deploy.revision is not None else "deployed"
    outcome.steps.append(StepOutcome("deploy", StepStatus.PASSED, seconds, detail))
    observer.step(name, "deploy", "passed", detail)

    if plan.anyscale is not None and not _deploy_operator(outcome, plan.anyscale, deployer, observer):
        return outcome

    if plan.raycluster is None:
        outcome.steps.append(StepOutcome("readiness", StepStatus.SKIPPED, 0.0, "the release has no RayCluster"))
        observer.step(name, "readiness", "skipped", "the release has no RayCluster")
        outcome.status = RegionStatus.SUCCEEDED
        return outcome
    observer.step(name, "readiness", "started", f"RayCluster {plan.namespace}/{plan.raycluster}")
    start = time.perf_counter()

    def update(r: Readiness) -> None:
        observer.step(name, "readiness", "waiting", r.reason or (r.state or ""))

    try:
        outcome.readiness = gate.wait_ready(plan, plan.timeout, update)
    except LiveCheckError as exc:
        _unreadable(outcome, observer, "readiness", start, exc)
        raise
    seconds = time.perf_counter() - start
    if not outcome.readiness.ready:
        outcome.steps.append(StepOutcome("readiness", StepStatus.FAILED, seconds, outcome.readiness.reason))
        outcome.status = RegionStatus.FAILED
        outcome.message = f"RayCluster {plan.raycluster} {outcome.readiness.reason}"
        observer.step(name, "readiness", "failed", outcome.readiness.reason)
        return outcome
    outcome.steps.append(StepOutcome("readiness", StepStatus.PASSED, seconds, "ready"))
    observer.step(name, "readiness", "passed", "ready")
    outcome.status = RegionStatus.SUCCEEDED
    return outcome


def _deploy_operator(outcome: RegionOutcome, operator: OperatorPlan, deployer: HelmDeployer,
                     observer: RolloutObserver) -> bool:
    """The Anyscale operator's release, after the region's: the namespace and the chart's admission
    policies are in place, and Flux's ``dependsOn`` orders it the same way. False when it failed."""
    name = outcome.name
    observer.step(name, "anyscale", "started", " ".join(operator.command()))
    start = time.perf_counter()
    outcome.anyscale = deployer.upgrade_install(operator)
    seconds = time.perf_counter() - start
    if not outcome.anyscale.ok:
        outcome.steps.append(StepOutcome("anyscale", StepStatus.FAILED, seconds, outcome.anyscale.message))
        outcome.status = RegionStatus.FAILED
        outcome.message = f"helm upgrade --install {operator.release} (Anyscale operator) failed: " \
                          f"{outcome.anyscale.message}"
        observer.step(name, "anyscale", "failed", outcome.anyscale.message)
        return False
    detail = f"revision {outcome.anyscale.revision}" if outcome.anyscale.revision is not None else "deployed"
    outcome.steps.append(StepOutcome("anyscale", StepStatus.PASSED, seconds, detail))
    observer.step(name, "anyscale", "passed", detail)
    return True


def execute_rollout(plans: Sequence[RegionPlan], *, gate: ClusterGate | None, deployer: HelmDeployer | None,
                    dry_run: bool = False, observer: RolloutObserver | None = None, fleet_path: str = "",
                    fail_on: Severity = Severity.ERROR, helm: str = "helm", helm4: bool = False,
                    preflight: bool = True) -> RolloutReport:
    """The wave loop. A live rollout stops at the first failed region; a dry run checks them all
    (or, without ``preflight``, only lists them: no gate is needed then)."""
    observer = observer or RolloutObserver()
    outcomes = {p.name: RegionOutcome(p) for p in plans}
    report = RolloutReport(fleet_path, dry_run, [outcomes[p.name] for p in plans], helm=helm, helm4=helm4)
    stopped = False
    for wave, wave_plans in waves(plans):
        if stopped:
            break
        observer.wave_started(wave, wave_plans)
        for plan in wave_plans:
            outcome = outcomes[plan.name]
            try:
                run_region(outcome, deployer=deployer, gate=gate, dry_run=dry_run, observer=observer,
                           fail_on=fail_on, preflight=preflight)
            except LiveCheckError as exc:
                report.error = report.error or str(exc)
            observer.region_finished(outcome)
            if outcome.status is RegionStatus.FAILED:
                stopped = True
                break
    statuses = {o.status for o in report.regions}
    if report.error:
        report.status = "error"
    elif dry_run and not preflight:
        report.status = "planned"
    elif dry_run:
        report.status = "blocked" if RegionStatus.BLOCKED in statuses else "checked"
    else:
        report.status = "failed" if RegionStatus.FAILED in statuses else "succeeded"
    report.finished = datetime.now(UTC)
    return report


__all__ = ["DEFAULT_TIMEOUT", "ClusterGate", "DeployOutcome", "HelmDeployer", "OperatorPlan", "PyHelm3Deployer",
           "RegionOutcome", "RegionPlan", "RegionStatus", "RolloutObserver", "RolloutReport", "StepOutcome",
           "StepStatus", "execute_rollout", "plan_region", "run_region", "waves"]
