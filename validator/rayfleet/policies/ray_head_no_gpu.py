"""The Ray head runs no GPU work."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import child_path
from ._helpers import ray_start_params, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        if tpl.role != "head" or tpl.group_path is None:
            continue
        gpus = tpl.gpus
        if gpus:
            yield Violation(f"{where(tpl)} asks for {gpus:g} nvidia.com/gpu; keep the head on a CPU pool",
                            obj=tpl.obj.ref, path=tpl.at("containers"))
            continue
        params = ray_start_params(tpl)
        if str(params.get("num-gpus", "")).strip() not in ("0", "0.0"):
            path = f"{tpl.group_path}.rayStartParams"
            value = params.get("num-gpus")
            if value is not None:
                path = child_path(path, "num-gpus")
            yield Violation(f"{where(tpl)} does not set num-gpus: \"0\" in rayStartParams; on a GPU node Ray "
                            "would see the node's GPUs and schedule GPU tasks on the head",
                            obj=tpl.obj.ref, path=path, value=value)


POLICY = Policy(
    id="ray-head-no-gpu",
    title="The Ray head runs no GPU work",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "The head runs the GCS, dashboard and autoscaler; GPU tasks scheduled on it compete with them and "
        "hold a GPU node that the autoscaler cannot release. A head pod that lands on a GPU node sees every "
        "GPU of the host unless rayStartParams says num-gpus: \"0\". So the head should ask for no GPUs and "
        "set num-gpus: \"0\"."
    ),
    remediation="Remove nvidia.com/gpu from the head's resources and set rayStartParams num-gpus: \"0\".",
    references=(
        "https://github.com/ray-project/kuberay/issues/2098",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
    ),
    check=check,
)
