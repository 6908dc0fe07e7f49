"""Ray objects submitted to a Kueue queue stay within what Kueue (and MultiKueue) supports."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..kueue import QUEUE_LABEL
from ..workloads import RAY_GROUP, ray_cluster_specs
from .base import Policy, ReleaseObjects, Scope

MAX_WORKER_GROUPS = 17  # Kueue: one PodSet per group, the head plus at most 17 worker groups (18 PodSets)


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.objects:
        if obj.group != RAY_GROUP or obj.kind not in ("RayJob", "RayCluster", "RayService"):
            continue
        labels = obj.metadata.get("labels")
        queue = labels.get(QUEUE_LABEL) if isinstance(labels, dict) else None
        if not queue:
            continue
        spec = obj.body.get("spec") if isinstance(obj.body.get("spec"), dict) else {}
        if obj.kind == "RayJob":
            if spec.get("shutdownAfterJobFinishes") is not True:
                yield Violation(f"RayJob {obj.name} is queued in {queue!r} but does not set "
                                "shutdownAfterJobFinishes: true; its RayCluster would hold the queue's GPU "
                                "quota after the job ends", obj=obj.ref, path="spec.shutdownAfterJobFinishes",
                                value=spec.get("shutdownAfterJobFinishes"))
            if spec.get("clusterSelector"):
                yield Violation(f"RayJob {obj.name} is queued in {queue!r} but selects an existing RayCluster "
                                "(spec.clusterSelector); Kueue only admits RayJobs that bring their own cluster",
                                obj=obj.ref, path="spec.clusterSelector")
        for ray in ray_cluster_specs(obj):
            groups = ray.worker_groups
            if len(groups) > MAX_WORKER_GROUPS:
                yield Violation(f"{obj.kind} {obj.name} has {len(groups)} worker groups; Kueue admits at most "
                                f"{MAX_WORKER_GROUPS} (one PodSet each, plus the head)", obj=obj.ref,
                                path=f"{ray.path}.workerGroupSpecs")
            if ray.spec.get("enableInTreeAutoscaling") is True:
                yield Violation(f"{obj.kind} {obj.name} is queued in {queue!r} with enableInTreeAutoscaling; "
                                "MultiKueue rejects elastic RayClusters, and Kueue admits a fixed size: set "
                                "replicas and turn the autoscaler off", obj=obj.ref,
                                path=f"{ray.path}.enableInTreeAutoscaling", value=True)


POLICY = Policy(
    id="kueue-ray-limits",
    title="Ray jobs for a Kueue queue respect Kueue's Ray limits",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Kueue admits a RayJob, RayCluster or RayService (label kueue.x-k8s.io/queue-name) as one Workload "
        "whose PodSets are the head and each worker group; Kueue's Ray integration takes at most 17 worker "
        "groups (18 PodSets). A queued RayJob must create its own cluster (no clusterSelector "
        "to an existing one) and should set shutdownAfterJobFinishes: true, or the finished job's cluster keeps "
        "its quota until someone deletes it. Under MultiKueue an elastic RayCluster (enableInTreeAutoscaling) "
        "is rejected: Kueue admits a fixed size."
    ),
    remediation=(
        "Set shutdownAfterJobFinishes: true, drop spec.clusterSelector, keep at most 17 worker groups and turn "
        "enableInTreeAutoscaling off (fixed replicas) for Ray objects that carry kueue.x-k8s.io/queue-name."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/tasks/run/rayjobs/",
        "https://kueue.sigs.k8s.io/docs/tasks/run/multikueue/kuberay/",
    ),
    check=check,
)
