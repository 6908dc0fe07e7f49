"""Where pods hide: every pod template in an object, found one way for every policy.

Covers Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob,
and KubeRay's RayCluster (head and every worker group), RayJob (``rayClusterSpec`` and
``submitterPodTemplate``) and RayService (``rayClusterConfig``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .manifests import KubeObject
from .quantities import parse_quantity
from .wellknown import GPU_RESOURCE, RAY_GROUP

_TEMPLATE_AT = {
    "Deployment": "spec.template",
    "StatefulSet": "spec.template",
    "DaemonSet": "spec.template",
    "ReplicaSet": "spec.template",
    "ReplicationController": "spec.template",
    "Job": "spec.template",
    "CronJob": "spec.jobTemplate.spec.template",
    "PodTemplate": "template",
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class RayClusterSpec:
    """A RayCluster spec wherever it sits (RayCluster, RayJob, RayService)."""

    spec: dict[str, Any]
    path: str  # JSON path of the spec inside the object

    @property
    def head(self) -> dict[str, Any]:
        head = self.spec.get("headGroupSpec")
        return head if isinstance(head, dict) else {}

    @property
    def worker_groups(self) -> list[tuple[int, dict[str, Any]]]:
        groups = self.spec.get("workerGroupSpecs")
        if not isinstance(groups, list):
            return []
        return [(i, g) for i, g in enumerate(groups) if isinstance(g, dict)]


@dataclass(frozen=True)
class ReplicaBounds:
    """A Ray worker group's replica fields as numbers (None: unset or not a number)."""

    minimum: float | None
    replicas: float | None
    maximum: float | None
    hosts: float | None  # numOfHosts: pods per replica (multi-host groups)

    @classmethod
    def of(cls, group: dict[str, Any] | None) -> ReplicaBounds:
        group = group or {}
        return cls(*(parse_quantity(group.get(k)) for k in ("minReplicas", "replicas", "maxReplicas", "numOfHosts")))


@dataclass(frozen=True)
class PodTemplate:
    """A pod template: its metadata and spec, its JSON path, and what it is for."""

    obj: KubeObject
    path: str  # JSON path of the template (or of the Pod itself, "")
    metadata: dict[str, Any]
    spec: dict[str, Any]
    role: str  # pod | template | head | worker | submitter
    group: str | None = None  # Ray worker group name
    ray: RayClusterSpec | None = None
    group_spec: dict[str, Any] | None = None  # the head or worker group spec it belongs to
    group_path: str | None = None

    def at(self, suffix: str) -> str:
        """JSON path of ``suffix`` (relative to the pod spec)."""
        base = f"{self.path}.spec" if self.path else "spec"
        return f"{base}.{suffix}" if suffix else base

    @property
    def labels(self) -> dict[str, Any]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def is_ray(self) -> bool:
        return self.ray is not None

    @property
    def description(self) -> str:
        if self.role == "worker":
            return f"worker group {self.group!r}"
        return {"head": "head", "submitter": "submitter pod", "pod": "pod", "template": "pod template"}[self.role]

    def containers(self) -> Iterator[tuple[dict[str, Any], str]]:
        """Every container (init, regular, ephemeral) with its JSON path."""
        for list_name in CONTAINER_LISTS:
            items = self.spec.get(list_name)
            if not isinstance(items, list):
                continue
            for index, container in enumerate(items):
                if isinstance(container, dict):
                    yield container, self.at(f"{list_name}[{index}]")

    @property
    def service_account(self) -> str:
        name = self.spec.get("serviceAccountName") or self.spec.get("serviceAccount")
        return str(name) if name else "default"

    def resource(self, name: str) -> float:
        """What the pod asks of resource ``name``, as the scheduler counts it: the sum over its
        containers, or the largest init container when that is more; a container's request
        defaults to its limit, as Kubernetes does."""

        def of(container: dict[str, Any]) -> float:
            res = container.get("resources")
            if not isinstance(res, dict):
                return 0.0
            for section in ("requests", "limits"):
                block = res.get(section)
                if isinstance(block, dict) and name in block:
                    return parse_quantity(block[name]) or 0.0
            return 0.0

        def listed(key: str) -> list[dict[str, Any]]:
            items = self.spec.get(key)
            return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []

        regular = sum(of(c) for c in listed("containers"))
        init = max((of(c) for c in listed("initContainers")), default=0.0)
        return max(regular, init)

    @property
    def gpus(self) -> float:
        """NVIDIA GPUs the pod asks for (the one rule every policy and the capacity model use)."""
        return self.resource(GPU_RESOURCE)

    @property
    def replica_bounds(self) -> ReplicaBounds:
        """The replica fields of the Ray group this template belongs to (all None otherwise)."""
        return ReplicaBounds.of(self.group_spec)

    def images(self) -> Iterator[tuple[dict[str, Any], str, str]]:
        """(container, JSON path of its image, image) for every container with an image."""
        for container, path in self.containers():
            image = container.get("image")
            if isinstance(image, str) and image:
                yield container, f"{path}.image", image

    def volumes(self) -> list[tuple[int, dict[str, Any]]]:
        vols = self.spec.get("volumes")
        return [(i, v) for i, v in enumerate(vols) if isinstance(v, dict)] if isinstance(vols, list) else []


def _get(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _template(obj: KubeObject, path: str, role: str, **extra: Any) -> Iterator[PodTemplate]:
    tpl = _get(obj.body, path)
    if isinstance(tpl, dict):
        meta = tpl.get("metadata") if isinstance(tpl.get("metadata"), dict) else {}
        spec = tpl.get("spec") if isinstance(tpl.get("spec"), dict) else {}
        yield PodTemplate(obj, path, meta, spec, role, **extra)


def ray_cluster_specs(obj: KubeObject) -> Iterator[RayClusterSpec]:
    if obj.group != RAY_GROUP:
        return
    where = {"RayCluster": "spec", "RayJob": "spec.rayClusterSpec", "RayService": "spec.rayClusterConfig"}.get(obj.kind)
    if where:
        spec = _get(obj.body, where)
        if isinstance(spec, dict):
            yield RayClusterSpec(spec, where)


def find_pod_templates(obj: KubeObject) -> Iterator[PodTemplate]:
    if obj.kind == "Pod" and obj.api_version == "v1":
        spec = obj.body.get("spec")
        yield PodTemplate(obj, "", obj.metadata, spec if isinstance(spec, dict) else {}, "pod")
        return
    if obj.kind in _TEMPLATE_AT and obj.group != RAY_GROUP:
        yield from _template(obj, _TEMPLATE_AT[obj.kind], "template")
        return
    for ray in ray_cluster_specs(obj):
        head_path = f"{ray.path}.headGroupSpec"
        yield from _template(obj, f"{head_path}.template", "head", ray=ray, group_spec=ray.head,
                             group_path=head_path)
        for index, group in ray.worker_groups:
            group_path = f"{ray.path}.workerGroupSpecs[{index}]"
            tpl = group.get("template")
            if isinstance(tpl, dict):
                meta = tpl.get("metadata") if isinstance(tpl.get("metadata"), dict) else {}
                spec = tpl.get("spec") if isinstance(tpl.get("spec"), dict) else {}
                yield PodTemplate(obj, f"{group_path}.template", meta, spec, "worker",
                                  group=str(group.get("groupName", index)), ray=ray, group_spec=group,
                                  group_path=group_path)
    if obj.kind == "RayJob" and obj.group == RAY_GROUP:
        yield from _template(obj, "spec.submitterPodTemplate", "submitter",
                             ray=next(ray_cluster_specs(obj), None))
