"""GPU capacity: what each region's release may ask of Azure at most, against its vCPU quota.

The model (also in ``docs/capacity.md``):

* **Pods.** Every RayCluster spec (RayCluster, RayJob ``rayClusterSpec``, RayService
  ``rayClusterConfig``) has one head pod and, per worker group, ``maxReplicas x numOfHosts`` pods
  at most. A group without ``maxReplicas`` (or with KubeRay's default 2147483647) while the
  autoscaler is on is *unbounded*; with the autoscaler off it counts ``replicas``.
* **VM size.** A pod's node size is its ``node.kubernetes.io/instance-type`` nodeSelector (or a
  required node affinity ``In`` on that label; with several sizes the one that costs the most
  vCPUs is counted). Sizes come from ``data/vm_sizes.yaml`` and the fleet file's ``vmSizes``
  (which wins). A pod is *spot* when it selects ``kubernetes.azure.com/scalesetpriority: spot``.
* **Pods per node.** GPU pods: ``node GPUs // pod GPUs``. All pods: also at most
  ``node vCPUs // pod CPU request`` and ``node memory // pod memory request`` when requests are
  set (requests default to limits, as Kubernetes does). A CPU pod without requests takes a whole
  node. A pod larger than its node is a problem (it can never be scheduled) and counts one node.
  Nominal VM figures are used, not the node's allocatable resources, so node counts are a lower
  bound; each group is assumed to have its own node pool (no packing across groups), an upper
  bound.
* **vCPUs.** ``ceil(pods / pods per node) x VM vCPUs``, counted against the VM's quota family and
  the total regional vCPUs; spot groups count against the regional spot vCPUs instead. A pod with
  no (known) VM size counts its CPU request (rounded up) against the regional total only.
* **Failover.** When a region is lost, its peers must host its GPU nodes, node for node and of
  the same VM size (so the same GPU model and quota family), within each peer's spare quota:
  family quota - own max demand, and regional (or spot) quota - own max demand. Peers are filled
  in the order the fleet file lists them, largest nodes first.

Everything here is a pure function of ``Release``/``FleetView`` objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml

from .findings import ObjectRef
from .resources import data_text
from .workloads import PodTemplate, ray_cluster_specs

if TYPE_CHECKING:
    from .fleet import Fleet, Quota, Region
    from .policies.base import FleetView, Release
    from .result import Result

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
GPU_RESOURCE = "nvidia.com/gpu"
KUBERAY_UNBOUNDED = 2147483647  # KubeRay's maxReplicas default

REGIONAL = "total regional vCPUs"
SPOT = "regional spot vCPUs"


# --- the VM size catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class VmSize:
    """One Azure VM size: what one node of it costs in quota and what it holds."""

    name: str
    vcpus: int
    gpus: int
    family: str  # as Azure spells it in the usages API
    memory_gib: float | None = None
    gpu_model: str | None = None
    source: str = "catalogue"  # "catalogue" or "fleet file"
    temp_disk_gib: float | None = None  # the local temp disk (/mnt); None when not known, 0 when none

    @property
    def family_key(self) -> str:
        return normalise_family(self.family)


_FAMILY_STRIP = re.compile(r"[\s_\-]+")


def normalise_family(name: str) -> str:
    """The key quota families are compared by: lower case, without spaces, ``_`` or ``-``.

    ``Standard NCASv3_T4 Family``, ``standardNCASv3_T4Family`` and ``StandardNCASv3T4Family``
    are one family.
    """
    return _FAMILY_STRIP.sub("", name).lower()


@cache
def vm_catalogue() -> dict[str, VmSize]:
    """The packaged VM sizes (``rayfleet/data/vm_sizes.yaml``), keyed by lower-case size name."""
    data = yaml.safe_load(data_text("vm_sizes.yaml"))
    sizes: dict[str, VmSize] = {}
    for name, spec in data["sizes"].items():
        sizes[name.lower()] = VmSize(
            name=name, vcpus=int(spec["vcpus"]), gpus=int(spec["gpus"]), family=str(spec["family"]),
            memory_gib=float(spec["memoryGiB"]) if spec.get("memoryGiB") is not None else None,
            gpu_model=spec.get("gpuModel"), source="catalogue",
            temp_disk_gib=float(spec["tempDiskGiB"]) if spec.get("tempDiskGiB") is not None else None,
        )
    return sizes


def lookup_vm_size(name: str, fleet: Fleet | None = None) -> VmSize | None:
    """A VM size by name (case-insensitive): the fleet file's ``vmSizes`` first, then the catalogue."""
    if fleet is not None:
        for fleet_name, spec in fleet.vm_sizes.items():
            if fleet_name.lower() == name.lower():
                return VmSize(fleet_name, spec.vcpus, spec.gpus, spec.family, spec.memory_gib,
                              spec.gpu_model, source="fleet file")
    return vm_catalogue().get(name.lower())


