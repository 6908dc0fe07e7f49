"""``rayfleet plan --lose REGION``: what MultiKueue does with the remaining quota when a worker is lost.

After ``workerLostTimeout`` MultiKueue evicts the jobs the lost worker held, requeues them on the
manager and dispatches them again to the workers still connected (in dispatch order with the
Incremental dispatcher). A requeued job is admitted on a worker only within that worker's own
ClusterQueue quota (the worker's queue is shared with new jobs), while the manager, whose quota
still counts the lost worker, keeps admitting up to the old total. From the rendered objects and
the fleet file this works out, per GPU flavor:

* the lost worker's queue quota (the most it was running), the remaining workers' quotas in
  dispatch order, and what the manager would still admit that no worker can run;
* how many more GPUs of the flavor's VM size each remaining worker's Azure quota leaves beyond
  its own queue and RayCluster (``capacity.spare_quota``, the queue counted as nodes of its
  flavor's worker group): room to raise its queue quota;
* for queued RayJobs given with ``--jobs``: which remaining workers' queues can ever admit each one
  (a flavor with that much GPU quota, whose node pool's VM size holds each of the job's GPU pods).

Flavor names are fleet-wide but a flavor is each region's own node pool, so the same flavor can be
an H100 pool in one region and a T4 pool in another: the VM sizes are shown per worker.

The lost region's own RayCluster is re-placed with the failover model
(``capacity.failover_outcome``), the remaining workers standing in as peers in dispatch order,
their queues counted as used. Both draw on the same spare quota: the room shown is before either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .capacity import (
    FailoverOutcome,
    RegionDemand,
    VmSize,
    failover_outcome,
    group_demand,
    region_demand,
    spare_quota,
)
from .errors import InputError
from .kueue import GPU, QUEUE_LABEL, dispatching_queues, queue_targets, scheduling_queue_keys
from .manifests import KubeObject
from .subjects import FleetView, ReleaseObjects
from .workloads import PodTemplate, find_pod_templates, ray_cluster_specs


@dataclass(frozen=True)
class WorkerShare:
    worker: str
    quota: float  # its queue's GPU quota in this flavor
    room: int | None  # GPUs of the flavor's VM size its Azure quota leaves beyond queue and RayCluster
    vm_size: str | None = None  # the flavor's node pool there (flavor names are fleet-wide, VM sizes are not)


@dataclass(frozen=True)
class FlavorLoss:
    flavor: str
    vm_size: str | None
    lost: float  # the lost worker's GPU quota in this flavor
    manager: float | None  # the manager's GPU quota in this flavor
    remaining: tuple[WorkerShare, ...]  # dispatch order

    @property
    def remaining_quota(self) -> float:
        return sum(s.quota for s in self.remaining)

    @property
    def stranded(self) -> float:
        """GPUs the manager still admits that no remaining worker's queue can hold."""
        return max((self.manager or 0.0) - self.remaining_quota, 0.0)

    def placement(self) -> tuple[list[tuple[str, int]], int]:
        """The lost GPUs placed into the remaining workers' Azure room, in dispatch order: (worker,
        GPUs) and the GPUs left over."""
        left = math.ceil(self.lost)
        placed = []
        for share in self.remaining:
            if left <= 0 or not share.room:
                continue
            take = min(left, share.room)
            placed.append((share.worker, take))
            left -= take
        return placed, left


@dataclass(frozen=True)
class JobFit:
    namespace: str
    name: str
    queue: str | None
    gpus: int  # the whole job: head and every worker group at its size
    largest_pod: int
    fits: tuple[str, ...]  # remaining workers whose queue can ever admit it, dispatch order


