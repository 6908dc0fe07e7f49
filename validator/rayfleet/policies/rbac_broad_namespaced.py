"""Roles in the release do not grant Secret reads, pod deletion or exec without a reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ._helpers import as_dict, as_list
from .base import Policy, ReleaseObjects, Scope

# (what it lets a holder do, resources, verbs that grant it) for the core API group.
_BROAD = (
    ("read Secrets (every credential in the namespace)", {"secrets"}, {"get", "list", "watch"}),
    ("delete pods", {"pods"}, {"delete", "deletecollection"}),
    ("exec or attach into pods", {"pods/exec", "pods/attach"}, {"create", "get"}),
)


def _names(rule: dict[str, Any], key: str) -> set[str]:
    return {str(v) for v in as_list(rule.get(key))}


def broad_grants(rule: dict[str, Any]) -> list[str]:
    """What one PolicyRule grants of the broad rights above (wildcards count)."""
    groups = _names(rule, "apiGroups")
    if not groups & {"", "*"}:
        return []
    resources, verbs = _names(rule, "resources"), _names(rule, "verbs")
    found = []
    for what, wanted_resources, wanted_verbs in _BROAD:
        if (resources & wanted_resources or "*" in resources) and (verbs & wanted_verbs or "*" in verbs):
            found.append(what)
    return found


def _subjects(release: ReleaseObjects, role: str, namespace: str | None) -> list[str]:
    """Subjects the release binds to Role ``role`` (``ServiceAccount ray/kuberay-operator``)."""
    out = []
    for binding in release.of_kind("RoleBinding"):
        ref = as_dict(binding.body.get("roleRef"))
        if ref.get("kind") != "Role" or ref.get("name") != role or binding.namespace != namespace:
            continue
        for subject in as_list(binding.body.get("subjects")):
            subject = as_dict(subject)
            ns = subject.get("namespace") or binding.namespace
            out.append(f"{subject.get('kind', '?')} {f'{ns}/' if ns else ''}{subject.get('name', '?')}")
    return out


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for role in release.of_kind("Role"):
        grants: dict[str, int] = {}
        for index, rule in enumerate(as_list(role.body.get("rules"))):
            for what in broad_grants(as_dict(rule)):
                grants.setdefault(what, index)
        if not grants:
            continue
        subjects = _subjects(release, role.name, role.namespace)
        holders = f"; bound to {', '.join(subjects)}" if subjects else ""
        for what, index in grants.items():
            yield Violation(f"Role {role.name!r} lets its holders {what} in namespace "
                            f"{role.namespace or '(release namespace)'}{holders}", obj=role.ref,
                            path=f"rules[{index}]")


POLICY = Policy(
    id="rbac-broad-namespaced",
    title="Roles do not grant Secret reads, pod deletion or exec",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "Reading Secrets hands over every credential in the namespace; deleting pods or exec into them "
        "lets one compromised pod take down or take over the Ray cluster. Operators need some of these "
        "rights (the KubeRay operator creates and deletes Ray pods), workloads should not: a Role that "
        "grants them should be a deliberate, reviewed exception."
    ),
    remediation=(
        "Drop the rule or narrow it (resourceNames, fewer verbs); bind it only to the operator's own "
        "ServiceAccount, never to the one Ray workers run as. Where it is needed, waive this finding for "
        "that Role with the reason."
    ),
    references=(
        "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        "https://github.com/ray-project/kuberay/tree/v1.7.0/helm-chart/kuberay-operator/templates",
    ),
    check=check,
)
