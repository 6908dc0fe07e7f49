"""Kueue and MultiKueue objects in a rendered release, and how they point at each other.

The chain the ``kueue-*`` policies follow, on the manager:
LocalQueue -> ClusterQueue -> AdmissionCheck (controller ``kueue.x-k8s.io/multikueue``) ->
MultiKueueConfig (``spec.clusters``: the workers, in dispatch preference) -> MultiKueueCluster ->
ClusterProfile (namespace ``kueue-system``). On a worker: LocalQueue -> ClusterQueue -> ResourceFlavor.
Both served API versions are read: ``v1beta2`` (MultiKueueCluster ``spec.clusterSource``,
ClusterQueue ``admissionChecksStrategy``) and ``v1beta1`` (``spec.kubeConfig`` /
``spec.clusterProfileRef``, ClusterQueue ``admissionChecks``).

Pure functions of a ``ReleaseObjects``; nothing here judges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .quantities import parse_quantity

if TYPE_CHECKING:
    from .fleet import Fleet, Region
    from .manifests import KubeObject
    from .subjects import FleetView, ReleaseObjects

KUEUE_GROUP = "kueue.x-k8s.io"
MULTIKUEUE_CONTROLLER = "kueue.x-k8s.io/multikueue"
CLUSTER_PROFILE_GROUP = "multicluster.x-k8s.io"
KUEUE_NAMESPACE = "kueue-system"
KUEUE_CONTROLLER = "kueue-controller-manager"  # Deployment and ServiceAccount of the Kueue chart
REGION_LABEL = "rayfleet.io/region"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
GPU = "nvidia.com/gpu"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _kueue(release: ReleaseObjects, kind: str) -> list[KubeObject]:
    return [o for o in release.of_kind(kind) if o.group == KUEUE_GROUP]


@dataclass(frozen=True)
class Quota:
    """One ``nominalQuota``: its flavor, resource, value as written and as a number, and its path."""

    flavor: str
    resource: str
    raw: Any
    value: float | None
    path: str


@dataclass(frozen=True)
class ClusterQueue:
    obj: KubeObject
    quotas: tuple[Quota, ...]
    admission_checks: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.obj.name

    def quota(self, flavor: str, resource: str) -> Quota | None:
        return next((q for q in self.quotas if q.flavor == flavor and q.resource == resource), None)

    @property
    def gpu_flavors(self) -> list[Quota]:
        return [q for q in self.quotas if q.resource == GPU and (q.value or 0) > 0]


def format_quantity(value: float, like: Any = None) -> str:
    """``value`` in the unit ``like`` is written in (``1800Gi`` for 1800 x 2**30 like ``1200Gi``)."""
    suffix = ""
    if isinstance(like, str):
        match = re.match(r"^[0-9.eE+-]+([A-Za-z]+)$", like.strip())
        if match and parse_quantity(f"1{match.group(1)}") is not None:
            suffix = match.group(1)
    number = value / (parse_quantity(f"1{suffix}") or 1.0)
    text = str(int(number)) if float(number).is_integer() else f"{number:g}"
    return text + suffix


def cluster_queues(release: ReleaseObjects) -> dict[str, ClusterQueue]:
    """Every ClusterQueue by name, with its quotas and admission checks."""
    out: dict[str, ClusterQueue] = {}
    for obj in _kueue(release, "ClusterQueue"):
        spec = _dict(obj.body.get("spec"))
        quotas: list[Quota] = []
        for g, group in enumerate(_list(spec.get("resourceGroups"))):
            for f, flavor in enumerate(_list(_dict(group).get("flavors"))):
                flavor = _dict(flavor)
                for r, resource in enumerate(_list(flavor.get("resources"))):
                    resource = _dict(resource)
                    if "name" not in resource:
                        continue
                    raw = resource.get("nominalQuota")
                    quotas.append(Quota(str(flavor.get("name")), str(resource["name"]), raw, parse_quantity(raw),
                                        f"spec.resourceGroups[{g}].flavors[{f}].resources[{r}].nominalQuota"))
        checks = [str(c) for c in _list(spec.get("admissionChecks")) if isinstance(c, str)]
        strategy = _dict(spec.get("admissionChecksStrategy"))
        checks += [str(_dict(c).get("name")) for c in _list(strategy.get("admissionChecks")) if _dict(c).get("name")]
        out[obj.name] = ClusterQueue(obj, tuple(quotas), tuple(dict.fromkeys(checks)))
    return out


@dataclass(frozen=True)
class LocalQueue:
    obj: KubeObject
    namespace: str
    name: str
    cluster_queue: str | None


def local_queues(release: ReleaseObjects) -> dict[tuple[str, str], LocalQueue]:
    """Every LocalQueue by (namespace, name); a LocalQueue without a namespace is in the release's."""
    default = release.region.namespace if release.region is not None else "default"
    out: dict[tuple[str, str], LocalQueue] = {}
    for obj in _kueue(release, "LocalQueue"):
        target = _dict(obj.body.get("spec")).get("clusterQueue")
        namespace = obj.namespace or default
        out[(namespace, obj.name)] = LocalQueue(obj, namespace, obj.name, str(target) if target else None)
    return out


