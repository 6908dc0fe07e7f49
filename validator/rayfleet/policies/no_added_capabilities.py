"""Containers add no Linux capabilities beyond a small allowlist."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, as_list, every_container
from .base import Policy, ReleaseObjects, Scope

ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for site in every_container(release):
        added = as_list(as_dict(as_dict(site.container.get("securityContext")).get("capabilities")).get("add"))
        for index, cap in enumerate(added):
            name = str(cap).upper().removeprefix("CAP_")
            if name not in ALLOWED_CAPABILITIES:
                yield Violation(f"{site.who} adds capability {cap}", obj=site.obj.ref,
                                path=f"{site.path}.securityContext.capabilities.add[{index}]", value=cap)


POLICY = Policy(
    id="no-added-capabilities",
    title="Containers add no capabilities beyond NET_BIND_SERVICE",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Added capabilities such as SYS_ADMIN or NET_ADMIN give a container powers over the node's kernel "
        "and network. Ray needs none of them; NET_BIND_SERVICE (ports below 1024) is the only one allowed."
    ),
    remediation="Remove the capability from securityContext.capabilities.add.",
    references=("https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",),
    check=check,
)
