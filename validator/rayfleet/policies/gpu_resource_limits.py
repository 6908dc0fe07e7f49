"""GPUs are requested in limits."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..quantities import parse_quantity
from ..secrets import child_path
from ..wellknown import GPU_RESOURCE
from ._helpers import container_label, resource_value, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        for container, path in tpl.containers():
            request = resource_value(container, "requests", GPU_RESOURCE)
            if request is None:
                continue
            limit = resource_value(container, "limits", GPU_RESOURCE)
            who = f"{container_label(container)} in {where(tpl)}"
            if limit is None:
                yield Violation(f"{who} requests {GPU_RESOURCE} without a limit; GPUs are only scheduled "
                                "from limits", obj=tpl.obj.ref,
                                path=child_path(f"{path}.resources.requests", GPU_RESOURCE), value=request)
            elif parse_quantity(limit) != parse_quantity(request):
                yield Violation(f"{who} requests {request} {GPU_RESOURCE} but limits {limit}; they must be "
                                "equal", obj=tpl.obj.ref,
                                path=child_path(f"{path}.resources.requests", GPU_RESOURCE), value=request)


POLICY = Policy(
    id="gpu-resource-limits",
    title="GPUs are requested in limits",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Extended resources such as nvidia.com/gpu cannot be overcommitted: Kubernetes takes the count "
        "from limits and rejects requests that differ. KubeRay also derives Ray's --num-gpus from the "
        "container limits, so a GPU only in requests is invisible to Ray."
    ),
    remediation="Put nvidia.com/gpu in resources.limits, and leave it out of requests or set it to the same count.",
    references=(
        "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/gpu.html",
    ),
    check=check,
)
