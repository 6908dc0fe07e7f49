"""No privileged containers."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, every_container
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for site in every_container(release):
        if as_dict(site.container.get("securityContext")).get("privileged") is True:
            yield Violation(f"{site.who} is privileged", obj=site.obj.ref,
                            path=f"{site.path}.securityContext.privileged")


POLICY = Policy(
    id="no-privileged-containers",
    title="No privileged containers",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "A privileged container has every capability and the host's devices: anything that breaks into it "
        "owns the node, its GPUs and every pod's workload identity token on it."
    ),
    remediation="Remove securityContext.privileged, or set it to false.",
    references=("https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",),
    check=check,
)