def multikueue_checks(release: ReleaseObjects) -> dict[str, KubeObject]:
    """AdmissionChecks run by the MultiKueue controller, by name."""
    return {o.name: o for o in _kueue(release, "AdmissionCheck")
            if _dict(o.body.get("spec")).get("controllerName") == MULTIKUEUE_CONTROLLER}


def dispatching_queues(release: ReleaseObjects) -> list[ClusterQueue]:
    """ClusterQueues that dispatch to workers (they carry a MultiKueue AdmissionCheck)."""
    checks = multikueue_checks(release)
    return [cq for cq in cluster_queues(release).values() if any(c in checks for c in cq.admission_checks)]


@dataclass(frozen=True)
class MultiKueueConfig:
    obj: KubeObject
    clusters: tuple[str, ...]


def multikueue_configs(release: ReleaseObjects) -> dict[str, MultiKueueConfig]:
    out: dict[str, MultiKueueConfig] = {}
    for obj in _kueue(release, "MultiKueueConfig"):
        clusters = tuple(str(c) for c in _list(_dict(obj.body.get("spec")).get("clusters")))
        out[obj.name] = MultiKueueConfig(obj, clusters)
    return out


def config_of_check(check: KubeObject) -> str | None:
    """The MultiKueueConfig an AdmissionCheck's ``parameters`` name (None when they name none)."""
    params = _dict(_dict(check.body.get("spec")).get("parameters"))
    if params.get("kind") != "MultiKueueConfig" or params.get("apiGroup", KUEUE_GROUP) != KUEUE_GROUP:
        return None
    return str(params["name"]) if params.get("name") else None


@dataclass(frozen=True)
class MultiKueueCluster:
    obj: KubeObject
    profile: str | None  # clusterProfileRef.name
    kubeconfig: dict[str, Any] | None  # the kubeConfig source, when that is how it connects
    source_path: str  # JSON path of the source block

    @property
    def name(self) -> str:
        return self.obj.name


def multikueue_clusters(release: ReleaseObjects) -> dict[str, MultiKueueCluster]:
    out: dict[str, MultiKueueCluster] = {}
    for obj in _kueue(release, "MultiKueueCluster"):
        spec = _dict(obj.body.get("spec"))
        base, source = ("spec.clusterSource", _dict(spec["clusterSource"])) if "clusterSource" in spec \
            else ("spec", spec)
        profile = _dict(source.get("clusterProfileRef")).get("name")
        kubeconfig = source.get("kubeConfig")
        out[obj.name] = MultiKueueCluster(obj, str(profile) if profile else None,
                                          kubeconfig if isinstance(kubeconfig, dict) else None, base)
    return out


def cluster_profiles(release: ReleaseObjects) -> dict[tuple[str, str], KubeObject]:
    """ClusterProfiles by (namespace, name)."""
    return {(o.namespace or "", o.name): o for o in release.of_kind("ClusterProfile")
            if o.group == CLUSTER_PROFILE_GROUP}


