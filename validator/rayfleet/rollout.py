"""Rolling a fleet out, wave by wave: validate, then per region preflight, the pinned operator's
CRDs applied server-side, ``helm upgrade --install`` and a readiness gate on the RayCluster.

Waves run in ascending ``region.wave``; regions inside a wave run one after another in fleet
order. The first region that fails stops the rollout: nothing after it is touched. Three seams
keep the wave logic testable without a cluster or a ``helm`` binary:

- ``HelmDeployer``: ``upgrade_install(plan) -> DeployOutcome``; ``PyHelm3Deployer`` drives the
  user's ``helm`` through pyhelm3 with the same ``-f`` files ``rayfleet plan`` prints.
- ``ClusterGate``: preflight, the CRD apply and the readiness wait; ``LiveClusterGate`` uses the
  kube context.
- ``RolloutObserver``: progress callbacks (the CLI draws them; the library never prints).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ._version import __version__
from .errors import EngineError, LiveCheckError
from .findings import Finding, Severity
from .helm_args import DEFAULT_TIMEOUT, kube_flags, upgrade_args
from .render import pyhelm3_command
from .result import RegionSummary, Result
from .secrets import redact_text
from .text import one_line

if TYPE_CHECKING:
    from .fleet import Fleet, Region
    from .kube.readiness import Readiness
    from .policies.base import Release

REPORT_SCHEMA = "rayfleet-rollout/v1"
FIELD_MANAGER = "rayfleet"  # owner of the CRD fields rayfleet applies server-side


# --- the plan ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegionPlan:
    """What the rollout does in one region: one ``helm upgrade --install``, then a readiness gate."""

    region: Region
    chart: str
    values_files: tuple[str, ...]
    timeout: int = DEFAULT_TIMEOUT
    atomic: bool = True
    create_namespace: bool = True
    raycluster: str | None = None  # the RayCluster the release renders (None: no readiness gate)
    kubeconfig: str | None = None
    apply_crds: bool = False  # the release installs the operator: its CRDs go in server-side first

    @property
    def name(self) -> str:
        return self.region.name

    @property
    def wave(self) -> int:
        return self.region.wave

    @property
    def release(self) -> str:
        return self.region.release_name

    @property
    def namespace(self) -> str:
        return self.region.namespace

    @property
    def kube_context(self) -> str | None:
        return self.region.cluster.kube_context

    def helm_args(self, *, helm4: bool = False) -> list[str]:
        """``helm`` arguments without the binary and the kube flags (pyhelm3 appends those)."""
        return upgrade_args(self.release, self.chart, self.namespace, self.values_files,
                            create_namespace=self.create_namespace, atomic=self.atomic, timeout=self.timeout,
                            helm4=helm4)

    def command(self, *, helm: str = "helm", helm4: bool = False) -> list[str]:
        """The command a person would run for this region (what ``--dry-run`` and ``plan`` print)."""
        return [helm, *self.helm_args(helm4=helm4), *kube_flags(self.kube_context, self.kubeconfig)]


def plan_region(fleet: Fleet, region: Region, release: Release | None = None, *, timeout: int = DEFAULT_TIMEOUT,
                atomic: bool = True, create_namespace: bool = True, kubeconfig: str | None = None) -> RegionPlan:
    """A region's plan: the chart and ``-f`` files in ``plan``'s order (shared, region, overrides)."""
    from .kube.preflight import operator_enabled

    raycluster = None
    if release is not None:
        raycluster = next((o.name for o in release.objects if o.kind == "RayCluster" and o.group == "ray.io"), None)
    return RegionPlan(
        region=region,
        chart=fleet.relative(fleet.chart),
        values_files=tuple(fleet.relative(p) for p in fleet.values_stack_paths(region)),
        timeout=timeout, atomic=atomic, create_namespace=create_namespace, raycluster=raycluster,
        kubeconfig=kubeconfig, apply_crds=operator_enabled(release, fleet),
    )


def waves(plans: Sequence[RegionPlan]) -> list[tuple[int, list[RegionPlan]]]:
    """Plans grouped by wave, ascending; fleet order inside a wave."""
    grouped: dict[int, list[RegionPlan]] = {}
    for plan in plans:
        grouped.setdefault(plan.wave, []).append(plan)
    return sorted(grouped.items())


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
    def upgrade_install(self, plan: RegionPlan) -> DeployOutcome: ...


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

    def upgrade_install(self, plan: RegionPlan) -> DeployOutcome:
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


class LiveClusterGate:
    """Preflight and readiness against each region's kube context (``rayfleet.kube``)."""

    def __init__(self, fleet: Fleet, releases: dict[str, Release], *, kubeconfig: str | None = None,
                 create_namespace: bool = True) -> None:
        self.fleet = fleet
        self.releases = releases
        self.kubeconfig = kubeconfig
        self.create_namespace = create_namespace
        self._crds: list[dict[str, Any]] | None = None

    def preflight(self, plan: RegionPlan) -> list[Finding]:
        from .kube.preflight import preflight_region
        from .waivers import apply_waivers

        findings = preflight_region(plan.region, fleet=self.fleet, release=self.releases.get(plan.name),
                                    kubeconfig=self.kubeconfig, create_namespace=plan.create_namespace,
                                    crds=self.crds())
        return [f for f in apply_waivers(self.fleet, findings, regions=[plan.name])
                if not f.policy.startswith("waiver-")]

    def crds(self) -> list[dict[str, Any]]:
        """The KubeRay CRDs of the operator the chart pins (read once)."""
        if self._crds is None:
            from .kube.preflight import chart_crds

            self._crds = [c for c in chart_crds(self.fleet) if (c.get("spec") or {}).get("group") == "ray.io"]
        return self._crds

    def apply_crds(self, plan: RegionPlan) -> list[str]:
        """Helm installs crds/ once and never upgrades them; the KubeRay CRDs are too big for
        client-side apply. So each is applied server-side, conflicts forced (Helm's first install
        owned the fields), before the Helm step."""
        from .kube.client import KubeApi

        with KubeApi.connect(plan.region, self.kubeconfig) as api:
            return [str(api.apply_crd(crd, FIELD_MANAGER).get("metadata", {}).get("name")) for crd in self.crds()]

    def wait_ready(self, plan: RegionPlan, timeout: float,
                   on_update: Callable[[Readiness], None] | None = None) -> Readiness:
        from .kube.client import KubeApi
        from .kube.readiness import wait_for_raycluster

        assert plan.raycluster is not None
        with KubeApi.connect(plan.region, self.kubeconfig) as api:
            return wait_for_raycluster(api, plan.namespace, plan.raycluster, timeout=timeout, on_update=on_update)


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
    name: str  # preflight | crds | deploy | readiness
    status: StepStatus
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "durationSeconds": round(self.seconds, 3),
                "message": self.message}


