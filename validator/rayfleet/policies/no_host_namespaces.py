"""Pods do not share the host's network, PID or IPC namespaces."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if tpl.spec.get(field) is True:
                yield Violation(f"{where(tpl)} sets {field}: true", obj=tpl.obj.ref, path=tpl.at(field))


POLICY = Policy(
    id="no-host-namespaces",
    title="Pods do not share host namespaces",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "hostNetwork, hostPID and hostIPC put the pod into the node's namespaces: it sees the node's "
        "traffic (including IMDS and other pods' tokens), its processes and shared memory. Ray works "
        "on the pod network."
    ),
    remediation="Remove hostNetwork, hostPID and hostIPC from the pod spec.",
    references=("https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",),
    check=check,
)
