"""The outcome of a run: findings, what was checked, how long each stage took, and the typed
sections some commands add (the capacity table, the identity plan, the rollout). Reporters in
``rayfleet.report`` are the only ones that serialise it."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from ._version import __version__
from .capacity.table import CapacityTable
from .delivery.run import UpdateRunReport
from .findings import Finding, Severity
from .identity import IdentityPlan
from .identity_rbac import PlannedRoleAssignment
from .policies import Policy
from .rollout import RolloutReport
from .subjects import AksSettings, ReleaseObjects


@dataclass
class RegionSummary:
    """What was checked in one region (or one scan, with ``name`` None)."""

    name: str | None
    objects: int = 0
    rendered: bool = True
    helm_command: str | None = None


@dataclass
class Timings:
    """Seconds spent per pipeline stage, summed over regions (``--profile``)."""

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start

    @property
    def total(self) -> float:
        return sum(self.stages.values())


@dataclass
class Result:
    """What ``validate_fleet``, ``scan_manifests`` and the live checks return."""

    command: str
    findings: list[Finding] = field(default_factory=list)
    regions: list[RegionSummary] = field(default_factory=list)
    policies: tuple[Policy, ...] = ()  # the policies that ran
    skipped_policies: tuple[str, ...] = ()  # IDs skipped (e.g. fleet policies in scan), with why below
    skip_reason: str = "needs the fleet file"  # why they were skipped, in one phrase
    notes: list[str] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    tool_version: str = __version__
    # Typed sections, each set by the commands that produce it (JSON report: ``data.<name>``).
    capacity: CapacityTable | None = None  # validate, quota
    clusters: Mapping[str, AksSettings] | None = None  # identity check --live: what ARM said per region
    storage_accounts: Mapping[str, Mapping[str, object]] | None = None  # identity check --live: by resource ID
    identity_plan: IdentityPlan | None = None  # identity check: the selected regions' credentials
    role_assignments: tuple[PlannedRoleAssignment, ...] | None = None  # identity check: the manager's roles
    rollout: RolloutReport | None = None  # rollout
    update_run: UpdateRunReport | None = None  # rollout --engine fleet-manager (JSON: data.rollout too)
    # What was rendered, by region (not reported; lets a rollout reuse validate's renders).
    releases: Mapping[str, ReleaseObjects] = field(default_factory=dict)
    # scan: the paths it read, and the name stdin was given (where SARIF points findings without a file).
    inputs: tuple[str, ...] = ()
    stdin_name: str | None = None

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def counting(self) -> list[Finding]:
        """Findings that are not waived."""
        return [f for f in self.findings if f.counts]

    def count(self, severity: Severity, *, suppressed: bool = False) -> int:
        return sum(1 for f in self.findings if f.severity is severity and (f.suppressed is not None) == suppressed)

    def failed(self, fail_on: Severity) -> bool:
        """Whether any unwaived finding is at or above ``fail_on``."""
        return any(f.severity.at_least(fail_on) for f in self.counting())

    def exit_code(self, fail_on: Severity) -> int:
        return 1 if self.failed(fail_on) else 0