# --- Kubernetes quantities -------------------------------------------------------------------

_SUFFIX = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes quantity (``500m``, ``16Gi``, ``2``) as a number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and (match := _QUANTITY.match(value.strip())):
        number = float(match.group(1)) * _SUFFIX[match.group(2) or ""]
    else:
        return None
    return number if math.isfinite(number) else None  # .nan / .inf / 1e999 are not quantities


def _pod_resource(pod: PodTemplate, resource: str) -> float:
    """What a pod asks of ``resource``: the sum over containers, or the largest init container
    when that is more (requests fall back to limits, as Kubernetes does)."""

    def of(container: dict[str, Any]) -> float:
        res = container.get("resources")
        if not isinstance(res, dict):
            return 0.0
        for section in ("requests", "limits"):
            block = res.get(section)
            if isinstance(block, dict) and resource in block:
                return parse_quantity(block[resource]) or 0.0
        return 0.0

    def listed(name: str) -> list[dict[str, Any]]:
        items = pod.spec.get(name)
        return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []

    regular = sum(of(c) for c in listed("containers"))
    init = max((of(c) for c in listed("initContainers")), default=0.0)
    return max(regular, init)


# --- what one pod template selects -----------------------------------------------------------


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


def _int(value: Any) -> int | None:
    # Kubernetes counts are int32; anything past int64 is not a count (and would overflow floats)
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63 else None


def _max_pods(group: dict[str, Any] | None, role: str, autoscaling: bool) -> tuple[int, bool]:
    if role == "head" or group is None:
        return 1, False
    hosts = _int(group.get("numOfHosts")) or 1
    maximum = _int(group.get("maxReplicas"))
    replicas = _int(group.get("replicas")) or 0
    minimum = _int(group.get("minReplicas")) or 0
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
    max_pods, unbounded = _max_pods(pod.group_spec, role, autoscaling)
    gpus = math.ceil(_pod_resource(pod, GPU_RESOURCE))
    cpu = _pod_resource(pod, "cpu")
    memory = _pod_resource(pod, "memory")
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


def release_demand(release: Release) -> list[GroupDemand]:
    """Every head and worker group of every RayCluster spec in one release."""
    demands: list[GroupDemand] = []
    for obj in release.objects:
        if not any(True for _ in ray_cluster_specs(obj)):
            continue
        for pod in obj.pod_templates:
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


def region_demand(release: Release) -> RegionDemand:
    """The release's demand, worked out once: the quota and failover policies and the capacity
    table all ask for it."""
    return release.derived("capacity.demand",
                           lambda r: RegionDemand(r.region_name, tuple(release_demand(r))))


# --- quota fit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaBreach:
    """One quota a region's max demand exceeds."""

    region: str
    kind: str  # "family" | "regional" | "spot"
    name: str  # family as Azure spells it, or REGIONAL / SPOT
    demand: int
    quota: int
    groups: tuple[GroupDemand, ...]
    family_key: str | None = None

    @property
    def excess(self) -> int:
        return self.demand - self.quota

    @property
    def message(self) -> str:
        what = {"family": f"family {self.name}", "regional": "total regional vCPUs",
                "spot": "regional spot vCPUs"}[self.kind]
        parts = "; ".join(g.describe() for g in self.groups if g.vcpus)
        quota = f"the quota of {self.quota}" if self.quota else "no quota (0 vCPUs)"
        return f"{what}: max {self.demand} vCPUs ({parts}) exceed {quota} by {self.excess}"


def quota_families(quota: Quota) -> dict[str, int]:
    """A quota's families keyed by normalised name (the larger figure wins on a clash)."""
    out: dict[str, int] = {}
    for name, value in quota.families.items():
        key = normalise_family(name)
        out[key] = max(out.get(key, 0), int(value))
    return out


