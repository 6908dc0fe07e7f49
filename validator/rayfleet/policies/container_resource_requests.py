"""Containers request CPU and memory."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, as_list, container_label, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        for list_name in ("initContainers", "containers"):  # ephemeral containers take no resources
            for index, container in enumerate(as_list(tpl.spec.get(list_name))):
                if not isinstance(container, dict):
                    continue
                resources = as_dict(container.get("resources"))
                requests, limits = as_dict(resources.get("requests")), as_dict(resources.get("limits"))
                # A limit alone also sets the request.
                missing = [r for r in ("cpu", "memory") if r not in requests and r not in limits]
                if missing:
                    yield Violation(f"{container_label(container)} in {where(tpl)} has no "
                                    f"{' or '.join(m if m == 'memory' else 'CPU' for m in missing)} request",
                                    obj=tpl.obj.ref, path=tpl.at(f"{list_name}[{index}].resources"))


POLICY = Policy(
    id="container-resource-requests",
    title="Containers request CPU and memory",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "Without requests the scheduler packs pods onto nodes by guesswork and the Ray autoscaler cannot "
        "tell how many workers fit a node; the pod is also first to be evicted under memory pressure."
    ),
    remediation="Set resources.requests.cpu and resources.requests.memory on every container.",
    references=("https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",),
    check=check,
)
