"""The fleet file's ``scheduling:`` section and region roles (Kueue MultiKueue).

One region has ``role: manager``: a small CPU-only cluster that holds the queues users submit to
and dispatches each job to a worker region. Every other region is a worker (the default). The
rules here are the ones a fleet file can break on its own, before anything is rendered; they
raise ``InputError`` (exit 2) naming the file, line and field. What only the rendered objects
show (the manager renders GPU worker groups, quotas disagree) is for the ``kueue-*`` policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import InputError
from .quotas import Quota
from .vm_sizes import VmSizeSpec, normalise_family, vm_catalogue
from .yamlio import LoadedDocument

MANAGER, WORKER = "manager", "worker"
KUEUE_NAMESPACE = "kueue-system"
KUEUE_SERVICE_ACCOUNT = "kueue-controller-manager"  # the Kueue chart's controller ServiceAccount


class HasRole(Protocol):
    """What the role rules read of a ``rayfleet.fleet.Region`` (which is built from these rules' results)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def quota(self) -> Quota | None: ...
    @property
    def failover_peers(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Queue:
    """A LocalQueue users submit to (the same on the manager and every worker)."""

    name: str
    namespace: str


@dataclass(frozen=True)
class Scheduling:
    engine: str
    queues: tuple[Queue, ...]
    dispatch_mode: str  # Incremental | AllAtOnce
    order: tuple[str, ...]  # worker preference: the fleet file's dispatch.order or the regions' order
    order_given: bool  # whether dispatch.order is written in the fleet file
    worker_lost_timeout: str = "15m"


def parse_scheduling(raw: dict[str, Any] | None, regions: Sequence[HasRole]) -> Scheduling | None:
    """The section as a value (already schema-checked); None when the fleet has none."""
    if raw is None:
        return None
    dispatch = raw.get("dispatch", {})
    workers = tuple(r.name for r in regions if r.role == WORKER)
    return Scheduling(
        engine=raw["engine"],
        queues=tuple(Queue(q["name"], q["namespace"]) for q in raw["queues"]),
        dispatch_mode=dispatch.get("mode", "AllAtOnce"),
        order=tuple(dispatch["order"]) if "order" in dispatch else workers,
        order_given="order" in dispatch,
        worker_lost_timeout=raw.get("workerLostTimeout", "15m"),
    )


def gpu_families(vm_sizes: dict[str, VmSizeSpec]) -> set[str]:
    """Normalised quota families that hold GPU VM sizes (catalogue and the fleet's ``vmSizes``)."""
    families = {vm.family_key for vm in vm_catalogue().values() if vm.gpus > 0}
    families |= {normalise_family(spec.family) for spec in vm_sizes.values() if spec.gpus > 0}
    return families


def check_roles(data: dict[str, Any], regions: Sequence[HasRole], scheduling: Scheduling | None,
                vm_sizes: dict[str, VmSizeSpec], document: LoadedDocument) -> None:
    """Exactly one CPU-only manager when there is a scheduling section, none without; a dispatch
    order that names every worker once and nothing else. Raises ``InputError``."""
    def error(message: str, *path: str | int) -> InputError:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return InputError(message, file=document.path, line=document.line_of(tuple(path)), field=field)

    managers = [i for i, r in enumerate(regions) if r.role == MANAGER]
    if scheduling is None:
        if managers:
            raise error("a region with role manager needs a top-level scheduling section "
                        "(engine: multikueue and the queues users submit to)", "regions", managers[0], "role")
        return
    if not managers:
        raise error("the fleet needs exactly one region with role: manager (the CPU-only cluster "
                    "that holds the queues); none has it", "scheduling")
    if len(managers) > 1:
        first = regions[managers[0]].name
        raise error(f"a second manager: only one region may have role manager, and {first!r} already has it",
                    "regions", managers[1], "role")
    index = managers[0]
    manager = regions[index]
    if not any(r.role == WORKER for r in regions):
        raise error("scheduling needs at least one worker region (role: worker, the default) besides the manager",
                    "regions", index, "role")
    if manager.quota is not None:
        gpu = gpu_families(vm_sizes)
        for name, vcpus in manager.quota.families.items():
            if vcpus and normalise_family(name) in gpu:
                raise error(f"the manager {manager.name!r} declares GPU quota ({name}: {vcpus} vCPUs); the "
                            "manager is a CPU-only cluster that only queues and dispatches jobs, so give GPU "
                            "quota to a worker region", "regions", index, "quota", "families", name)
    if manager.failover_peers:
        raise error(f"the manager {manager.name!r} declares failover peers; it runs no GPU work to fail over",
                    "regions", index, "failoverPeers")
    for i, region in enumerate(regions):
        if manager.name in region.failover_peers:
            raise error(f"names the manager {manager.name!r} as a failover peer; the manager runs no Ray "
                        "jobs, MultiKueue dispatches them to workers only", "regions", i, "failoverPeers")
    _check_order(scheduling, regions, manager.name, data, error)
    _check_queues(scheduling, error)


def _check_order(scheduling: Scheduling, regions: Sequence[HasRole], manager: str, data: dict[str, Any],
                 error: Any) -> None:
    if not scheduling.order_given:
        return
    known = {r.name for r in regions}
    workers = [r.name for r in regions if r.role == WORKER]
    seen: set[str] = set()
    for i, name in enumerate(scheduling.order):
        where = ("scheduling", "dispatch", "order", i)
        if name == manager:
            raise error(f"names the manager {manager!r}: the manager is not its own worker; list worker "
                        "regions only", *where)
        if name not in known:
            raise error(f"names {name!r}, which is not a region of the fleet (workers: {', '.join(workers)})",
                        *where)
        if name in seen:
            raise error(f"names {name!r} twice", *where)
        seen.add(name)
    missing = [w for w in workers if w not in seen]
    if missing:
        raise error(f"misses worker region{'s' if len(missing) > 1 else ''} {', '.join(missing)}: every "
                    "worker is listed once (docs/scheduling.md: how to take a region out of dispatch)",
                    "scheduling", "dispatch", "order")


def _check_queues(scheduling: Scheduling, error: Any) -> None:
    seen: set[tuple[str, str]] = set()
    for i, queue in enumerate(scheduling.queues):
        key = (queue.namespace, queue.name)
        if key in seen:
            raise error(f"queue {queue.namespace}/{queue.name} is listed twice", "scheduling", "queues", i)
        seen.add(key)