def quota_breaches(demand: RegionDemand, quota: Quota) -> list[QuotaBreach]:
    """Every quota the region's max demand exceeds. A region exactly at a limit fits."""
    region = demand.region or ""
    breaches: list[QuotaBreach] = []
    families = quota_families(quota)
    names = demand.family_names
    for key, vcpus in sorted(demand.family_vcpus.items()):
        limit = families.get(key, 0)
        if vcpus > limit:
            breaches.append(QuotaBreach(region, "family", names[key], vcpus, limit,
                                        tuple(demand.in_family(key)), key))
    if quota.regional_vcpus is not None and demand.regional_vcpus > quota.regional_vcpus:
        breaches.append(QuotaBreach(region, "regional", REGIONAL, demand.regional_vcpus, quota.regional_vcpus,
                                    tuple(g for g in demand.groups if not g.spot)))
    if quota.spot_vcpus is not None and demand.spot_vcpus > quota.spot_vcpus:
        breaches.append(QuotaBreach(region, "spot", SPOT, demand.spot_vcpus, quota.spot_vcpus,
                                    tuple(g for g in demand.groups if g.spot)))
    return breaches


# --- failover --------------------------------------------------------------------------------


@dataclass
class Spare:
    """A region's spare quota: what its own max demand leaves free. None = not limited."""

    families: dict[str, int]
    regional: int | None
    spot: int | None

    def nodes_fitting(self, vm: VmSize, spot: bool) -> int:
        if spot:
            return _fits(self.spot, vm.vcpus)
        return min(_fits(self.families.get(vm.family_key, 0), vm.vcpus), _fits(self.regional, vm.vcpus))

    def take(self, vm: VmSize, spot: bool, nodes: int) -> None:
        used = nodes * vm.vcpus
        if spot:
            self.spot = None if self.spot is None else self.spot - used
            return
        self.families[vm.family_key] = self.families.get(vm.family_key, 0) - used
        self.regional = None if self.regional is None else self.regional - used


def _fits(free: int | None, vcpus: int) -> int:
    if free is None:
        return 2**62
    return max(free, 0) // vcpus


def spare_quota(demand: RegionDemand, quota: Quota) -> Spare:
    families = quota_families(quota)
    for key, used in demand.family_vcpus.items():
        families[key] = families.get(key, 0) - used
    regional = None if quota.regional_vcpus is None else quota.regional_vcpus - demand.regional_vcpus
    spot = None if quota.spot_vcpus is None else quota.spot_vcpus - demand.spot_vcpus
    return Spare({k: max(v, 0) for k, v in families.items()},
                 None if regional is None else max(regional, 0), None if spot is None else max(spot, 0))


@dataclass(frozen=True)
class Absorbed:
    """What one GPU group of a lost region needs, and where its nodes went."""

    group: GroupDemand
    placed: dict[str, int]  # peer → nodes

    @property
    def nodes_short(self) -> int:
        return self.group.nodes - sum(self.placed.values())

    @property
    def gpus_needed(self) -> int:
        return self.group.gpus

    @property
    def gpus_placed(self) -> int:
        if self.group.nodes == 0:
            return 0
        per_node = self.group.pods_per_node * self.group.gpus_per_pod
        return min(self.group.gpus, sum(self.placed.values()) * per_node)


