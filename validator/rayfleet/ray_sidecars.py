"""Containers KubeRay builds from a RayCluster spec rather than from a pod template.

``autoscalerOptions`` configures the autoscaler sidecar the operator adds to the head pod when
``enableInTreeAutoscaling`` is true (its image, env, envFrom, securityContext);
``historyServerOptions.collectorOptions`` configures the history-server collector (image, env).
Policies that look at containers must look at these too, or a privileged autoscaler or a
credential in its env passes unseen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .workloads import ray_cluster_specs

if TYPE_CHECKING:
    from .manifests import KubeObject

# (options block inside the RayCluster spec, how to name the container it configures)
_BLOCKS = (
    ("autoscalerOptions", "the autoscaler"),
    ("historyServerOptions.collectorOptions", "the history server collector"),
)


@dataclass(frozen=True)
class ConfiguredContainer:
    """A container configured by an options block: the block (container-shaped fields) and its path."""

    obj: KubeObject
    path: str  # JSON path of the options block
    fields: dict[str, Any]  # image, env, envFrom, securityContext … as written
    who: str  # "the autoscaler of RayCluster 'ray'"
    injected: bool  # the operator really adds it to a pod (autoscaling on, collector configured)


def _get(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def configured_containers(obj: KubeObject) -> Iterator[ConfiguredContainer]:
    for ray in ray_cluster_specs(obj):
        autoscaling = ray.spec.get("enableInTreeAutoscaling") is True
        for block, name in _BLOCKS:
            fields = _get(ray.spec, block)
            injected = autoscaling if block == "autoscalerOptions" else isinstance(fields, dict)
            if not isinstance(fields, dict):
                if not injected:
                    continue
                fields = {}  # autoscaling on with no options: the operator's defaults
            if fields or injected:
                yield ConfiguredContainer(obj, f"{ray.path}.{block}", fields,
                                          f"{name} of {obj.kind} {obj.name!r}", injected)
