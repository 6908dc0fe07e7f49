"""Ray containers set allowPrivilegeEscalation explicitly."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, every_container
from .base import Policy, ReleaseObjects, Scope

_RAY_ROLES = ("head", "worker", "submitter")


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for site in every_container(release):
        if site.tpl is not None and site.tpl.role not in _RAY_ROLES:
            continue  # other workloads: no-privilege-escalation covers an explicit true
        context = as_dict(site.container.get("securityContext"))
        if "allowPrivilegeEscalation" not in context:
            yield Violation(f"{site.who} leaves allowPrivilegeEscalation unset, so escalation is allowed",
                            obj=site.obj.ref, path=f"{site.path}.securityContext")


POLICY = Policy(
    id="ray-privilege-escalation-unset",
    title="Ray containers set allowPrivilegeEscalation: false",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "allowPrivilegeEscalation defaults to true: a container that leaves it unset lets setuid binaries "
        "raise a process's privileges, and Ray images ship sudo. The restricted Pod Security Standard "
        "requires false. This is the hardening counterpart of no-privilege-escalation (which reports an "
        "explicit true) for the containers of Ray pods (head, workers, RayJob submitter) and the sidecars "
        "KubeRay adds from the RayCluster spec (autoscaler, history server collector): a warning, like "
        "the other hardening rules."
    ),
    remediation=(
        "Set securityContext.allowPrivilegeEscalation: false on every container of the Ray pod templates, "
        "and in autoscalerOptions.securityContext when in-tree autoscaling is on."
    ),
    references=(
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
        "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
    ),
    check=check,
)
