"""Every Ray worker group runs on a VM size the capacity model knows."""

from __future__ import annotations

from collections.abc import Iterator

from ..capacity.catalogue import lookup_vm_size
from ..capacity.demand import selected_vm_sizes
from ..findings import Severity, Violation
from ..workloads import ray_cluster_specs
from .base import Policy, Reads, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.objects:
        if not any(True for _ in ray_cluster_specs(obj)):
            continue
        for pod in release.templates_of(obj):
            if pod.role != "worker":
                continue
            names, path = selected_vm_sizes(pod)
            if not names:
                if pod.gpus > 0:
                    yield Violation(
                        f"{pod.description} asks for GPUs but selects no VM size (no "
                        "node.kubernetes.io/instance-type nodeSelector), so its quota cannot be checked",
                        obj=obj.ref, path=pod.at("nodeSelector"), severity=Severity.WARNING)
                continue
            for name in names:
                if lookup_vm_size(name, release.fleet) is None:
                    yield Violation(
                        f"{pod.description} runs on VM size {name!r}, which is neither in rayfleet's "
                        "catalogue nor in the fleet file's vmSizes (a typo?), so the GPU quota and failover "
                        "checks cannot count it",
                        obj=obj.ref, path=path or "", value=name)


POLICY = Policy(
    id="unknown-vm-size",
    title="Ray worker groups run on VM sizes the capacity model knows",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The GPU quota and failover checks turn each worker group's maxReplicas into nodes and vCPUs "
        "of its VM size, read from the node.kubernetes.io/instance-type nodeSelector. A size rayfleet "
        "does not know (a typo, or a size newer than its catalogue), or a GPU group that selects no "
        "size at all, is left out of those checks, so a quota problem would go unnoticed. An unknown size "
        "is an error (a typo would otherwise switch the quota check off in silence); a GPU group that "
        "selects no size is a warning."
    ),
    remediation=(
        "Fix the VM size name, or describe the size under vmSizes in the fleet file (vcpus, gpus, family); "
        "give GPU worker groups a vmSize so the node.kubernetes.io/instance-type nodeSelector is rendered."
    ),
    check=check,
    references=("https://learn.microsoft.com/azure/virtual-machines/sizes/overview",),
    reads=frozenset({Reads.CAPACITY}),
)
