"""Running policies: turn what a check yields into findings with region, source and remedy."""

from __future__ import annotations

from collections.abc import Iterable

from .findings import Finding, SourceLocation, Violation
from .manifests import KubeObject
from .policies.base import FleetView, Policy, Release, Scope


def run_release_policies(release: Release, policies: Iterable[Policy]) -> list[Finding]:
    """Every release policy over one release. Policies that need the fleet file are skipped
    when there is none (``scan``)."""
    findings: list[Finding] = []
    for policy in policies:
        if policy.scope is not Scope.RELEASE or policy.check is None:
            continue
        if policy.needs_fleet and release.fleet is None:
            continue
        for violation in policy.check(release):
            findings.append(to_finding(policy, violation, release, _object_of(release, violation)))
    return findings


def run_fleet_policies(view: FleetView, policies: Iterable[Policy]) -> list[Finding]:
    findings: list[Finding] = []
    for policy in policies:
        if policy.scope is not Scope.FLEET or policy.check is None:
            continue
        for violation in policy.check(view):
            release = view.releases.get(violation.region or "")
            obj = _object_of(release, violation) if release is not None else None
            findings.append(to_finding(policy, violation, release, obj,
                                       default_source=SourceLocation(str(view.fleet.path))))
    return findings


def _object_of(release: Release, violation: Violation) -> KubeObject | None:
    """The object a violation is about. Policies pass ``obj.ref``, one instance per object, so the
    identity finds the right object even when two files hold objects of the same name."""
    if violation.obj is None:
        return None
    by_identity = release.object_index()
    found = by_identity.get(id(violation.obj))
    if found is not None:
        return found
    return next((o for o in release.objects if o.ref == violation.obj), None)


def to_finding(policy: Policy, violation: Violation, release: Release | None, obj: KubeObject | None,
               *, default_source: SourceLocation | None = None) -> Finding:
    """A finding from a violation: the source is the values file and line that set the offending
    value when it can be traced, else the manifest line or the template."""
    source = violation.source
    if source is None and release is not None and release.values is not None and violation.value is not None:
        source = release.values.locate_value(violation.value, obj.template if obj is not None else None)
    if source is None and obj is not None:
        source = obj.origin
    if source is None:
        source = default_source
    region = violation.region or (release.region_name if release is not None else None)
    return Finding(
        policy=policy.id,
        severity=violation.severity or policy.severity,
        message=violation.message,
        remediation=policy.remediation,
        region=region,
        obj=violation.obj,
        path=violation.path,
        source=source,
        template=obj.template if obj is not None else None,
    )
