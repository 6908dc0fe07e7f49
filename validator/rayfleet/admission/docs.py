"""What the catalogue says about admission: which policies have a CEL twin, at what cost and
with what difference, and why the others have none (``rayfleet policies``; ``rayfleet.report.policy_docs``
writes the docs/policies.md section)."""

from __future__ import annotations

from collections.abc import Iterable

from ..policies import Policy, Scope
from .twins import NOT_EXPORTED, twins_of


def admission_column(policy: Policy) -> str:
    """``yes`` / ``partly`` (a named, weaker twin) / ``no``."""
    twins = twins_of(policy.id)
    if not twins:
        return "no"
    return "partly" if any(t.weaker for t in twins) else "yes"


def not_exported(policies: Iterable[Policy]) -> list[tuple[str, str]]:
    """(policy ID, reason) for each release policy without a twin."""
    return [(p.id, NOT_EXPORTED.get(p.id, "not exported")) for p in policies
            if p.scope is Scope.RELEASE and not twins_of(p.id)]


__all__ = ["admission_column", "not_exported"]