@dataclass
class RegionOutcome:
    plan: RegionPlan
    status: RegionStatus = RegionStatus.NOT_STARTED
    steps: list[StepOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    deploy: DeployOutcome | None = None
    readiness: Readiness | None = None
    message: str = ""

    @property
    def name(self) -> str:
        return self.plan.name

    def step(self, name: str) -> StepOutcome | None:
        return next((s for s in self.steps if s.name == name), None)

    def to_dict(self, command: list[str]) -> dict[str, Any]:
        plan = self.plan
        return {
            "name": plan.name, "wave": plan.wave, "status": self.status.value, "message": self.message,
            "kubeContext": plan.kube_context, "release": plan.release, "namespace": plan.namespace,
            "command": command,
            "steps": [s.to_dict() for s in self.steps],
            "revision": self.deploy.revision if self.deploy else None,
            "helmStatus": self.deploy.status if self.deploy else None,
            "rayCluster": self.readiness.to_dict() if self.readiness else (
                {"name": plan.raycluster} if plan.raycluster else None),
            "findings": [_finding_dict(f) for f in self.findings],
        }


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"policy": f.policy, "severity": f.severity.value, "message": f.message, "region": f.region,
            "object": str(f.obj) if f.obj else None, "path": f.path or None, "waived": not f.counts}


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

    def to_dict(self) -> dict[str, Any]:
        finished = self.finished or datetime.now(UTC)
        stopped = self.stopped_at
        wave_rows = []
        for wave, plans in waves([r.plan for r in self.regions]):
            outcomes = [r for r in self.regions if r.plan.wave == wave]
            statuses = {o.status for o in outcomes}
            if statuses <= {RegionStatus.PLANNED}:
                state = "planned"
            elif statuses <= {RegionStatus.SUCCEEDED} or statuses <= {RegionStatus.CHECKED}:
                state = "succeeded" if RegionStatus.SUCCEEDED in statuses else "checked"
            elif statuses & {RegionStatus.FAILED, RegionStatus.BLOCKED}:
                state = "failed"
            elif statuses == {RegionStatus.NOT_STARTED}:
                state = "not-started"
            else:
                state = "partial"
            wave_rows.append({"wave": wave, "status": state, "regions": [p.name for p in plans]})
        return {
            "schema": REPORT_SCHEMA,
            "tool": {"name": "rayfleet", "version": __version__},
            "fleet": self.fleet,
            "dryRun": self.dry_run,
            "status": self.status,
            "error": self.error,
            "startedAt": self.started.isoformat(timespec="seconds"),
            "finishedAt": finished.isoformat(timespec="seconds"),
            "durationSeconds": round((finished - self.started).total_seconds(), 3),
            "validation": dict(self.validation),
            "stoppedAt": {"wave": stopped.plan.wave, "region": stopped.name,
                          "step": next((s.name for s in stopped.steps if s.status is StepStatus.FAILED), None)}
            if stopped else None,
            "waves": wave_rows,
            "regions": [r.to_dict(r.deploy.command if r.deploy and r.deploy.command
                                  else r.plan.command(helm=self.helm, helm4=self.helm4)) for r in self.regions],
        }


