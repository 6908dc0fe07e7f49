"""Ray pods plus their BlobFuse2 caches fit the node they run on.

In token (workload identity) mode every pod that mounts the volume gets its own blobfuse2 process
on the node, outside the pod's limits: a block cache reserves its whole memory pool, a file cache
fills up to its size on the node's temp disk (/mnt). So per node the pods' memory requests plus
one pool per pod must fit the node's allocatable memory, and one file cache per pod must fit the
temp disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..capacity.demand import group_demand
from ..findings import Severity, Violation
from ..quantities import parse_quantity
from ..workloads import PodTemplate
from ._helpers import BlobVolumeConfig, as_dict, blob_configs, is_blobfuse, mount_option_flags, where
from .base import Policy, ReleaseObjects, Scope

MIB = 2**20
GIB = 2**30
# AKS >= 1.29 reserves min(20 MiB x max pods + 50 MiB, 25% of memory) for kube-reserved, plus a
# 100 MiB eviction threshold. Max pods depends on the network plugin and the pool's settings (30
# to 250); 110 is assumed (docs/policies.md).
ASSUMED_MAX_PODS = 110
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def allocatable_memory(memory_gib: float, kube_version: str) -> float:
    """Bytes of a node's memory left for pods, by AKS's node resource reservation rules."""
    total = memory_gib * GIB
    if _minor(kube_version) >= 29:
        reserved = min(20 * MIB * ASSUMED_MAX_PODS + 50 * MIB, 0.25 * total)
        return total - reserved - 100 * MIB
    # Before 1.29: a regressive share (25% of the first 4 GiB, 20% of the next 4, 10% of the next
    # 8, 6% of the next 112, 2% above 128) and a 750 MiB eviction threshold.
    reserved, left = 0.0, total
    for size, share in ((4 * GIB, 0.25), (4 * GIB, 0.20), (8 * GIB, 0.10), (112 * GIB, 0.06), (float("inf"), 0.02)):
        step = min(left, size)
        reserved += step * share
        left -= step
        if left <= 0:
            break
    return total - reserved - 750 * MIB


def _minor(kube_version: str) -> int:
    match = re.match(r"^v?1\.(\d+)", str(kube_version))
    return int(match.group(1)) if match else 99


@dataclass(frozen=True)
class CacheSize:
    """One BlobFuse2 volume's cache per mount: block pool (memory) or file cache (disk), in bytes."""

    config: BlobVolumeConfig
    block_pool: float = 0.0
    file_cache: float = 0.0


def cache_size(config: BlobVolumeConfig) -> CacheSize | None:
    """The cache a mount takes, from the mount options (None when no size is set: blobfuse-cache-size
    reports that)."""
    values = {}
    for _, flag, raw in mount_option_flags(config.mount_options):
        word = next((w for w in raw.split() if w.split("=", 1)[0] == flag), "")
        values[flag] = word.split("=", 1)[1] if "=" in word else ""
    if "--block-cache" in values:
        pool = values.get("--block-cache-pool-size", "")
        return CacheSize(config, block_pool=float(pool) * MIB) if _NUMBER.match(pool) else None
    size = values.get("--cache-size-mb", "")
    return CacheSize(config, file_cache=float(size) * MIB) if _NUMBER.match(size) else None


def _pod_cache(release: ReleaseObjects, tpl: PodTemplate,
               configs: dict[tuple[str, str], BlobVolumeConfig]) -> CacheSize | None:
    """The BlobFuse2 cache of the blob volume a pod mounts through its PersistentVolumeClaim."""
    for _, volume in tpl.volumes():
        claim_name = as_dict(volume.get("persistentVolumeClaim")).get("claimName")
        claim = release.find("PersistentVolumeClaim", str(claim_name), tpl.obj.namespace) if claim_name else None
        if claim is None:
            continue
        spec = as_dict(claim.body.get("spec"))
        config = (configs.get(("PersistentVolume", str(spec.get("volumeName"))))
                  or configs.get(("StorageClass", str(spec.get("storageClassName")))))
        if config is not None:
            return cache_size(config)
    return None


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def check(release: ReleaseObjects) -> Iterator[Violation]:
    configs = {(c.obj.kind, c.obj.name): c for c in blob_configs(release) if is_blobfuse(c)}
    for tpl in release.pod_templates():
        if tpl.role not in ("head", "worker"):
            continue
        cache = _pod_cache(release, tpl, configs)
        if cache is None:
            continue
        demand = group_demand(tpl, release.fleet)
        vm = demand.vm
        if vm is None or demand.problem:
            continue  # unknown-vm-size / the capacity model report these
        pods = max(1, min(demand.pods_per_node, demand.max_pods))  # a group never packs more than it has
        per = "per pod" if pods == 1 else f"per pod, {pods} pods per node"
        source = f"{cache.config.obj.kind} {cache.config.obj.name!r}"
        if cache.block_pool and vm.memory_gib:
            requests = sum(parse_quantity(as_dict(as_dict(c.get("resources")).get("requests")).get("memory")) or 0.0
                           for c, _ in tpl.containers())
            need = pods * (requests + cache.block_pool)
            free = allocatable_memory(vm.memory_gib, release.kube_version)
            if need > free:
                yield Violation(
                    f"{where(tpl)} on {vm.name}: memory requests {_gib(requests)} + BlobFuse2 block-cache pool "
                    f"{_gib(cache.block_pool)} ({source}) {per} need {_gib(need)}, but the node has about "
                    f"{_gib(free)} allocatable", obj=tpl.obj.ref, path=tpl.at("containers"))
        if cache.file_cache and vm.temp_disk_gib:
            need = pods * cache.file_cache
            if need > vm.temp_disk_gib * GIB:
                yield Violation(
                    f"{where(tpl)} on {vm.name}: BlobFuse2 file cache {_gib(cache.file_cache)} ({source}) {per} "
                    f"needs {_gib(need)} on the temp disk (/mnt), which holds {vm.temp_disk_gib:g} GiB",
                    obj=tpl.obj.ref, path=tpl.at("volumes"))


POLICY = Policy(
    id="blobfuse-cache-fits-node",
    title="Ray pods and their BlobFuse2 caches fit the node",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "With workload-identity token mounts each pod that mounts the blob volume runs its own blobfuse2 "
        "on the node, outside the pod's limits. A block cache reserves its whole memory pool up front, so "
        "a worker sized to the node plus its pool overcommits the node and the kernel kills Ray or "
        "blobfuse2 (node OOM, I/O errors on the mount). A file cache larger than the temp disk fails "
        "opens with ENOSPC. VM memory and temp disk come from the VM size catalogue; allocatable memory "
        f"follows AKS's reservations (max pods {ASSUMED_MAX_PODS} assumed)."
    ),
    remediation=(
        "Lower the pod's memory request or blob-storage.cache.blockCachePoolSizeMb so that requests + pool "
        "fit the node's allocatable memory; or lower cache.fileCacheSizeMb below the temp disk; or pick a "
        "bigger VM size."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/node-resource-reservations",
        "https://github.com/Azure/azure-storage-fuse/blob/main/TSG.md",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
    ),
    check=check,
)
