"""The policy catalogue as Markdown (``docs/policies.md``), generated from the registry."""

from __future__ import annotations

from collections.abc import Iterable

from .admission.docs import admission_markdown
from .policies.base import Policy, Scope
from .text import one_line

_SCOPE_TITLES = {
    Scope.RELEASE: "Release policies",
    Scope.FLEET: "Fleet policies",
    Scope.LIVE: "Live checks",
    Scope.PIPELINE: "Pipeline checks",
}
_SCOPE_INTRO = {
    Scope.RELEASE: "Checked on each region's rendered objects (and by `rayfleet scan` on any manifests).",
    Scope.FLEET: "Checked across all regions of the fleet file at once.",
    Scope.LIVE: "Checked against live Azure and Kubernetes APIs, when live checks are asked for.",
    Scope.PIPELINE: "Raised by the validation pipeline itself: rendering, schemas and waivers.",
}
_ORDER = (Scope.RELEASE, Scope.FLEET, Scope.LIVE, Scope.PIPELINE)


def render_policy_docs(policies: Iterable[Policy]) -> str:
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
        "     rayfleet.policy_docs.render_policy_docs; do not edit by hand. -->",
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
