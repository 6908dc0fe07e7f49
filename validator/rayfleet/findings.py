"""Findings: what a policy says about one object (or one region, or the fleet)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from .secrets import redact_text


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Which Kubernetes object a finding is about."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


@dataclass(frozen=True)
class SourceLocation:
    """A place in a file the user owns: a values file, a template, a manifest, the fleet file."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not count: the waiver that matched it."""

    reason: str
    owner: str
    expires: date
    waiver_index: int


@dataclass(frozen=True)
class Violation:
    """What a policy's check yields; the pipeline turns it into a ``Finding``.

    ``value`` is the offending scalar, used to trace it back to the values file that set it.
    ``source`` is set by checks that already know the file and line (values-file scans).
    """

    message: str
    obj: ObjectRef | None = None
    path: str = ""
    value: object = None
    source: SourceLocation | None = None
    region: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Finding:
    policy: str
    severity: Severity
    message: str
    remediation: str
    region: str | None = None
    obj: ObjectRef | None = None
    path: str = ""
    source: SourceLocation | None = None
    template: str | None = None
    suppressed: Suppression | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Every report quotes the message: a credential a policy, a schema or Helm quoted (a key
        # where the schema wanted an account name) is cut down here, once, for all of them.
        object.__setattr__(self, "message", redact_text(self.message))

    def suppress(self, suppression: Suppression) -> Finding:
        return replace(self, suppressed=suppression)

    @property
    def counts(self) -> bool:
        """Whether the finding counts toward the exit code (it is not waived)."""
        return self.suppressed is None

    def sort_key(self) -> tuple:
        # Region by region, fleet-wide findings last; the worst first within a region.
        return (self.region is None, self.region or "", -self.severity.rank, self.policy,
                str(self.obj) if self.obj else "", self.path, self.message)