def rollout_json(report: RolloutReport) -> str:
    """The JSON report for CI (shape: ``docs/rollout.md``)."""
    return json.dumps(report.to_dict(), indent=2) + "\n"


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


def rollout_fleet(fleet: Fleet, *, regions: Sequence[str] | None = None, dry_run: bool = False,
                  timeout: int = DEFAULT_TIMEOUT, deployer: HelmDeployer | None = None,
                  gate: ClusterGate | None = None, observer: RolloutObserver | None = None,
                  kubeconfig: str | None = None, create_namespace: bool = True,
                  releases: dict[str, Release] | None = None,
                  validate: Callable[..., Result] | None = None, preflight: bool = True) -> Result:
    """``rayfleet rollout``: validate (refuse on errors), then the waves.

    A dry run with ``preflight=False`` reads no cluster: it validates and lists the waves and
    commands only. A live rollout always runs the preflight.

    Returns a ``Result`` whose findings are the validation's and every preflight's;
    ``extra["rollout_report"]`` is the ``RolloutReport`` and ``extra["rollout"]`` its JSON form
    (which the JSON reporter writes as ``data.rollout``). A live rollout needs a ``deployer``.
    """
    from .pipeline import format_command, render_fleet, validate_fleet

    selected = fleet.select(list(regions) if regions else None)
    names = [r.name for r in selected]
    validation = (validate or validate_fleet)(fleet, regions=names)
    renders = validation.extra.get("renders")
    result = Result(command="rollout", findings=list(validation.findings), policies=validation.policies,
                    notes=list(validation.notes))
    # What validate counted (objects per region), so the two commands show the same numbers.
    counted = {r.name: r for r in validation.regions}
    result.regions = [replace(counted[r.name]) if r.name in counted else RegionSummary(r.name) for r in selected]
    helm = getattr(deployer, "executable", "helm")
    helm4 = bool(getattr(deployer, "helm4", False))
    if releases is None:
        renders = renders if isinstance(renders, dict) else render_fleet(fleet, names)
        releases = {name: render.release for name, render in renders.items()}
    plans = [plan_region(fleet, r, releases.get(r.name), timeout=timeout, create_namespace=create_namespace,
                         kubeconfig=kubeconfig) for r in selected]
    for summary, plan in zip(result.regions, plans, strict=True):
        summary.helm_command = format_command(plan.command(helm=helm, helm4=helm4))
    if validation.failed(Severity.ERROR):
        report = RolloutReport(str(fleet.path), dry_run, [RegionOutcome(p) for p in plans], status="refused",
                               helm=helm, helm4=helm4)
        report.finished = report.started
    else:
        if not dry_run and deployer is None:
            raise EngineError("a rollout needs a Helm deployer (a helm binary)")
        offline = dry_run and not preflight
        if gate is None and not offline:
            gate = LiveClusterGate(fleet, releases, kubeconfig=kubeconfig, create_namespace=create_namespace)
        report = execute_rollout(plans, gate=gate, deployer=deployer, dry_run=dry_run, observer=observer,
                                 fleet_path=str(fleet.path), helm=helm, helm4=helm4, preflight=not offline)
        for outcome in report.regions:
            result.findings.extend(outcome.findings)
    report.validation = {s.value: validation.count(s) for s in Severity}
    result.extra["rollout"] = report.to_dict()  # in the JSON report as data.rollout
    result.extra["rollout_report"] = report
    return result
