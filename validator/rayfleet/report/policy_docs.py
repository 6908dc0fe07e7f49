"""The policy catalogue as Markdown (``docs/policies.md``) and JSON, generated from the registry."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..admission.build import twin_severity
from ..admission.docs import admission_column, not_exported
from ..admission.twins import BY_SCOPE, TWINS, why_not_exported
from ..policies.base import Policy, Scope
from ..text import one_line

_SCOPE_TITLES = {
    Scope.RELEASE: "Release policies",
    Scope.FLEET: "Fleet policies",
    Scope.LIVE: "Live checks",
    Scope.PIPELINE: "Pipeline checks",
}
_SCOPE_INTRO = {
    Scope.RELEASE: "Checked on each region's rendered objects (and by `rayfleet scan` on any manifests).",
    Scope.FLEET: (
        "Checked across all regions of the fleet file at once.\n\n"
        "**Cross-checks: the fleet file is the truth.** A region's facts are written twice: in the fleet "
        "file (its identities, storage, cluster) and in its values files (what the chart renders). "
        "`region-identity-declared`, `region-identity-match`, `region-storage-match`, "
        "`region-cluster-match`, `storage-in-region` and `unique-cluster-names` check that the rendered "
        "release says what the fleet file says, so a region copied from another cannot ship with the other "
        "region's identity, data or cluster. Each finding names both places: the fleet file line of the "
        "fact and the values file line that set the rendered value (found through the values stack's "
        "provenance), so the fix is one edit away."
    ),
    Scope.LIVE: "Checked against live Azure and Kubernetes APIs, when live checks are asked for.",
    Scope.PIPELINE: "Raised by the validation pipeline itself: rendering, schemas and waivers.",
}
_ORDER = (Scope.RELEASE, Scope.FLEET, Scope.LIVE, Scope.PIPELINE)


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


def format_policy_docs(policies: Iterable[Policy]) -> str:
    """Markdown for every policy, grouped by scope in registry order: a summary table, then one
    section per policy with its severity, scope, rationale, remediation and references."""
    policies = list(policies)
    by_scope: dict[Scope, list[Policy]] = {}
    for policy in policies:
        by_scope.setdefault(policy.scope, []).append(policy)
    out = [
        "# Policies",
        "",
        "<!-- Generated from the policy registry (rayfleet.policies.ALL_POLICIES) by",
        "     rayfleet.report.policy_docs.format_policy_docs; do not edit by hand. -->",
        "",
        "Every finding names one of these policies. A policy's severity is the default; a few policies",
        "report some findings at another severity, as their rationale says. Waive a finding in the fleet",
        "file with the policy ID, a scope, a reason, an owner and an expiry date.",
        "",
    ]
    order = [s for s in _ORDER if s in by_scope] + [s for s in by_scope if s not in _ORDER]
    out += ["| ID | Severity | Scope | Title |", "|---|---|---|---|"]
    for scope in order:
        for policy in by_scope[scope]:
            out.append(f"| [`{policy.id}`](#{policy.id}) | {policy.severity.value} | {scope.value} | "
                       f"{one_line(policy.title)} |")
    for scope in order:
        out += ["", f"## {_SCOPE_TITLES.get(scope, f'{scope.value.capitalize()} policies')}"]
        if scope in _SCOPE_INTRO:
            out += ["", _SCOPE_INTRO[scope]]
        for policy in by_scope[scope]:
            out += [
                "",
                f"### {policy.id}",
                "",
                f"**{one_line(policy.title)}** · severity: {policy.severity.value} · scope: {scope.value}",
                "",
                one_line(policy.rationale),
                "",
                f"**Remediation:** {one_line(policy.remediation)}",
            ]
            if policy.references:
                out += ["", "References:"]
                out += [f"- <{ref}>" for ref in policy.references]
    out += admission_markdown(policies)
    return "\n".join(out) + "\n"


def format_policies_json(policies: Iterable[Policy]) -> str:
    """``{"policies": [{id, title, severity, scope, rationale, remediation, references}]}``, in
    registry order, camelCase like every rayfleet JSON document."""
    return json.dumps({"policies": [
        {"id": p.id, "title": one_line(p.title), "severity": p.severity.value, "scope": p.scope.value,
         "rationale": one_line(p.rationale), "remediation": one_line(p.remediation),
         "references": list(p.references), "needsFleet": p.needs_fleet, "admission": admission_column(p),
         **({"admissionNotExported": why_not_exported(p)} if admission_column(p) == "no" else {})}
        for p in policies]}, indent=2) + "\n"
