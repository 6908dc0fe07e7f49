"""The MultiKueue manager is a CPU-only cluster that dispatches and is not a worker for itself."""

from __future__ import annotations

from collections.abc import Iterator

from ..capacity import region_demand
from ..findings import Severity, Violation
from ..kueue import cluster_profiles, multikueue_clusters, multikueue_configs, region_label, scheduling_view
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    sv = scheduling_view(view)
    if sv is None:
        return
    release, manager = sv.manager_release, sv.manager.name
    for config in multikueue_configs(release).values():
        for index, cluster in enumerate(config.clusters):
            if cluster == manager:
                yield Violation(f"MultiKueueConfig {config.obj.name} lists the manager {manager!r} as a worker; "
                                "Kueue does not support a manager that is its own worker", obj=config.obj.ref,
                                path=f"spec.clusters[{index}]", value=cluster, region=manager)
    for mkc in multikueue_clusters(release).values():
        if mkc.name == manager:
            yield Violation(f"MultiKueueCluster {mkc.name} is named after the manager region: the manager would "
                            "dispatch to itself", obj=mkc.obj.ref, path="metadata.name", region=manager)
    for (_, name), profile in cluster_profiles(release).items():
        if region_label(profile) == manager or name == manager:
            yield Violation(f"ClusterProfile {name} describes the manager region {manager!r}: the manager is "
                            "not a worker, so it needs no ClusterProfile", obj=profile.ref, path="metadata",
                            region=manager)
    for group in region_demand(release).groups:
        if group.role == "worker" and group.gpus_per_pod > 0:
            yield Violation(f"{group.label} asks for GPUs ({group.gpus_per_pod} per pod) on the manager, a "
                            "CPU-only cluster that only queues and dispatches jobs", obj=group.obj,
                            path=group.path, region=manager)


POLICY = Policy(
    id="kueue-manager-not-worker",
    title="The MultiKueue manager is CPU-only and not its own worker",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "The manager holds the queues and decides where each job runs; Kueue does not support a manager that "
        "is also one of its own workers (roles cannot be shared yet, kueue#5704), and jobs it keeps would "
        "bypass the workers' quotas. It is a small CPU-only cluster: GPU worker groups rendered there ask for "
        "nodes that do not exist and quota the fleet never planned."
    ),
    remediation=(
        "Remove the manager region from the MultiKueueConfig, its MultiKueueCluster and ClusterProfile, and "
        "disable GPU worker groups (or the RayCluster) in the manager's values."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
        "https://github.com/kubernetes-sigs/kueue/issues/5704",
    ),
    check=check,
)
