"""What a policy is: metadata, the input it takes, and one check over that input."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from ..findings import Severity, Violation
from ..subjects import FleetView, ReleaseObjects


class Scope(StrEnum):
    RELEASE = "release"  # one region's objects (also what `scan` checks)
    FLEET = "fleet"  # all regions at once; needs the fleet file
    PIPELINE = "pipeline"  # raised by the pipeline itself: schemas, rendering, waivers
    LIVE = "live"  # raised by checks against a live Azure or Kubernetes API


S = TypeVar("S")

# The input a release or fleet policy takes unless it says otherwise; a live policy names its own.
_DEFAULT_SUBJECT: dict[Scope, type | None] = {Scope.RELEASE: ReleaseObjects, Scope.FLEET: FleetView,
                                              Scope.PIPELINE: None, Scope.LIVE: None}


class Reads(StrEnum):
    """A model a policy reads from its subject besides the objects themselves. A command that
    supplies one model runs the policies that read it (``runner.select(..., reads=...)``)."""

    CAPACITY = "capacity"  # capacity/: GPU demand by VM size against Azure quota, failover (rayfleet quota)
    CREDENTIAL_PLAN = "credential-plan"  # identity.plan_credentials: the fleet's federated credentials


@dataclass(frozen=True)
class Policy(Generic[S]):
    """A policy: readable ID (= module name with dashes), metadata, and one check.

    ``subject`` is the input type the check takes (``ReleaseObjects`` for release policies and
    ``FleetView`` for fleet policies by default); the runner gives each policy only subjects of
    that type. Pipeline policies have no check: the pipeline raises them itself.
    """

    id: str
    title: str
    severity: Severity
    scope: Scope
    rationale: str
    remediation: str
    references: tuple[str, ...] = ()
    check: Callable[[S], Iterable[Violation]] | None = None
    needs_fleet: bool = False  # a release policy that only makes sense with the fleet file
    subject: type[S] | None = field(default=None)
    reads: frozenset[Reads] = frozenset()  # the models it reads besides the subject's objects

    def __post_init__(self) -> None:
        if self.subject is None:
            object.__setattr__(self, "subject", _DEFAULT_SUBJECT[self.scope])
        if self.check is not None and self.subject is None:
            raise TypeError(f"policy {self.id}: a {self.scope} policy must name the subject type it checks")

    @property
    def module_name(self) -> str:
        return self.id.replace("-", "_")

    def applies_to(self, subject: Any) -> bool:
        """Whether this policy checks ``subject``: it has a check, the subject is of its declared
        input type, and (for ``needs_fleet`` policies) the subject has a fleet file."""
        if self.check is None or self.subject is None or not isinstance(subject, self.subject):
            return False
        return not (self.needs_fleet and getattr(subject, "fleet", None) is None)


__all__ = ["FleetView", "Policy", "Reads", "ReleaseObjects", "Scope"]
