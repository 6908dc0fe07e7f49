"""Arc members: Azure Arc-enabled clusters whose capacity is a declared GPU inventory.

An Arc cluster (on premises or in another cloud) has GPUs but no Azure VM quota. Its fleet file
entry declares its node pools instead (``inventory.nodePools``), each either a VM size the nodes
match (``vmSize``, from the catalogue or ``vmSizes``) or an explicit shape (``gpus``, ``vcpus``
and the nodes' ``instanceType`` label). At load time the inventory becomes the region's ``Quota``
(vCPUs per family, the total, no spot), so quota fit, failover headroom, the capacity table and
``status`` count it as they count Azure quota. Explicit shapes join the fleet's VM sizes under
their instance type, so pods selecting them are sized like any other node.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .errors import InputError
from .quotas import Quota
from .vm_sizes import VmSize, VmSizeSpec, lookup_vm_size, vm_catalogue

if TYPE_CHECKING:
    from .fleet import Fleet, NodePool, Region
    from .yamlio import LoadedDocument

CONNECTED_CLUSTERS_API_VERSION = "2024-07-15-preview"  # the first with properties.oidcIssuerProfile


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


def pool_size(pool: NodePool, fleet: Fleet) -> VmSize | None:
    """The VM size a pool's nodes count as (None when unknown or the pool is malformed)."""
    if pool_problem(pool):
        return None
    return lookup_vm_size(pool.vm_size or pool.instance_type or pool.name, fleet)


def inventory_gpus(region: Region, fleet: Fleet) -> int:
    """GPUs in a region's declared inventory (pools that cannot be counted count none)."""
    total = 0
    for pool in region.inventory or ():
        size = pool_size(pool, fleet)
        total += pool.count * size.gpus if size else 0
    return total


def with_inventory_quotas(regions: list[Region], vm_sizes: dict[str, VmSizeSpec], document: LoadedDocument,
                          shown: str) -> tuple[list[Region], dict[str, VmSizeSpec]]:
    """Regions with each Arc member's inventory as its quota, and the VM sizes with the explicit
    shapes added. Raises ``InputError`` for an inventory on an AKS region, a quota on an Arc
    member, or an explicit shape that reuses a known VM size name."""
    sizes = dict(vm_sizes)
    out: list[Region] = []
    for index, region in enumerate(regions):
        where = ("regions", index)
        if region.inventory is not None and not region.cluster.is_arc:
            raise InputError("inventory is for Arc members (cluster.kind: arc); an AKS region declares quota",
                             file=shown, line=document.line_of((*where, "inventory")),
                             field=f"regions[{index}].inventory")
        if not region.cluster.is_arc:
            out.append(region)
            continue
        if region.quota is not None:
            raise InputError("an Arc member has no Azure quota: declare its GPU node pools under inventory",
                             file=shown, line=document.line_of((*where, "quota")), field=f"regions[{index}].quota")
        for p_index, pool in enumerate(region.inventory or ()):
            if not is_explicit(pool):
                continue
            name = pool.instance_type or pool.name
            taken = {n.lower() for n in sizes} | set(vm_catalogue())
            if name.lower() in taken:
                raise InputError(f"instance type {name!r} is already a VM size; use vmSize: {name} instead of "
                                 "an explicit shape", file=shown,
                                 line=document.line_of((*where, "inventory", "nodePools", p_index)),
                                 field=f"regions[{index}].inventory.nodePools[{p_index}]")
            assert pool.vcpus is not None and pool.gpus is not None
            sizes[name] = VmSizeSpec(pool.vcpus, pool.gpus, shape_family(region.name, pool), pool.memory_gib,
                                     pool.gpu_model)
        out.append(replace(region, quota=_quota(region, sizes)) if region.inventory is not None else region)
    return out, sizes


def _quota(region: Region, sizes: dict[str, VmSizeSpec]) -> Quota:
    families: dict[str, int] = {}
    total = 0
    by_name = {n.lower(): s for n, s in sizes.items()}
    for pool in region.inventory or ():
        if pool_problem(pool):
            continue
        key = (pool.vm_size or pool.instance_type or pool.name).lower()
        spec = by_name.get(key) or vm_catalogue().get(key)
        if spec is None:
            continue  # arc-gpu-inventory reports it
        families[spec.family] = families.get(spec.family, 0) + pool.count * spec.vcpus
        total += pool.count * spec.vcpus
    return Quota(families, total, 0)  # no spot capacity on a cluster the fleet owns outright