@dataclass(frozen=True)
class FailoverOutcome:
    """What happens to one region's GPU demand when it is lost."""

    region: str
    peers: tuple[str, ...]
    groups: tuple[Absorbed, ...]
    unusable_peers: dict[str, str] = field(default_factory=dict)  # peer → why it absorbs nothing
    unbounded: tuple[GroupDemand, ...] = ()
    unchecked: str | None = None  # why the outcome could not be computed

    @property
    def gpus_needed(self) -> int:
        return sum(a.gpus_needed for a in self.groups)

    @property
    def gpus_placed(self) -> int:
        return sum(a.gpus_placed for a in self.groups)

    @property
    def absorbed(self) -> bool:
        return not self.unbounded and all(a.nodes_short == 0 for a in self.groups)

    def vcpus_taken(self, peer: str) -> dict[tuple[str, bool], int]:
        """(family key or REGIONAL/SPOT, spot) → vCPUs ``peer`` gives to this region's failover."""
        taken: dict[tuple[str, bool], int] = {}
        for a in self.groups:
            nodes = a.placed.get(peer, 0)
            if not nodes or a.group.vm is None:
                continue
            vcpus = nodes * a.group.vm.vcpus
            key = (SPOT, True) if a.group.spot else (a.group.vm.family_key, False)
            taken[key] = taken.get(key, 0) + vcpus
            if not a.group.spot:
                taken[(REGIONAL, False)] = taken.get((REGIONAL, False), 0) + vcpus
        return taken

    @property
    def message(self) -> str:
        peers = ", ".join(self.peers)
        lines: list[str] = []
        if self.unbounded:
            lines.append("its GPU demand has no bound (" + "; ".join(
                f"{g.label} sets no maxReplicas" for g in self.unbounded) + ")")
        by_model: dict[tuple[str, str, bool], list[Absorbed]] = {}
        for a in self.groups:
            vm = a.group.vm
            assert vm is not None
            by_model.setdefault((vm.gpu_model or vm.name, vm.name, a.group.spot), []).append(a)
        for (model, size, spot), items in by_model.items():
            needed = sum(a.gpus_needed for a in items)
            placed = sum(a.gpus_placed for a in items)
            if placed >= needed:
                continue
            kind = "spot " if spot else ""
            lines.append(f"{placed} of its {needed} {model} {kind}GPUs ({size}) fit in the peers' spare "
                         f"{'spot vCPUs' if spot else 'quota'}, {needed - placed} short")
        why = "; ".join(f"{p} {reason}" for p, reason in self.unusable_peers.items())
        text = f"if it is lost, its failover peers ({peers}) cannot absorb its GPU demand: " + "; ".join(lines)
        return f"{text} ({why})" if why else text


def _gpu_groups(demand: RegionDemand) -> list[GroupDemand]:
    return [g for g in demand.groups if g.gpus > 0 and g.vm is not None and g.nodes > 0]


def failover_outcome(lost: str, demands: Mapping[str, RegionDemand], quotas: Mapping[str, Quota | None],
                     peers: Iterable[str]) -> FailoverOutcome:
    """Whether ``peers`` can together host the GPU nodes of region ``lost`` (see the module doc)."""
    peers = tuple(peers)
    demand = demands[lost]
    unusable: dict[str, str] = {}
    spares: dict[str, Spare] = {}
    for peer in peers:
        if peer not in demands:
            unusable[peer] = "was not checked in this run"
            continue
        quota = quotas.get(peer)
        if quota is None:
            unusable[peer] = "declares no quota"
            continue
        spares[peer] = spare_quota(demands[peer], quota)
    groups = sorted(_gpu_groups(demand), key=lambda g: (-(g.vm.vcpus if g.vm else 0), g.label))
    results: list[Absorbed] = []
    for group in groups:
        assert group.vm is not None
        left = group.nodes
        placed: dict[str, int] = {}
        for peer in peers:
            if peer not in spares or left == 0:
                continue
            nodes = min(left, spares[peer].nodes_fitting(group.vm, group.spot))
            if nodes:
                spares[peer].take(group.vm, group.spot, nodes)
                placed[peer] = nodes
                left -= nodes
        results.append(Absorbed(group, placed))
    unbounded = tuple(g for g in demand.unbounded if g.gpus_per_pod > 0)
    return FailoverOutcome(lost, peers, tuple(results), unusable, unbounded)


def _demands(view: FleetView) -> dict[str, RegionDemand]:
    """Region → demand, for releases that have objects (a release that failed to render has none
    and must not look like a region with all its quota spare)."""
    return {name: region_demand(release) for name, release in view.releases.items() if release.objects}


def failover_outcomes(view: FleetView) -> dict[str, FailoverOutcome]:
    """For every region in the view with GPU demand and failover peers: what losing it means."""
    demands = _demands(view)
    quotas = {r.name: r.quota for r in view.fleet.regions}
    known = {r.name for r in view.fleet.regions}
    outcomes: dict[str, FailoverOutcome] = {}
    for region in view.fleet.regions:
        if region.name not in demands or not region.failover_peers:
            continue
        outcome = failover_outcome(region.name, demands, quotas, region.failover_peers)
        unusable = {p: ("is not a region of the fleet" if p not in known else why)
                    for p, why in outcome.unusable_peers.items()}
        unchecked = [p for p in region.failover_peers if p in known and p not in demands]
        outcomes[region.name] = replace(
            outcome, unusable_peers=unusable,
            unchecked=f"peer {', '.join(unchecked)} was not checked in this run" if unchecked else None)
    return outcomes


