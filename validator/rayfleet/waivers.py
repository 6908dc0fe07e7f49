"""Waivers from the fleet file: suppress matching findings, and report waivers that expired,
expire soon, or match nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta

from .errors import InputError
from .findings import Finding, SourceLocation, Suppression
from .fleet import Fleet, Waiver
from .policies import get_policy

EXPIRY_WARNING = timedelta(days=14)


def _matches(waiver: Waiver, finding: Finding) -> bool:
    scope = waiver.scope
    obj = finding.obj
    return (
        waiver.policy == finding.policy
        and (scope.region is None or scope.region == finding.region)
        and (scope.kind is None or (obj is not None and obj.kind == scope.kind))
        and (scope.namespace is None or (obj is not None and obj.namespace == scope.namespace))
        and (scope.name is None or (obj is not None and obj.name == scope.name))
    )


def apply_waivers(fleet: Fleet, findings: Sequence[Finding], *, today: date | None = None,
                  regions: Sequence[str] | None = None, checked: Collection[str] | None = None) -> list[Finding]:
    """Mark waived findings suppressed and add findings about the waivers themselves.

    An expired waiver suppresses nothing. ``regions`` and ``checked`` (policy IDs that ran) limit
    what is said about the waivers to what was checked, so ``--region``, a policy selection or a
    command that runs a few policies does not call other waivers stale.
    """
    today = today or date.today()
    out = list(findings)
    used: set[int] = set()
    for index, waiver in enumerate(fleet.waivers):
        if waiver.expires < today:
            continue
        suppression = Suppression(waiver.reason, waiver.owner, waiver.expires, index)
        for position, finding in enumerate(out):
            if finding.suppressed is None and _matches(waiver, finding):
                out[position] = finding.suppress(suppression)
                used.add(index)
    where = str(fleet.path)
    for index, waiver in enumerate(fleet.waivers):
        if checked is not None and waiver.policy not in checked and _known_policy(waiver.policy):
            continue  # a waiver of a policy this run did not check: nothing to say about it
        source = SourceLocation(where, waiver.line)
        label = f"waiver #{index + 1} ({waiver.policy}, owner {waiver.owner})"
        if waiver.expires < today:
            out.append(_finding("waiver-expired", f"{label} expired on {waiver.expires}", source))
        elif waiver.expires - today <= EXPIRY_WARNING:
            out.append(_finding("waiver-expiring", f"{label} expires on {waiver.expires}", source))
        if not _known_policy(waiver.policy):
            out.append(_finding("waiver-unmatched", f"{label} names an unknown policy (see `rayfleet policies`)",
                                source))
        elif waiver.expires >= today and index not in used and _in_scope(waiver, fleet, regions):
            out.append(_finding("waiver-unmatched", f"{label} matches no finding", source))
    return out


def _known_policy(policy_id: str) -> bool:
    try:
        get_policy(policy_id)
    except InputError:
        return False
    return True


def _in_scope(waiver: Waiver, fleet: Fleet, regions: Sequence[str] | None) -> bool:
    """Whether the run checked what the waiver covers (a region the fleet lacks always counts)."""
    region = waiver.scope.region
    return regions is None or region is None or region in regions or region not in {r.name for r in fleet.regions}


def _finding(policy_id: str, message: str, source: SourceLocation) -> Finding:
    policy = get_policy(policy_id)
    return Finding(policy.id, policy.severity, message, policy.remediation, source=source)


