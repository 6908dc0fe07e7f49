"""The one policy runner: pick the policies that take a subject, run them, turn what they yield
into findings, apply the fleet file's waivers, and build the ``Result``.

Every command (validate, scan, quota, identity check, preflight, rollout) runs its policies here:

    result = run("quota", policies, subjects, waivers=Waivers(fleet, regions=names))

A policy runs on a subject when the subject is of the input type the policy declares
(``Policy.subject``) -- never by ID prefix. Waivers are applied in one place (``finish``), the
same way for every command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from .findings import Finding, Violation
from .fleet import Fleet
from .policies import WAIVER_POLICIES, Policy, Reads, Scope
from .result import RegionSummary, Result
from .subjects import FindingContext, Subject
from .waivers import apply_waivers


def to_finding(policy: Policy, violation: Violation, context: FindingContext) -> Finding:
    """A finding from a violation: the source is the values file and line that set the offending
    value when it can be traced, else the manifest line or the template, else the subject's
    fallback (the fleet file)."""
    release, obj = context.release, context.obj
    source = violation.source
    if source is None and release is not None and release.values is not None and violation.value is not None:
        source = release.values.locate_value(violation.value, obj.template if obj is not None else None)
    if source is None and obj is not None:
        source = obj.origin
    if source is None:
        source = context.default_source
    return Finding(
        policy=policy.id,
        severity=violation.severity or policy.severity,
        message=violation.message,
        remediation=policy.remediation,
        region=violation.region or context.region,
        obj=violation.obj,
        path=violation.path,
        source=source,
        template=obj.template if obj is not None else None,
    )


def check(policies: Iterable[Policy], subject: Subject) -> list[Finding]:
    """Every policy that takes ``subject`` (by its declared input type), over it."""
    findings: list[Finding] = []
    for policy in policies:
        if not policy.applies_to(subject):
            continue
        assert policy.check is not None
        for violation in policy.check(subject):
            findings.append(to_finding(policy, violation, subject.finding_context(violation)))
    return findings


def check_all(policies: Sequence[Policy], subjects: Iterable[Subject]) -> list[Finding]:
    """``check`` over several subjects, subject by subject."""
    return [finding for subject in subjects for finding in check(policies, subject)]


def select(policies: Iterable[Policy], *, scopes: Iterable[Scope] | None = None,
           subject: type | None = None, reads: Reads | None = None) -> tuple[Policy, ...]:
    """The policies of the given scopes, declared input type and/or model read, in catalogue order."""
    wanted = set(scopes) if scopes is not None else None
    return tuple(p for p in policies if (wanted is None or p.scope in wanted)
                 and (subject is None or p.subject is subject) and (reads is None or reads in p.reads))


@dataclass(frozen=True)
class Waivers:
    """How a run applies the fleet file's waivers.

    ``regions``: the regions the run checked (a waiver of another region is not called stale).
    ``report``: whether the run reports on the waivers themselves (expired, expiring, matching
    nothing); the live cluster checks only apply them.
    """

    fleet: Fleet
    today: date | None = None
    regions: Sequence[str] | None = None
    report: bool = True


def finish(result: Result, waivers: Waivers | None) -> Result:
    """Apply waivers to ``result.findings`` (the one place that does) and keep only findings of
    the policies that ran, plus the waiver findings when the run reports on waivers."""
    if waivers is None:
        return result
    ran = {p.id for p in result.policies}
    findings = apply_waivers(waivers.fleet, result.findings, today=waivers.today, regions=waivers.regions,
                             checked=ran)
    keep = ran | (WAIVER_POLICIES if waivers.report else set())
    result.findings = [f for f in findings if f.policy in keep]
    return result


def run(command: str, policies: Sequence[Policy], subjects: Iterable[Subject], *,
        findings: Iterable[Finding] = (), waivers: Waivers | None = None,
        regions: Iterable[RegionSummary] = ()) -> Result:
    """Run ``policies`` over ``subjects`` and return the command's ``Result``: ``findings`` the
    command raised itself (rendering, schemas) first, then the policies' in subject order, with
    waivers applied."""
    result = Result(command=command, policies=tuple(policies), regions=list(regions))
    result.findings.extend(findings)
    result.findings.extend(check_all(result.policies, subjects))
    return finish(result, waivers)


__all__ = ["Waivers", "check", "check_all", "finish", "run", "select", "to_finding"]
