"""Arc members: Azure Arc-enabled clusters whose capacity is a declared GPU inventory.

An Arc cluster (on premises or in another cloud) has GPUs but no Azure VM quota. Its fleet file
entry declares its node pools instead (``inventory.nodePools``), each either a VM size the nodes
match (``vmSize``, from the catalogue or ``vmSizes``) or an explicit shape (``gpus``, ``vcpus``
and the nodes' ``instanceType`` label). At load time (``rayfleet.fleet``) the inventory becomes the region's ``Quota``
(vCPUs per family, the total, no spot), so quota fit, failover headroom, the capacity table and
``status`` count it as they count Azure quota. Explicit shapes join the fleet's VM sizes under
their instance type, so pods selecting them are sized like any other node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .vm_sizes import HasVmSizes, VmSize, lookup_vm_size

CONNECTED_CLUSTERS_API_VERSION = "2024-07-15-preview"  # the first with properties.oidcIssuerProfile


@dataclass(frozen=True)
class NodePool:
    """One pool of an Arc member's declared GPU inventory: a VM size, or an explicit shape."""

    name: str
    count: int
    vm_size: str | None = None
    gpus: int | None = None
    vcpus: int | None = None
    memory_gib: float | None = None
    gpu_model: str | None = None
    instance_type: str | None = None


def shape_family(region: str, pool: NodePool) -> str:
    """The quota family of an explicit shape: its own, so only the same pool shape absorbs it."""
    return f"arc {region} {pool.name}"


def is_explicit(pool: NodePool) -> bool:
    return pool.vm_size is None and pool.gpus is not None and pool.vcpus is not None


def pool_problem(pool: NodePool) -> str | None:
    """Why a pool cannot be counted (None when it can)."""
    if pool.vm_size is not None and (pool.gpus is not None or pool.vcpus is not None):
        return "sets both vmSize and an explicit shape (gpus/vcpus); give one"
    if pool.vm_size is None and (pool.gpus is None or pool.vcpus is None):
        return "declares neither vmSize nor both gpus and vcpus, so its nodes cannot be counted"
    return None


def pool_size(pool: NodePool, fleet: HasVmSizes) -> VmSize | None:
    """The VM size a pool's nodes count as (None when unknown or the pool is malformed)."""
    if pool_problem(pool):
        return None
    return lookup_vm_size(pool.vm_size or pool.instance_type or pool.name, fleet)


def inventory_gpus(pools: Iterable[NodePool] | None, fleet: HasVmSizes) -> int:
    """GPUs in a region's declared inventory (pools that cannot be counted count none)."""
    total = 0
    for pool in pools or ():
        size = pool_size(pool, fleet)
        total += pool.count * size.gpus if size else 0
    return total