def kueue_namespaces(release: ReleaseObjects) -> set[str]:
    """Where the release's Kueue runs, which is the only namespace it reads ClusterProfiles from:
    the namespace of the rendered Kueue controller (Deployment or ServiceAccount
    ``kueue-controller-manager``); when Kueue is not rendered (the upstream chart is not unpacked,
    or Kueue is installed apart), ``kueue-system`` or the release namespace (the umbrella chart
    installs its Kueue dependency there)."""
    found = {o.namespace for o in release.of_kind("Deployment", "ServiceAccount")
             if o.name == KUEUE_CONTROLLER and o.namespace}
    if found:
        return {str(n) for n in found}
    return {KUEUE_NAMESPACE} | ({release.region.namespace} if release.region is not None else set())


def region_label(obj: KubeObject) -> str | None:
    labels = _dict(obj.metadata.get("labels"))
    value = labels.get(REGION_LABEL)
    return str(value) if value is not None else None


@dataclass(frozen=True)
class ResourceFlavor:
    obj: KubeObject
    node_labels: dict[str, str]
    tolerations: tuple[dict[str, Any], ...]
    node_taints: tuple[dict[str, Any], ...]


def resource_flavors(release: ReleaseObjects) -> dict[str, ResourceFlavor]:
    out: dict[str, ResourceFlavor] = {}
    for obj in _kueue(release, "ResourceFlavor"):
        spec = _dict(obj.body.get("spec"))
        labels = {str(k): str(v) for k, v in _dict(spec.get("nodeLabels")).items()}
        out[obj.name] = ResourceFlavor(obj, labels, tuple(_dict(t) for t in _list(spec.get("tolerations"))),
                                       tuple(_dict(t) for t in _list(spec.get("nodeTaints"))))
    return out


# --- what a region is in the fleet's scheduling --------------------------------------------------


def queue_targets(release: ReleaseObjects, queues: list[tuple[str, str]]) -> dict[str, ClusterQueue]:
    """The ClusterQueues the given LocalQueues point at (those rendered), by name."""
    cqs = cluster_queues(release)
    lqs = local_queues(release)
    out: dict[str, ClusterQueue] = {}
    for key in queues:
        lq = lqs.get(key)
        if lq is not None and lq.cluster_queue in cqs:
            out[lq.cluster_queue] = cqs[lq.cluster_queue]
    return out


def scheduling_queue_keys(fleet: Fleet) -> list[tuple[str, str]]:
    return [(q.namespace, q.name) for q in fleet.scheduling.queues] if fleet.scheduling else []


def worker_quotas(release: ReleaseObjects, fleet: Fleet) -> dict[tuple[str, str], tuple[float, list[Quota]]]:
    """(flavor, resource) -> (summed nominal quota, the entries) over the ClusterQueues a worker's
    scheduling LocalQueues point at."""
    out: dict[tuple[str, str], tuple[float, list[Quota]]] = {}
    for cq in queue_targets(release, scheduling_queue_keys(fleet)).values():
        for q in cq.quotas:
            total, items = out.get((q.flavor, q.resource), (0.0, []))
            out[(q.flavor, q.resource)] = (total + (q.value or 0.0), [*items, q])
    return out


@dataclass(frozen=True)
class SchedulingView:
    """The manager's and the workers' releases of a fleet with a scheduling section."""

    manager: Region
    manager_release: ReleaseObjects
    workers: dict[str, ReleaseObjects] = field(default_factory=dict)  # rendered workers, fleet order


def scheduling_view(view: FleetView) -> SchedulingView | None:
    """None when the fleet has no scheduling section or its manager was not rendered (or failed)."""
    fleet = view.fleet
    manager = fleet.manager
    if fleet.scheduling is None or manager is None:
        return None
    release = view.releases.get(manager.name)
    if release is None or not release.objects:
        return None
    workers = {r.name: view.releases[r.name] for r in fleet.workers
               if r.name in view.releases and view.releases[r.name].objects}
    return SchedulingView(manager, release, workers)


