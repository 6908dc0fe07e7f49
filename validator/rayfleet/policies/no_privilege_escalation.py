"""No containers that allow privilege escalation."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, every_container
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for site in every_container(release):
        if as_dict(site.container.get("securityContext")).get("allowPrivilegeEscalation") is True:
            yield Violation(f"{site.who} sets allowPrivilegeEscalation: true", obj=site.obj.ref,
                            path=f"{site.path}.securityContext.allowPrivilegeEscalation")


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