@dataclass(frozen=True)
class RegionLoss:
    lost: str
    manager: str
    mode: str
    order: tuple[str, ...]  # remaining workers, dispatch order
    timeout: str
    flavors: tuple[FlavorLoss, ...]
    failover: FailoverOutcome | None
    jobs: tuple[JobFit, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _gpu_quotas(release: ReleaseObjects, keys: list[tuple[str, str]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for cq in queue_targets(release, keys).values():
        for q in cq.quotas:
            if q.resource == GPU and q.value:
                out[q.flavor] = out.get(q.flavor, 0.0) + q.value
    return out


def _with_queue(demand: RegionDemand, queue: dict[str, float]) -> RegionDemand:
    """The region's demand with its queue's GPU quota added to the node pool of each flavor (a
    flavor is its worker group's pool): what its Azure quota must hold at full load."""
    groups = []
    for g in demand.groups:
        gpus = queue.get(g.group, 0.0) if g.role == "worker" and g.vm is not None and g.vm.gpus else 0.0
        if gpus and g.vm is not None:
            nodes = math.ceil(gpus / g.vm.gpus)
            g = replace(g, nodes=g.nodes + nodes, vcpus=g.vcpus + nodes * g.vm.vcpus)
        groups.append(g)
    return RegionDemand(demand.region, tuple(groups))


def _room(region_quota: Any, loaded: RegionDemand) -> dict[str, int]:
    """Flavor -> GPUs of its VM size the Azure quota leaves beyond the queue and the RayCluster."""
    if region_quota is None:
        return {}
    spare = spare_quota(loaded, region_quota)
    return {g.group: spare.nodes_fitting(g.vm, g.spot) * g.vm.gpus
            for g in loaded.groups if g.role == "worker" and g.vm is not None and g.vm.gpus}


def _job_gpus(obj: KubeObject) -> tuple[int, int]:
    """(GPUs of the whole job at its largest size, GPUs of its largest pod), by the capacity model."""
    if not any(True for _ in ray_cluster_specs(obj)):
        return 0, 0
    groups = [group_demand(pod) for pod in find_pod_templates(obj) if pod.role in ("head", "worker")]
    return sum(g.gpus for g in groups), max((g.gpus_per_pod for g in groups), default=0)


def _request(pod: PodTemplate, resource: str) -> float:
    """A pod's request of ``resource``, as the scheduler counts it (``PodTemplate.resource``)."""
    return pod.resource(resource)


def _gpu_pods(obj: KubeObject) -> list[PodTemplate]:
    return [p for p in find_pod_templates(obj) if p.role == "worker" and _request(p, GPU) > 0]


def _fits(pod: PodTemplate, vm: VmSize) -> bool:
    """Whether one pod fits on one node of ``vm`` (GPUs, vCPUs, memory, nominal figures)."""
    memory = _request(pod, "memory") / 2**30
    return (_request(pod, GPU) <= vm.gpus and _request(pod, "cpu") <= vm.vcpus
            and (vm.memory_gib is None or memory <= vm.memory_gib))


def region_loss(view: FleetView, lost: str, jobs: Sequence[KubeObject] = ()) -> RegionLoss:
    """What losing worker ``lost`` means for the fleet's queues (see the module doc)."""
    fleet = view.fleet
    if fleet.scheduling is None or fleet.manager is None:
        raise InputError("--lose needs a fleet with a scheduling section (a MultiKueue manager and workers)",
                         file=str(fleet.path))
    region = fleet.region(lost)
    if region.role == "manager":
        raise InputError(f"{lost} is the MultiKueue manager: losing it stops new dispatch, while the workers keep "
                         "running what they admitted (docs/scheduling.md, manager loss)", file=str(fleet.path))
    keys = scheduling_queue_keys(fleet)
    missing = [r.name for r in fleet.regions if r.name not in view.releases or not view.releases[r.name].objects]
    if missing:
        raise InputError(f"region {missing[0]} did not render; run `rayfleet validate {fleet.path}` first",
                         file=str(fleet.path))
    remaining = [w for w in fleet.scheduling.order if w != lost]
    notes: list[str] = []
    manager_release = view.releases[fleet.manager.name]
    manager_quota: dict[str, float] = {}
    for cq in dispatching_queues(manager_release):
        for q in cq.quotas:
            if q.resource == GPU and q.value:
                manager_quota[q.flavor] = manager_quota.get(q.flavor, 0.0) + q.value
    queues = {r.name: _gpu_quotas(view.releases[r.name], keys) for r in fleet.workers}
    own = {r.name: region_demand(view.releases[r.name]) for r in fleet.workers}
    demands = {name: _with_queue(demand, queues[name]) for name, demand in own.items()}
    rooms = {r.name: _room(r.quota, demands[r.name]) for r in fleet.workers}
    vms = {name: {g.group: g.vm for g in d.groups if g.role == "worker" and g.vm is not None and g.vm.gpus}
           for name, d in own.items()}
    flavors = []
    for flavor in dict.fromkeys([*queues[lost], *manager_quota]):
        shares = tuple(WorkerShare(w, queues[w].get(flavor, 0.0), rooms[w].get(flavor),
                                   vms[w][flavor].name if flavor in vms[w] else None) for w in remaining)
        lost_vm = vms[lost].get(flavor)
        flavors.append(FlavorLoss(flavor, lost_vm.name if lost_vm else None, queues[lost].get(flavor, 0.0),
                                  manager_quota.get(flavor), shares))
    if not queues[lost]:
        notes.append(f"{lost} has no GPU quota in the shared queues: losing it does not change what is dispatched")
    quotas = {r.name: r.quota for r in fleet.regions}
    # the lost RayCluster (at its own max, without the queue) into what queues and RayClusters leave
    failover = failover_outcome(lost, {**demands, lost: own[lost]}, quotas, remaining) if own[lost].gpus else None
    fits = []
    for obj in jobs:
        if obj.kind != "RayJob":
            continue
        labels = obj.metadata.get("labels") if isinstance(obj.metadata.get("labels"), dict) else {}
        gpus, largest = _job_gpus(obj)
        pods = _gpu_pods(obj)
        where = tuple(w for w in remaining if any(
            q >= gpus > 0 and (flavor not in vms[w] or all(_fits(pod, vms[w][flavor]) for pod in pods))
            for flavor, q in queues[w].items()))
        fits.append(JobFit(obj.namespace or "default", obj.name, labels.get(QUEUE_LABEL), gpus, largest, where))
    return RegionLoss(lost, fleet.manager.name, fleet.scheduling.dispatch_mode, tuple(remaining),
                      fleet.scheduling.worker_lost_timeout, tuple(flavors), failover, tuple(fits), tuple(notes))
