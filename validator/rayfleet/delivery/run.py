"""A Fleet Manager staged update run as rayfleet follows it: the stages, the checks rayfleet ran
before approving each, and how it ended (``rayfleet.commands.fleet_manager`` drives it;
``rayfleet.report.update_run`` writes it as JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..findings import Finding
from ..fleet import Fleet, Region
from .fleet_manager import stages, update_run
from .settings import Delivery


@dataclass
class RegionCheck:
    region: str
    ok: bool
    message: str = ""
    findings: list[Finding] = field(default_factory=list)


class StageGate(Protocol):
    def check(self, region: Region) -> RegionCheck: ...


@dataclass
class StageReport:
    name: str
    wave: int
    regions: list[str]
    status: str = "not-started"  # not-started | updating | checking | approved | succeeded | failed
    message: str = ""
    approval: str | None = None
    checks: list[RegionCheck] = field(default_factory=list)


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
