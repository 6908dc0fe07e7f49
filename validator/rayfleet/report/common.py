"""Small helpers the reporters share."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding, Severity
from ..result import Result

FLEET_GROUP = "(fleet)"


def group_by_region(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Findings per region name, fleet-wide ones under ``(fleet)``, in a stable order."""
    groups: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        groups.setdefault(finding.region or FLEET_GROUP, []).append(finding)
    return groups


def summary(result: Result) -> dict[str, int]:
    counts = {s.value: result.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    counts["suppressed"] = sum(1 for f in result.findings if f.suppressed is not None)
    return counts


def where(finding: Finding) -> str:
    """``file:line`` of a finding, or its template, or nothing."""
    if finding.source is not None:
        return str(finding.source)
    return finding.template or ""
