"""No containers that allow privilege escalation."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, container_label, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        for container, path in tpl.containers():
            if as_dict(container.get("securityContext")).get("allowPrivilegeEscalation") is True:
                yield Violation(f"{container_label(container)} in {where(tpl)} sets allowPrivilegeEscalation: "
                                "true", obj=tpl.obj.ref, path=f"{path}.securityContext.allowPrivilegeEscalation")


POLICY = Policy(
    id="no-privilege-escalation",
    title="Containers do not allow privilege escalation",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "allowPrivilegeEscalation: true lets a process gain more privileges than its parent (setuid "
        "binaries), so a compromised Ray worker can become root in its container."
    ),
    remediation="Set securityContext.allowPrivilegeEscalation: false.",
    references=("https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",),
    check=check,
)
