"""What the catalogue says about admission: which policies have a CEL twin, at what cost and
with what difference, and why the others have none (for ``rayfleet policies`` and docs/policies.md)."""

from __future__ import annotations

from collections.abc import Iterable

from ..policies import Policy, Scope
from ..text import one_line
from .build import twin_severity
from .twins import BY_SCOPE, NOT_EXPORTED, TWINS, twins_of


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


def admission_markdown(policies: Iterable[Policy]) -> list[str]:
    chosen = list(policies)
    out = [
        "",
        "## Admission",
        "",
        "`rayfleet policies export --format admission` writes each release policy that CEL can express as a",
        "ValidatingAdmissionPolicy and binding (`admissionregistration.k8s.io/v1`); the chart ships the same",
        "objects as its `admissionPolicies` component, and `rayfleet admit` evaluates them offline. Error",
        "policies deny (`validationActions: [Deny]`), warnings warn and audit (`[Warn, Audit]`). Only core CEL",
        "is used (has, all, exists, filter, map, size, matches, startsWith, contains), no Kubernetes CEL",
        "extension library. Pods with an owner are left to their template (it was judged at the",
        "workload); blob StorageClasses and static blob PersistentVolumes are cluster-scoped, so their",
        "policies apply cluster-wide. `tests/admission` proves every twin gives the Python check's verdict,",
        "object by object, on the policy's pass and fail fixtures.",
        "",
        "Estimated cost is the worst case of the expressions, in elements visited: T pod templates, C",
        "containers per list, E env entries, V volumes, K parameters, O mount options, G worker groups.",
        "Walks nest at most three deep (templates, containers, one list per container), and the",
        "estimates for realistic objects stay orders of magnitude below the API server's runtime limit of",
        "10^6 cost units per expression. These are rayfleet's estimates, not the API server's own.",
        "",
        "| Policy | Object | Severity | Estimated cost | Difference from the Python check |",
        "|---|---|---|---|---|",
    ]
    for twin in TWINS:
        severity = twin_severity(twin, set(twin.settings)).value
        if twin.warn_without:
            severity += f" (warning without {twin.warn_without})"
        out.append(f"| [`{twin.policy}`](#{twin.policy}) | `{twin.name}` | {severity} | {twin.cost} | "
                   f"{one_line(twin.weaker) or 'none'} |")
    out += ["", "### Not enforced at admission", "", "| Policy | Why |", "|---|---|"]
    out += [f"| [`{pid}`](#{pid}) | {reason} |" for pid, reason in not_exported(chosen)]
    for scope in (Scope.FLEET, Scope.LIVE, Scope.PIPELINE):
        ids = [p.id for p in chosen if p.scope is scope]
        if ids:
            out.append(f"| {len(ids)} {scope.value} policies | {BY_SCOPE[scope]} |")
    return out


__all__ = ["admission_column", "admission_markdown", "not_exported"]
