"""The API kinds twins match, and the CEL variables that find pod templates in them.

The variables mirror ``rayfleet.workloads``: a bare Pod, the template of each pod-owning
workload, and the head, worker and submitter templates of KubeRay's RayCluster, RayJob and
RayService. Core CEL only (has, all, exists, filter, map, matches, size): no Kubernetes CEL
extension library, so ``rayfleet admit`` evaluates them with a plain CEL engine.
"""

from __future__ import annotations

from .twin import Kind, Variable

POD = Kind("Pod", "", ("v1",), "pods")
PODTEMPLATE = Kind("PodTemplate", "", ("v1",), "podtemplates")
REPLICATIONCONTROLLER = Kind("ReplicationController", "", ("v1",), "replicationcontrollers")
DEPLOYMENT = Kind("Deployment", "apps", ("v1",), "deployments")
STATEFULSET = Kind("StatefulSet", "apps", ("v1",), "statefulsets")
DAEMONSET = Kind("DaemonSet", "apps", ("v1",), "daemonsets")
REPLICASET = Kind("ReplicaSet", "apps", ("v1",), "replicasets")
JOB = Kind("Job", "batch", ("v1",), "jobs")
CRONJOB = Kind("CronJob", "batch", ("v1",), "cronjobs")
RAYCLUSTER = Kind("RayCluster", "ray.io", ("v1",), "rayclusters")
RAYJOB = Kind("RayJob", "ray.io", ("v1",), "rayjobs")
RAYSERVICE = Kind("RayService", "ray.io", ("v1",), "rayservices")
STORAGECLASS = Kind("StorageClass", "storage.k8s.io", ("v1",), "storageclasses")
PERSISTENTVOLUME = Kind("PersistentVolume", "", ("v1",), "persistentvolumes")
SECRET = Kind("Secret", "", ("v1",), "secrets")
SERVICEACCOUNT = Kind("ServiceAccount", "", ("v1",), "serviceaccounts")
ROLE = Kind("Role", "rbac.authorization.k8s.io", ("v1",), "roles")

RAY = (RAYCLUSTER, RAYJOB, RAYSERVICE)
WORKLOADS = (DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET, REPLICATIONCONTROLLER, JOB, CRONJOB, PODTEMPLATE)
POD_OWNERS = (POD, *WORKLOADS, *RAY)
BLOB = (STORAGECLASS, PERSISTENTVOLUME)

GPU = "nvidia.com/gpu"
WI_USE = "azure.workload.identity/use"

# A Pod with an owner (a ReplicaSet, a Job, the KubeRay operator) was checked at its template;
# matching it again would judge what controllers and mutating webhooks added after the check.
BARE_PODS_ONLY = ("bare-pods-only", "object.kind != 'Pod' || !has(object.metadata.ownerReferences)")


def present(path: str) -> str:
    """``has()`` for every step of a dotted path: ``has(a.b) && has(a.b.c)`` (core CEL's has()
    fails on a missing parent)."""
    parts = path.split(".")
    return " && ".join(f"has({'.'.join(parts[:i + 1])})" for i in range(1, len(parts)))


def _one(path: str) -> str:
    return f"({present(path)} ? [{path}] : [])"


_TEMPLATE_KINDS = ", ".join(f"'{k.kind}'" for k in WORKLOADS if k not in (CRONJOB, PODTEMPLATE))

POD_VARIABLES: tuple[Variable, ...] = (
    Variable("raySpec",
             "object.kind == 'RayCluster' ? (has(object.spec) ? object.spec : {}) : "
             f"object.kind == 'RayJob' ? ({present('object.spec.rayClusterSpec')} ? "
             "object.spec.rayClusterSpec : {}) : "
             f"object.kind == 'RayService' ? ({present('object.spec.rayClusterConfig')} ? "
             "object.spec.rayClusterConfig : {}) : {}"),
    Variable("rayHead", "has(variables.raySpec.headGroupSpec) ? [variables.raySpec.headGroupSpec] : []"),
    Variable("rayWorkers", "has(variables.raySpec.workerGroupSpecs) ? variables.raySpec.workerGroupSpecs : []"),
    Variable("rayTemplates",
             "variables.rayHead.filter(g, has(g.template)).map(g, g.template) + "
             "variables.rayWorkers.filter(g, has(g.template)).map(g, g.template) + "
             f"(object.kind == 'RayJob' ? {_one('object.spec.submitterPodTemplate')} : [])"),
    Variable("templates",
             "object.kind == 'Pod' ? [object] : "
             f"object.kind == 'CronJob' ? {_one('object.spec.jobTemplate.spec.template')} : "
             f"object.kind == 'PodTemplate' ? {_one('object.template')} : "
             f"object.kind in [{_TEMPLATE_KINDS}] ? {_one('object.spec.template')} : variables.rayTemplates"),
    Variable("specs", "variables.templates.filter(t, has(t.spec)).map(t, t.spec)"),
    # Containers KubeRay builds from the spec (rayfleet.ray_sidecars): the autoscaler when in-tree
    # autoscaling is on, the history server collector when configured. "configured" also takes
    # autoscalerOptions with autoscaling off, for the image checks.
    Variable("collector", "has(variables.raySpec.historyServerOptions) && "
                          "has(variables.raySpec.historyServerOptions.collectorOptions) ? "
                          "[variables.raySpec.historyServerOptions.collectorOptions] : []"),
    Variable("sidecars", "(has(variables.raySpec.autoscalerOptions) && has(variables.raySpec.enableInTreeAutoscaling) "
                         "&& variables.raySpec.enableInTreeAutoscaling == true ? [variables.raySpec.autoscalerOptions] "
                         ": []) + variables.collector"),
    Variable("configuredSidecars", "(has(variables.raySpec.autoscalerOptions) ? [variables.raySpec.autoscalerOptions] "
                                   ": []) + variables.collector"),
)

ALL_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
NUMBER = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"


def each_container(spec: str, predicate: str, lists: tuple[str, ...] = ALL_CONTAINER_LISTS) -> str:
    """``predicate`` (over ``c``) holds for every container of the pod spec ``spec``."""
    return " && ".join(f"(!has({spec}.{name}) || {spec}.{name}.all(c, {predicate}))" for name in lists)


def is_number(value: str) -> str:
    return f"string({value}).matches('{NUMBER}')"


def nonzero(value: str) -> str:
    """A quantity that counts (what ``to_number(...) or 0`` makes non-zero in the Python check)."""
    return f"({is_number(value)} && double(string({value})) != 0.0)"


def gpu_value(c: str, section: str) -> str:
    return f"{c}.resources.{section}['{GPU}']"


def has_gpu_key(c: str, section: str) -> str:
    return f"(has({c}.resources.{section}) && '{GPU}' in {c}.resources.{section})"


def uses_gpus(spec: str) -> str:
    """The pod spec's containers ask for GPUs (limit, else request, non-zero)."""
    limit, request = has_gpu_key("c", "limits"), has_gpu_key("c", "requests")
    return (f"(has({spec}.containers) && {spec}.containers.exists(c, has(c.resources) && "
            f"({limit} ? {nonzero(gpu_value('c', 'limits'))} : "
            f"({request} && {nonzero(gpu_value('c', 'requests'))}))))")


def label_is(meta_owner: str, key: str, value: str) -> str:
    return (f"(has({meta_owner}.metadata) && has({meta_owner}.metadata.labels) && "
            f"'{key}' in {meta_owner}.metadata.labels && {meta_owner}.metadata.labels['{key}'] == '{value}')")
