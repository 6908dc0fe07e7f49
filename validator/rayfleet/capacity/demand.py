"""Demand: the most each head and worker group, and each region's release, can ask of Azure."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any

from ..findings import ObjectRef
from ..fleet import Fleet
from ..subjects import ReleaseObjects
from ..wellknown import CPU_RESOURCE, INSTANCE_TYPE_LABELS, KUBERAY_UNBOUNDED, MEMORY_RESOURCE, SPOT_LABEL
from ..workloads import PodTemplate, ray_cluster_specs
from .catalogue import VmSize, lookup_vm_size


def _required_terms(pod: PodTemplate) -> list[dict[str, Any]]:
    affinity = pod.spec.get("affinity")
    node = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") if isinstance(node, dict) else None
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    return [t for t in terms if isinstance(t, dict)] if isinstance(terms, list) else []


def _affinity_values(pod: PodTemplate, keys: tuple[str, ...]) -> list[str]:
    values: list[str] = []
    for term in _required_terms(pod):
        exprs = term.get("matchExpressions")
        for expr in exprs if isinstance(exprs, list) else []:
            if isinstance(expr, dict) and expr.get("key") in keys and expr.get("operator") == "In" \
                    and isinstance(expr.get("values"), list):
                values.extend(str(v) for v in expr["values"])
    return values


def selected_vm_sizes(pod: PodTemplate) -> tuple[list[str], str | None]:
    """The VM sizes a pod may land on, and the JSON path that says so (None when nothing does)."""
    selector = pod.spec.get("nodeSelector")
    if isinstance(selector, dict):
        for label in INSTANCE_TYPE_LABELS:
            if selector.get(label):
                return [str(selector[label])], pod.at(f'nodeSelector["{label}"]')
    values = _affinity_values(pod, INSTANCE_TYPE_LABELS)
    if values:
        where = "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        return list(dict.fromkeys(values)), pod.at(where)
    return [], None


def is_spot(pod: PodTemplate) -> bool:
    selector = pod.spec.get("nodeSelector")
    if isinstance(selector, dict) and str(selector.get(SPOT_LABEL, "")).lower() == "spot":
        return True
    values = _affinity_values(pod, (SPOT_LABEL,))
    return bool(values) and all(v.lower() == "spot" for v in values)


# --- demand ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupDemand:
    """The most one head or worker group can ask for."""

    obj: ObjectRef
    group: str  # worker group name, or "head"
    role: str  # "head" | "worker"
    path: str  # JSON path of the group spec in the object
    vm_size_name: str | None  # what the pod selects (None: no instance-type selector)
    vm: VmSize | None  # None: no selector, or a size neither the catalogue nor the fleet knows
    spot: bool
    max_pods: int
    gpus_per_pod: int
    pods_per_node: int
    nodes: int  # 0 when the VM size is unknown
    vcpus: int  # nodes x VM vCPUs, or the CPU requests (rounded up) when the VM size is unknown
    unbounded: bool = False  # no maxReplicas with the autoscaler on
    problem: str | None = None  # why its pods cannot be scheduled as asked
    selector_path: str | None = None

    @property
    def gpus(self) -> int:
        return self.max_pods * self.gpus_per_pod

    @property
    def family_key(self) -> str | None:
        return self.vm.family_key if self.vm else None

    @property
    def label(self) -> str:
        what = "head" if self.role == "head" else f"worker group {self.group!r}"
        return f"{what} of {self.obj.kind}/{self.obj.name}"

    def describe(self) -> str:
        """``12 x Standard_NC40ads_H100_v5 for worker group 'h100' of RayCluster/ray``."""
        if self.vm is not None:
            return f"{self.nodes} x {self.vm.name} for {self.label}"
        return f"{self.vcpus} vCPUs of CPU requests for {self.label}"


def _count(value: float | None) -> int | None:
    # Kubernetes counts are int32; anything past int64 is not a count (and would overflow)
    return int(value) if value is not None and abs(value) < 2**63 else None


def _max_pods(pod: PodTemplate, role: str, autoscaling: bool) -> tuple[int, bool]:
    if role == "head" or pod.group_spec is None:
        return 1, False
    bounds = pod.replica_bounds
    hosts = _count(bounds.hosts) or 1
    maximum = _count(bounds.maximum)
    replicas = _count(bounds.replicas) or 0
    minimum = _count(bounds.minimum) or 0
    if maximum is not None and maximum < KUBERAY_UNBOUNDED:
        return max(maximum, 0) * hosts, False
    if autoscaling:
        return max(replicas, minimum) * hosts, True
    return max(replicas, minimum) * hosts, False


def _pods_per_node(vm: VmSize, gpus: int, cpu: float, memory: float) -> tuple[int, str | None]:
    limits: list[int] = []
    problems: list[str] = []
    if gpus > 0:
        if vm.gpus < gpus:
            problems.append(f"asks for {gpus} GPUs per pod but {vm.name} has {vm.gpus}")
        else:
            limits.append(vm.gpus // gpus)
    if cpu > 0:
        if cpu > vm.vcpus:
            problems.append(f"asks for {_fmt(cpu)} CPUs per pod but {vm.name} has {vm.vcpus} vCPUs")
        else:
            limits.append(int(vm.vcpus // cpu))
    if memory > 0 and vm.memory_gib:
        node_bytes = vm.memory_gib * 2**30
        if memory > node_bytes:
            problems.append(f"asks for {_fmt(memory / 2**30)} GiB per pod but {vm.name} has {_fmt(vm.memory_gib)} GiB")
        else:
            limits.append(int(node_bytes // memory))
    if problems:
        return 1, "; ".join(problems)
    return max(1, min(limits)) if limits else 1, None


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:.2f}".rstrip("0")


def group_demand(pod: PodTemplate, fleet: Fleet | None = None) -> GroupDemand:
    """The most one head or worker group (one pod template of a RayCluster spec) can ask for."""
    ray = pod.ray
    autoscaling = bool(ray.spec.get("enableInTreeAutoscaling")) if ray is not None else False
    role = "head" if pod.role == "head" else "worker"
    max_pods, unbounded = _max_pods(pod, role, autoscaling)
    gpus = math.ceil(pod.gpus)
    cpu = pod.resource(CPU_RESOURCE)
    memory = pod.resource(MEMORY_RESOURCE)
    names, selector_path = selected_vm_sizes(pod)
    spot = is_spot(pod)
    base = {"obj": pod.obj.ref, "group": pod.group or "head", "role": role,
            "path": pod.group_path or pod.path, "spot": spot, "max_pods": max_pods, "gpus_per_pod": gpus,
            "unbounded": unbounded, "selector_path": selector_path}
    candidates: list[GroupDemand] = []
    for name in names:
        vm = lookup_vm_size(name, fleet)
        if vm is None:
            continue
        per_node, problem = _pods_per_node(vm, gpus, cpu, memory)
        nodes = math.ceil(max_pods / per_node) if max_pods else 0
        candidates.append(GroupDemand(vm_size_name=vm.name, vm=vm, pods_per_node=per_node, nodes=nodes,
                                      vcpus=nodes * vm.vcpus, problem=problem, **base))
    if candidates:  # the size that costs the most (unknown sizes are unknown-vm-size's to report)
        return max(candidates, key=lambda d: (d.vcpus, d.vm.name if d.vm else ""))
    unknown = names[0] if names else None
    return GroupDemand(vm_size_name=unknown, vm=None, pods_per_node=1, nodes=0,
                       vcpus=math.ceil(cpu * max_pods - 1e-9), **base)


def release_demand(release: ReleaseObjects) -> list[GroupDemand]:
    """Every head and worker group of every RayCluster spec in one release."""
    demands: list[GroupDemand] = []
    for obj in release.objects:
        if not any(True for _ in ray_cluster_specs(obj)):
            continue
        for pod in release.templates_of(obj):
            if pod.role in ("head", "worker"):
                demands.append(group_demand(pod, release.fleet))
    return demands


@dataclass(frozen=True)
class RegionDemand:
    """The most one region's release can ask of Azure, summed over its groups."""

    region: str | None
    groups: tuple[GroupDemand, ...]

    def in_family(self, family_key: str) -> list[GroupDemand]:
        return [g for g in self.groups if not g.spot and g.family_key == family_key]

    @property
    def family_vcpus(self) -> dict[str, int]:
        """Normalised family → max vCPUs (on-demand groups of a known VM size)."""
        out: dict[str, int] = {}
        for g in self.groups:
            if not g.spot and g.vm is not None:
                out[g.vm.family_key] = out.get(g.vm.family_key, 0) + g.vcpus
        return out

    @property
    def family_names(self) -> dict[str, str]:
        return {g.vm.family_key: g.vm.family for g in self.groups if g.vm is not None}

    @property
    def regional_vcpus(self) -> int:
        return sum(g.vcpus for g in self.groups if not g.spot)

    @property
    def spot_vcpus(self) -> int:
        return sum(g.vcpus for g in self.groups if g.spot)

    @property
    def gpus(self) -> int:
        return sum(g.gpus for g in self.groups)

    @property
    def unbounded(self) -> list[GroupDemand]:
        return [g for g in self.groups if g.unbounded]


# Demand is a pure function of an immutable release; the quota and failover policies and the
# capacity table all ask for it, so it is worked out once per release.
_DEMAND: weakref.WeakKeyDictionary[ReleaseObjects, RegionDemand] = weakref.WeakKeyDictionary()


def region_demand(release: ReleaseObjects) -> RegionDemand:
    """The most one region's release can ask of Azure (worked out once per release)."""
    demand = _DEMAND.get(release)
    if demand is None:
        demand = _DEMAND[release] = RegionDemand(release.region_name, tuple(release_demand(release)))
    return demand
