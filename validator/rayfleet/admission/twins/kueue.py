"""Twins of the Kueue policies: MultiKueue without kubeconfig credentials, and Ray objects for a
Kueue queue within Kueue's Ray limits."""

from __future__ import annotations

from ...policies.kueue_no_kubeconfig_secret import KUBECONFIG_KEY
from ...policies.kueue_ray_limits import MAX_WORKER_GROUPS
from ..kinds import POD_VARIABLES, RAY, SECRET, present
from ..twin import Kind, Twin, Validation

MULTIKUEUECLUSTER = Kind("MultiKueueCluster", "kueue.x-k8s.io", ("v1beta1", "v1beta2"), "multikueueclusters")
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"

# v1beta2 nests the source under spec.clusterSource; v1beta1 has spec.kubeConfig directly.
KUEUE_NO_KUBECONFIG_CLUSTER = Twin(
    policy="kueue-no-kubeconfig-secret", kinds=(MULTIKUEUECLUSTER,), suffix="cluster",
    validations=(Validation(
        f"!({present('object.spec.clusterSource.kubeConfig')}) && !({present('object.spec.kubeConfig')})",
        "the MultiKueueCluster connects with a kubeconfig, a static credential for the worker; use a "
        "clusterProfileRef with the kubelogin workload identity exec plugin"),),
    cost="1")

KUEUE_NO_KUBECONFIG_SECRET = Twin(
    policy="kueue-no-kubeconfig-secret", kinds=(SECRET,),
    validations=(Validation(
        " && ".join(f"!(has(object.{s}) && '{KUBECONFIG_KEY}' in object.{s})" for s in ("data", "stringData")),
        f"the Secret holds a '{KUBECONFIG_KEY}' key, the credential MultiKueue reads for a kubeConfig cluster "
        "source (a long-lived service-account token)"),),
    cost="2 map look-ups",
    weaker="A kubeconfig Secret outside the release namespace is not seen: the binding is scoped to the release "
           "namespace (where the umbrella chart runs Kueue, and so where Kueue reads its Secrets).")

_QUEUED = (f"has(object.metadata.labels) && '{QUEUE_LABEL}' in object.metadata.labels && "
           f"object.metadata.labels['{QUEUE_LABEL}'] != ''")
_AUTOSCALING = ("has(variables.raySpec.enableInTreeAutoscaling) && "
                "variables.raySpec.enableInTreeAutoscaling == true")
KUEUE_RAY_LIMITS = Twin(
    policy="kueue-ray-limits", kinds=RAY, variables=POD_VARIABLES,
    match_conditions=(("queued", _QUEUED),),
    validations=(
        Validation("object.kind != 'RayJob' || (has(object.spec.shutdownAfterJobFinishes) && "
                   "object.spec.shutdownAfterJobFinishes == true)",
                   "the queued RayJob does not set shutdownAfterJobFinishes: true; its RayCluster would hold the "
                   "queue's GPU quota after the job ends"),
        Validation("object.kind != 'RayJob' || !has(object.spec.clusterSelector) || "
                   "size(object.spec.clusterSelector) == 0",
                   "the queued RayJob selects an existing RayCluster (spec.clusterSelector); Kueue only admits "
                   "RayJobs that bring their own cluster"),
        Validation(f"size(variables.rayWorkers) <= {MAX_WORKER_GROUPS}",
                   f"Kueue admits at most {MAX_WORKER_GROUPS} worker groups (one PodSet each, plus the head)"),
        Validation(f"!({_AUTOSCALING})",
                   "the queued Ray object sets enableInTreeAutoscaling; MultiKueue rejects elastic RayClusters, "
                   "and Kueue admits a fixed size"),
    ),
    cost="4 field reads and one size() on the worker group list")

TWINS: tuple[Twin, ...] = (KUEUE_NO_KUBECONFIG_CLUSTER, KUEUE_NO_KUBECONFIG_SECRET, KUEUE_RAY_LIMITS)
__all__ = ["TWINS"]