# --- the capacity table ----------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityRow:
    """One line of the capacity table: a region's demand on one quota."""

    region: str  # region name, or "fleet" for totals
    quota_name: str  # family as Azure spells it, REGIONAL or SPOT
    kind: str  # "family" | "regional" | "spot"
    gpu_models: tuple[str, ...]
    max_gpus: int
    max_vcpus: int
    quota: int | None
    headroom_after_failover: int | None = None

    @property
    def used_pct(self) -> float | None:
        if self.quota is None:
            return None
        if self.quota == 0:
            return None if self.max_vcpus else 0.0
        return 100.0 * self.max_vcpus / self.quota

    @property
    def fits(self) -> bool | None:
        return None if self.quota is None else self.max_vcpus <= self.quota

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region, "quota": self.quota_name, "kind": self.kind,
            "gpuModels": list(self.gpu_models), "maxGpus": self.max_gpus, "maxVCpus": self.max_vcpus,
            "limit": self.quota, "usedPercent": None if self.used_pct is None else round(self.used_pct, 1),
            "headroomAfterFailover": self.headroom_after_failover,
        }


@dataclass(frozen=True)
class CapacityTable:
    rows: tuple[CapacityRow, ...]
    totals: tuple[CapacityRow, ...]
    notes: tuple[str, ...] = ()
    quota_source: str = "fleet file"  # or "live"

    def to_dict(self) -> dict[str, Any]:
        return {"quotaSource": self.quota_source, "rows": [r.to_dict() for r in self.rows],
                "totals": [r.to_dict() for r in self.totals], "notes": list(self.notes)}


def capacity_table(view: FleetView, *, quota_source: str = "fleet file") -> CapacityTable:
    """Per region and quota: max GPUs, max vCPUs, the quota, % used and the headroom left after
    the region absorbs its share of the worst single-region failure it is a peer for; then
    fleet totals per family. Regions are in fleet order, families by name."""
    demands = _demands(view)
    outcomes = failover_outcomes(view)
    rows: list[CapacityRow] = []
    notes: list[str] = []
    for region in view.fleet.regions:
        demand = demands.get(region.name)
        if demand is None:
            continue
        rows.extend(_region_rows(region, demand, outcomes))
        for g in demand.groups:
            if g.vm is None and g.role == "worker":
                size = f"VM size {g.vm_size_name!r} is unknown" if g.vm_size_name else "it selects no VM size"
                notes.append(f"{region.name}: {g.label}: {size}; counted by CPU requests only")
            if g.unbounded:
                notes.append(f"{region.name}: {g.label} sets no maxReplicas; counted at {g.max_pods} pods")
    return CapacityTable(tuple(rows), tuple(_totals(rows)), tuple(notes), quota_source)


def _region_rows(region: Region, demand: RegionDemand, outcomes: Mapping[str, FailoverOutcome]) -> list[CapacityRow]:
    quota = region.quota
    families = quota_families(quota) if quota is not None else {}
    taken_worst: dict[tuple[str, bool], int] = {}
    for outcome in outcomes.values():
        if region.name not in outcome.peers:
            continue
        for key, vcpus in outcome.vcpus_taken(region.name).items():
            taken_worst[key] = max(taken_worst.get(key, 0), vcpus)

    def headroom(limit: int | None, used: int, key: tuple[str, bool]) -> int | None:
        return None if limit is None else limit - used - taken_worst.get(key, 0)

    rows: list[CapacityRow] = []
    names = dict(demand.family_names)
    used = dict(demand.family_vcpus)
    for outcome in outcomes.values():  # families this region would host for a lost peer
        for a in outcome.groups:
            vm = a.group.vm
            if vm is not None and not a.group.spot and a.placed.get(region.name):
                names.setdefault(vm.family_key, vm.family)
                used.setdefault(vm.family_key, 0)
    for key, vcpus in sorted(used.items(), key=lambda kv: names[kv[0]].lower()):
        groups = demand.in_family(key)
        limit = families.get(key, 0) if quota is not None else None
        rows.append(CapacityRow(region.name, names[key], "family", _models(groups), sum(g.gpus for g in groups),
                                vcpus, limit, headroom(limit, vcpus, (key, False))))
    on_demand = [g for g in demand.groups if not g.spot]
    regional = quota.regional_vcpus if quota is not None else None
    rows.append(CapacityRow(region.name, REGIONAL, "regional", _models(on_demand), sum(g.gpus for g in on_demand),
                            demand.regional_vcpus, regional,
                            headroom(regional, demand.regional_vcpus, (REGIONAL, False))))
    spot_groups = [g for g in demand.groups if g.spot]
    spot_limit = quota.spot_vcpus if quota is not None else None
    if spot_groups or spot_limit is not None:
        rows.append(CapacityRow(region.name, SPOT, "spot", _models(spot_groups), sum(g.gpus for g in spot_groups),
                                demand.spot_vcpus, spot_limit, headroom(spot_limit, demand.spot_vcpus, (SPOT, True))))
    return rows


