"""A Ray group states its GPU count once."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import child_path
from ._helpers import as_dict, ray_start_params, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        if tpl.role not in ("head", "worker") or tpl.group_path is None:
            continue
        params = ray_start_params(tpl)
        if "num-gpus" not in params:
            continue
        path = child_path(f"{tpl.group_path}.rayStartParams", "num-gpus")
        gpus = tpl.gpus
        if gpus:
            yield Violation(f"{where(tpl)} sets num-gpus {params['num-gpus']!r} in rayStartParams and "
                            f"{gpus:g} nvidia.com/gpu in its container resources; state the count once",
                            obj=tpl.obj.ref, path=path, value=params["num-gpus"])
        logical = as_dict(as_dict(tpl.group_spec).get("resources"))
        if any(str(k).upper() == "GPU" for k in logical):
            yield Violation(f"{where(tpl)} sets num-gpus in rayStartParams and GPU in the group's resources; "
                            "KubeRay rejects both", obj=tpl.obj.ref, path=path, value=params["num-gpus"])


POLICY = Policy(
    id="ray-gpu-count-once",
    title="A Ray group states its GPU count once",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "KubeRay sets Ray's --num-gpus from the container's nvidia.com/gpu limit unless rayStartParams "
        "already has num-gpus, and rejects num-gpus together with the group's resources map. Two counts "
        "drift apart: Ray then schedules more GPU tasks than the pod has GPUs, or leaves GPUs idle."
    ),
    remediation="Remove num-gpus from rayStartParams and let KubeRay take the count from the nvidia.com/gpu limit.",
    references=(
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/gpu.html",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
    ),
    check=check,
)