def _models(groups: Iterable[GroupDemand]) -> tuple[str, ...]:
    return tuple(sorted({g.vm.gpu_model for g in groups if g.vm is not None and g.vm.gpu_model and g.gpus}))


def _totals(rows: list[CapacityRow]) -> list[CapacityRow]:
    merged: dict[tuple[str, str], list[CapacityRow]] = {}
    for row in rows:
        key = (row.kind, normalise_family(row.quota_name) if row.kind == "family" else row.kind)
        merged.setdefault(key, []).append(row)
    totals: list[CapacityRow] = []
    order = {"family": 0, "regional": 1, "spot": 2}
    for (kind, _), items in sorted(merged.items(), key=lambda kv: (order[kv[0][0]], kv[1][0].quota_name.lower())):
        quotas = [r.quota for r in items]  # headroom after failover is per region: no fleet total
        totals.append(CapacityRow(
            "fleet", items[0].quota_name, kind, tuple(sorted({m for r in items for m in r.gpu_models})),
            sum(r.max_gpus for r in items), sum(r.max_vcpus for r in items),
            None if any(q is None for q in quotas) else sum(q for q in quotas if q is not None)))
    return totals


# --- quotas from elsewhere -------------------------------------------------------------------


def with_quotas(view: FleetView, quotas: Mapping[str, Quota]) -> FleetView:
    """The same view with some regions' quota replaced (e.g. by the live figures from Azure)."""
    from .policies.base import FleetView

    regions = tuple(replace(r, quota=quotas[r.name]) if r.name in quotas else r for r in view.fleet.regions)
    fleet = replace(view.fleet, regions=regions)
    by_name = {r.name: r for r in regions}
    releases = {name: replace(rel, region=by_name.get(name, rel.region), fleet=fleet, _by_kind=None)
                for name, rel in view.releases.items()}
    return FleetView(fleet, releases)



# --- one run: table + capacity findings ------------------------------------------------------

CAPACITY_POLICIES = ("unknown-vm-size", "gpu-quota-fit", "failover-headroom")


def check_capacity(view: FleetView, *, quota_source: str = "fleet file",
                   quota_origins: Mapping[str, str] | None = None) -> tuple[Result, CapacityTable]:
    """The capacity policies over ``view`` (``unknown-vm-size`` per region, then ``gpu-quota-fit``
    and ``failover-headroom``) and the capacity table, as the ``quota`` command shows them.

    ``quota_origins`` (region → e.g. the usages URL the live quota came from) replaces the
    fleet-file line that the region's quota findings point to. Waivers in the fleet file apply. The table is also in
    ``result.extra["capacity"]`` (JSON report ``data.capacity``).
    """
    from .checks import run_fleet_policies, run_release_policies
    from .findings import SourceLocation
    from .policies import get_policy
    from .result import RegionSummary, Result
    from .waivers import apply_waivers

    policies = tuple(get_policy(p) for p in CAPACITY_POLICIES)
    result = Result(command="quota", policies=policies)
    for name, release in view.releases.items():
        result.findings.extend(run_release_policies(release, policies))
        result.regions.append(RegionSummary(name, len(release.objects)))
    fleet_findings = run_fleet_policies(view, policies)
    if quota_origins:
        fleet_findings = [replace(f, source=SourceLocation(quota_origins[f.region]))
                          if f.policy == "gpu-quota-fit" and f.obj is None and f.region in quota_origins else f
                          for f in fleet_findings]
    result.findings.extend(fleet_findings)
    result.findings = apply_waivers(view.fleet, result.findings, regions=list(view.releases),
                                    checked=CAPACITY_POLICIES)
    table = capacity_table(view, quota_source=quota_source)
    result.extra["capacity"] = table.to_dict()
    result.notes.extend(table.notes)
    result.notes.append(f"quota from the {quota_source}" if quota_source == "fleet file"
                        else f"quota: {quota_source}")
    return result, table
