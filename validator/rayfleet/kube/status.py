"""What one region's cluster looks like right now, read with the kubernetes client into plain
frozen dataclasses (``ClusterSnapshot``). It reads and reports; whether a region is healthy is
decided by ``rayfleet.status``.

Sources, all read-only:
- the Helm release: Helm's release Secrets ``sh.helm.release.v1.<release>.v<revision>`` (labels
  ``owner=helm``, ``name``, ``version``, ``status``); ``data.release`` holds Helm's encoding of the
  release (JSON, gzip, base64) inside the Secret's own base64. Only the newest revision is
  decoded, with size limits; the values it holds are reduced to a digest and never kept.
- RayClusters (``ray.io/v1``): ``status.state``, the ``HeadPodReady`` condition, and per worker
  group the ready pods (labels ``ray.io/cluster``, ``ray.io/group``) against ``replicas``.
- RayJobs: counts by ``status.jobDeploymentStatus``.
- GPU nodes per node pool (``kubernetes.azure.com/agentpool``): ready/total, ``nvidia.com/gpu``
  allocatable, and what scheduled, unfinished pods request (as ``kubectl describe node`` sums it).
- Kueue (``kueue.x-k8s.io`` v1beta2, else v1beta1), when its CRDs are there: per ClusterQueue the
  pending/reserving/admitted workloads and the GPU quota and usage; on a MultiKueue manager the
  MultiKueueClusters (``Active`` condition) and where recent RayJob Workloads were dispatched
  (``status.clusterName``; ``status.nominatedClusterNames`` while still being placed).
- the workload identity webhook, and the PersistentVolumeClaims of the release namespace.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes import client

from ..errors import LiveCheckError
from ..nodes import node_labels, node_name
from ..quantities import parse_quantity
from ..text import one_line
from ..wellknown import AGENT_POOL_LABEL as AGENT_POOL
from ..wellknown import GPU_RESOURCE, INSTANCE_TYPE_LABELS, WI_WEBHOOK_NAME
from .client import RAY_GROUP, RAY_VERSION, KubeApi
from .readiness import raycluster_readiness

INSTANCE_TYPE = INSTANCE_TYPE_LABELS[0]

HELM_SECRET_TYPE = "helm.sh/release.v1"
MAX_RELEASE_ENCODED_BYTES = 4 * 1024 * 1024  # a Secret holds at most 1 MiB; anything far larger is not Helm's
MAX_RELEASE_JSON_BYTES = 32 * 1024 * 1024  # a gzip bomb stops here
GZIP_MAGIC = b"\x1f\x8b\x08"
KUEUE_GROUP, KUEUE_VERSIONS = "kueue.x-k8s.io", ("v1beta2", "v1beta1")
MULTIKUEUE_CONTROLLER = "kueue.x-k8s.io/multikueue"
RECENT_DISPATCHES = 20
RAY_CLUSTER_LABEL, RAY_GROUP_LABEL, RAY_NODE_TYPE_LABEL = "ray.io/cluster", "ray.io/group", "ray.io/node-type"
UNFINISHED_PODS = "status.phase!=Succeeded,status.phase!=Failed"

T = TypeVar("T")


# --- the facts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class HelmRelease:
    """The newest revision of the region's Helm release."""

    name: str
    namespace: str
    revision: int
    status: str  # deployed, failed, pending-upgrade, superseded, ...
    chart: str
    chart_version: str
    app_version: str | None
    last_deployed: str | None
    description: str
    values_digest: str  # sha256 of the user-supplied values (Helm's release.config), see values_digest()


@dataclass(frozen=True)
class WorkerGroup:
    name: str
    ready: int
    desired: int
    min_replicas: int | None = None
    max_replicas: int | None = None


@dataclass(frozen=True)
class RayClusterFacts:
    namespace: str
    name: str
    state: str | None
    ready: bool  # the rollout readiness gate's verdict (rayfleet.kube.readiness)
    head_ready: bool
    groups: tuple[WorkerGroup, ...]
    owner: str | None = None  # "RayJob/x" when a RayJob created it
    reason: str = ""


@dataclass(frozen=True)
class GpuPool:
    """One node pool whose nodes offer ``nvidia.com/gpu``."""

    name: str
    vm_size: str | None
    nodes_ready: int
    nodes_total: int
    gpus_allocatable: float
    gpus_requested: float


@dataclass(frozen=True)
class ClusterQueueFacts:
    name: str
    pending: int
    reserving: int
    admitted: int
    gpu_quota: float  # nominal nvidia.com/gpu quota over all flavors
    gpu_used: float  # nvidia.com/gpu used by admitted workloads (status.flavorsUsage)
    multikueue: bool  # its admission checks include a MultiKueue one: it dispatches to workers


@dataclass(frozen=True)
class WorkerCluster:
    """A MultiKueueCluster on the manager: one worker it dispatches to."""

    name: str
    active: bool | None
    message: str = ""


@dataclass(frozen=True)
class Dispatch:
    """Where a RayJob's Workload went (on a MultiKueue manager)."""

    namespace: str
    workload: str
    job: str
    queue: str | None
    cluster: str | None  # status.clusterName: the worker running it
    nominated: tuple[str, ...]  # status.nominatedClusterNames: still being placed
    state: str  # pending, reserved, admitted, finished, failed, evicted
    created: str | None


@dataclass(frozen=True)
class KueueFacts:
    api_version: str
    cluster_queues: tuple[ClusterQueueFacts, ...]
    workers: tuple[WorkerCluster, ...] = ()
    dispatches: tuple[Dispatch, ...] = ()

    @property
    def manager(self) -> bool:
        return bool(self.workers)


@dataclass(frozen=True)
class VolumeClaim:
    namespace: str
    name: str
    phase: str
    storage_class: str | None


@dataclass(frozen=True)
class ClusterSnapshot:
    """Everything read from one region's cluster. ``notes`` are the reads that failed (a 403 on
    one resource does not hide the rest)."""

    server_version: str
    release: HelmRelease | None
    rayclusters: tuple[RayClusterFacts, ...]
    rayjobs: tuple[tuple[str, int], ...]  # (jobDeploymentStatus, count), sorted by status
    gpu_pools: tuple[GpuPool, ...]
    gpus_pending: float  # nvidia.com/gpu asked by pods not scheduled yet
    kueue: KueueFacts | None
    identity_webhook: bool
    volume_claims: tuple[VolumeClaim, ...]
    notes: tuple[str, ...] = ()


# --- Helm release Secrets ---------------------------------------------------------------------

class ReleaseDecodeError(ValueError):
    """A Helm release Secret whose payload is not a Helm release."""


def values_digest(values: Any) -> str:
    """sha256 of values as canonical JSON (sorted keys, integral floats as integers), so the
    values Helm stored and the values ``plan`` folds compare equal when they are."""
    text = json.dumps(_canonical(values or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ReleaseDecodeError(f"gzip data is corrupt ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ReleaseDecodeError(f"the release expands to more than {limit} bytes")
    return out


def decode_release_payload(encoded: str | bytes, *, limit: int = MAX_RELEASE_JSON_BYTES) -> dict[str, Any]:
    """Helm's release encoding (base64 of gzip of JSON; plain JSON when not gzipped) → the release."""
    if len(encoded) > MAX_RELEASE_ENCODED_BYTES:
        raise ReleaseDecodeError(f"the payload is {len(encoded)} bytes, over {MAX_RELEASE_ENCODED_BYTES}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ReleaseDecodeError("the payload is not base64") from None
    data = _gunzip(raw, limit) if raw[:3] == GZIP_MAGIC else raw
    if len(data) > limit:
        raise ReleaseDecodeError(f"the release is more than {limit} bytes")
    try:
        release = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ReleaseDecodeError("the release is not JSON") from None
    if not isinstance(release, dict):
        raise ReleaseDecodeError("the release is not a JSON object")
    return release


def decode_release_secret(secret: Mapping[str, Any]) -> HelmRelease:
    """A Helm release Secret as the API server sends it (``data`` values are base64) → HelmRelease."""
    meta = secret.get("metadata") or {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    payload = (secret.get("data") or {}).get("release")
    if not isinstance(payload, str):
        raise ReleaseDecodeError("it has no data.release")
    if len(payload) > MAX_RELEASE_ENCODED_BYTES * 2:
        raise ReleaseDecodeError(f"data.release is {len(payload)} bytes, over {MAX_RELEASE_ENCODED_BYTES * 2}")
    try:
        helm_encoded = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ReleaseDecodeError("data.release is not base64") from None
    release = decode_release_payload(helm_encoded)
    info = release.get("info") if isinstance(release.get("info"), dict) else {}
    chart = release.get("chart") if isinstance(release.get("chart"), dict) else {}
    chart_meta = chart.get("metadata") if isinstance(chart.get("metadata"), dict) else {}
    revision = release.get("version", labels.get("version"))
    try:
        revision = int(revision)
    except (TypeError, ValueError):
        raise ReleaseDecodeError("the release has no revision number") from None
    app_version = chart_meta.get("appVersion")
    return HelmRelease(
        name=str(release.get("name") or labels.get("name") or ""),
        namespace=str(release.get("namespace") or meta.get("namespace") or ""),
        revision=revision,
        status=str(info.get("status") or labels.get("status") or "unknown"),
        chart=str(chart_meta.get("name") or ""),
        chart_version=str(chart_meta.get("version") or ""),
        app_version=str(app_version) if app_version is not None else None,
        last_deployed=str(info["last_deployed"]) if info.get("last_deployed") else None,
        description=one_line(str(info.get("description") or ""))[:200],
        values_digest=values_digest(release.get("config")),
    )


def _revision(secret: Mapping[str, Any]) -> int:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    try:
        return int(labels.get("version", -1))
    except (TypeError, ValueError):
        return -1


def read_release(api: KubeApi, namespace: str, name: str) -> HelmRelease | None:
    """The newest revision of release ``name`` in ``namespace`` (None: never installed)."""
    core = client.CoreV1Api(api.api_client)
    secrets = api.list(f"Helm release Secrets of {namespace}/{name}", core.list_namespaced_secret, namespace,
                       label_selector=f"owner=helm,name={name}")
    secrets = [s for s in secrets if s.get("type", HELM_SECRET_TYPE) == HELM_SECRET_TYPE]
    if not secrets:
        return None
    newest = max(secrets, key=_revision)
    try:
        return decode_release_secret(newest)
    except ReleaseDecodeError as exc:
        secret_name = (newest.get("metadata") or {}).get("name", "?")
        raise LiveCheckError(api.region, f"Secret {namespace}/{secret_name} is not a readable Helm release: {exc}") \
            from None


# --- RayClusters and RayJobs ------------------------------------------------------------------

def _pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def raycluster_facts(obj: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> RayClusterFacts:
    meta = obj.get("metadata") or {}
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    readiness = raycluster_readiness(dict(obj), name)
    mine = [p for p in pods if ((p.get("metadata") or {}).get("namespace") == namespace
                                and ((p.get("metadata") or {}).get("labels") or {}).get(RAY_CLUSTER_LABEL) == name)]
    ready_by_group: dict[str, int] = {}
    head_pod_ready = False
    for pod in mine:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels.get(RAY_NODE_TYPE_LABEL) == "head":
            head_pod_ready = head_pod_ready or _pod_ready(pod)
        elif _pod_ready(pod):
            group = str(labels.get(RAY_GROUP_LABEL, ""))
            ready_by_group[group] = ready_by_group.get(group, 0) + 1
    groups = []
    for group in spec.get("workerGroupSpecs") or []:
        if not isinstance(group, dict):
            continue
        hosts = _int(group.get("numOfHosts")) or 1
        # KubeRay starts a group at minReplicas when replicas is unset (the autoscaler then sets it).
        replicas = _int(group.get("replicas"))
        replicas = 0 if group.get("suspend") is True else (replicas if replicas is not None
                                                           else _int(group.get("minReplicas")) or 0)
        groups.append(WorkerGroup(str(group.get("groupName", "")), ready_by_group.get(str(group.get("groupName")), 0),
                                  replicas * hosts, _int(group.get("minReplicas")), _int(group.get("maxReplicas"))))
    conditions = {c.get("type"): c.get("status") for c in ((obj.get("status") or {}).get("conditions") or [])
                  if isinstance(c, dict)}
    head_ready = conditions["HeadPodReady"] == "True" if "HeadPodReady" in conditions else head_pod_ready
    owners = [o for o in meta.get("ownerReferences") or [] if isinstance(o, dict)]
    owner = f"{owners[0].get('kind')}/{owners[0].get('name')}" if owners else None
    return RayClusterFacts(namespace, name, readiness.state, readiness.ready, head_ready, tuple(groups), owner,
                           one_line(readiness.reason)[:300])


def rayjob_counts(jobs: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for job in jobs:
        status = (job.get("status") or {}).get("jobDeploymentStatus") or "New"
        counts[str(status)] = counts.get(str(status), 0) + 1
    return tuple(sorted(counts.items()))


# --- GPU nodes --------------------------------------------------------------------------------

def _container_gpus(container: Mapping[str, Any]) -> float:
    resources = container.get("resources") or {}
    for key in ("requests", "limits"):  # an extended resource's request defaults to its limit
        value = (resources.get(key) or {}).get(GPU_RESOURCE)
        if value is not None:
            return parse_quantity(value) or 0.0
    return 0.0


def pod_gpus(pod: Mapping[str, Any]) -> float:
    """A pod's effective nvidia.com/gpu request: containers summed, or the largest init container."""
    spec = pod.get("spec") or {}
    main = sum(_container_gpus(c) for c in spec.get("containers") or [] if isinstance(c, dict))
    init = max((_container_gpus(c) for c in spec.get("initContainers") or [] if isinstance(c, dict)), default=0.0)
    return max(main, init)


def _node_ready(node: Mapping[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _node_gpus(node: Mapping[str, Any]) -> float:
    status = node.get("status") or {}
    value = (status.get("allocatable") or {}).get(GPU_RESOURCE, (status.get("capacity") or {}).get(GPU_RESOURCE))
    return (parse_quantity(value) or 0.0) if value is not None else 0.0


def gpu_pools(nodes: Iterable[dict[str, Any]], pods: Iterable[Mapping[str, Any]]) -> tuple[tuple[GpuPool, ...], float]:
    """GPU node pools (ready/total, allocatable vs requested) and the GPUs of unscheduled pods."""
    requested: dict[str, float] = {}
    pending = 0.0
    for pod in pods:
        gpus = pod_gpus(pod)
        if not gpus:
            continue
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            requested[str(node)] = requested.get(str(node), 0.0) + gpus
        else:
            pending += gpus
    pools: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        labels = node_labels(node)
        if _node_gpus(node) > 0 or labels.get("accelerator") == "nvidia":
            pools.setdefault(labels.get(AGENT_POOL, node_name(node)), []).append(node)
    out = []
    for pool, members in sorted(pools.items()):
        sizes = sorted({node_labels(n).get(INSTANCE_TYPE, "") for n in members} - {""})
        out.append(GpuPool(pool, ", ".join(sizes) or None, sum(_node_ready(n) for n in members), len(members),
                           sum(_node_gpus(n) for n in members),
                           sum(requested.get(node_name(n), 0.0) for n in members)))
    return tuple(out), pending


# --- Kueue ------------------------------------------------------------------------------------

def _gpu_total(entries: Iterable[Any], field: str) -> float:
    total = 0.0
    for flavor in entries:
        for resource in (flavor.get("resources") or []) if isinstance(flavor, dict) else []:
            if isinstance(resource, dict) and resource.get("name") == GPU_RESOURCE:
                total += parse_quantity(resource.get(field)) or 0.0
    return total


def cluster_queue_facts(cq: Mapping[str, Any], multikueue_checks: set[str]) -> ClusterQueueFacts:
    spec, status = cq.get("spec") or {}, cq.get("status") or {}
    flavors = [f for group in spec.get("resourceGroups") or [] if isinstance(group, dict)
               for f in group.get("flavors") or []]
    checks = {str(c) for c in spec.get("admissionChecks") or []}
    checks |= {str(r.get("name")) for r in (spec.get("admissionChecksStrategy") or {}).get("admissionChecks") or []
               if isinstance(r, dict)}
    return ClusterQueueFacts(
        name=str((cq.get("metadata") or {}).get("name", "")),
        pending=_int(status.get("pendingWorkloads")) or 0,
        reserving=_int(status.get("reservingWorkloads")) or 0,
        admitted=_int(status.get("admittedWorkloads")) or 0,
        gpu_quota=_gpu_total(flavors, "nominalQuota"),
        gpu_used=_gpu_total(status.get("flavorsUsage") or [], "total"),
        multikueue=bool(checks & multikueue_checks),
    )


def _condition(obj: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def _true(obj: Mapping[str, Any], kind: str) -> bool:
    cond = _condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


def workload_state(workload: Mapping[str, Any]) -> str:
    finished = _condition(workload, "Finished")
    if finished is not None and finished.get("status") == "True":
        return "failed" if finished.get("reason") == "Failed" else "finished"
    if _true(workload, "Evicted"):
        return "evicted"
    if _true(workload, "Admitted"):
        return "admitted"
    if _true(workload, "QuotaReserved"):
        return "reserved"
    return "pending"


def dispatch_facts(workload: Mapping[str, Any]) -> Dispatch | None:
    """A Workload owned by a RayJob → where it went; None for other workloads."""
    meta = workload.get("metadata") or {}
    owner = next((o for o in meta.get("ownerReferences") or []
                  if isinstance(o, dict) and o.get("kind") == "RayJob"), None)
    if owner is None:
        return None
    status = workload.get("status") or {}
    admission = status.get("admission") if isinstance(status.get("admission"), dict) else {}
    cluster = status.get("clusterName")
    return Dispatch(
        namespace=str(meta.get("namespace", "")), workload=str(meta.get("name", "")), job=str(owner.get("name", "")),
        queue=str(admission["clusterQueue"]) if admission.get("clusterQueue") else None,
        cluster=str(cluster) if cluster else None,
        nominated=tuple(str(n) for n in status.get("nominatedClusterNames") or []),
        state=workload_state(workload),
        created=str(meta["creationTimestamp"]) if meta.get("creationTimestamp") else None,
    )


def read_kueue(api: KubeApi) -> KueueFacts | None:
    """Kueue's queues (None when its API is not served), and on a manager its workers and recent
    RayJob dispatches."""
    custom = client.CustomObjectsApi(api.api_client)

    def cluster_list(version: str, plural: str) -> list[dict[str, Any]] | None:
        # One GET answers both "is this served" (404: no) and the first page.
        page = api.call(f"Kueue {plural}", custom.list_cluster_custom_object, KUEUE_GROUP, version, plural,
                        limit=500)
        if page is None:
            return None
        items = [i for i in page.get("items") or [] if isinstance(i, dict)]
        if (page.get("metadata") or {}).get("continue"):
            items = api.list(f"Kueue {plural}", custom.list_cluster_custom_object, KUEUE_GROUP, version, plural)
        return items

    for version in KUEUE_VERSIONS:
        queues = cluster_list(version, "clusterqueues")
        if queues is not None:
            break
    else:
        return None
    checks = cluster_list(version, "admissionchecks") or []
    multikueue_checks = {str((c.get("metadata") or {}).get("name")) for c in checks
                         if (c.get("spec") or {}).get("controllerName") == MULTIKUEUE_CONTROLLER}
    workers: list[WorkerCluster] = []
    dispatches: list[Dispatch] = []
    for mkc in cluster_list(version, "multikueueclusters") or []:
        active = _condition(mkc, "Active")
        workers.append(WorkerCluster(str((mkc.get("metadata") or {}).get("name", "")),
                                     None if active is None else active.get("status") == "True",
                                     one_line(str((active or {}).get("message") or ""))[:200]))
    if workers:
        workloads = cluster_list(version, "workloads") or []
        found = [d for d in (dispatch_facts(w) for w in workloads) if d is not None]
        found.sort(key=lambda d: d.created or "", reverse=True)
        dispatches = found[:RECENT_DISPATCHES]
    return KueueFacts(version, tuple(sorted((cluster_queue_facts(q, multikueue_checks) for q in queues),
                                            key=lambda q: q.name)),
                      tuple(sorted(workers, key=lambda w: w.name)), tuple(dispatches))


# --- one region -------------------------------------------------------------------------------

def identity_webhook_present(configurations: Iterable[Mapping[str, Any]]) -> bool:
    return any(isinstance(w, dict) and w.get("name") == WI_WEBHOOK_NAME
               for c in configurations for w in c.get("webhooks") or [])


def read_status(api: KubeApi, *, release: str, namespace: str) -> ClusterSnapshot:
    """Read one region's cluster. The first GET (``/version``) decides whether the region
    answers at all: its LiveCheckError is raised. Later reads that fail become ``notes``."""
    version = api.version()
    notes: list[str] = []

    def attempt(what: str, read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except LiveCheckError as exc:
            if exc.status == 401:
                raise
            notes.append(f"{what}: {exc.cause}")
            return default

    core = client.CoreV1Api(api.api_client)
    custom = client.CustomObjectsApi(api.api_client)
    admission = client.AdmissionregistrationV1Api(api.api_client)
    helm = attempt("Helm release", lambda: read_release(api, namespace, release), None)
    pods = attempt("pods", lambda: api.list("pods", core.list_pod_for_all_namespaces, field_selector=UNFINISHED_PODS),
                   [])
    nodes = attempt("nodes", api.nodes, [])
    clusters = attempt("RayClusters", lambda: api.list("RayClusters", custom.list_cluster_custom_object, RAY_GROUP,
                                                       RAY_VERSION, "rayclusters"), [])
    jobs = attempt("RayJobs", lambda: api.list("RayJobs", custom.list_cluster_custom_object, RAY_GROUP, RAY_VERSION,
                                               "rayjobs"), [])
    kueue = attempt("Kueue", lambda: read_kueue(api), None)
    webhooks = attempt("webhooks", lambda: api.list("MutatingWebhookConfigurations",
                                                    admission.list_mutating_webhook_configuration), [])
    claims = attempt("PersistentVolumeClaims", lambda: api.list(
        f"PersistentVolumeClaims in {namespace}", core.list_namespaced_persistent_volume_claim, namespace), [])
    pools, pending = gpu_pools(nodes, pods)
    return ClusterSnapshot(
        server_version=str(version.get("gitVersion") or f"v{version.get('major')}.{version.get('minor')}"),
        release=helm,
        rayclusters=tuple(sorted((raycluster_facts(c, pods) for c in clusters), key=lambda c: (c.namespace, c.name))),
        rayjobs=rayjob_counts(jobs),
        gpu_pools=pools,
        gpus_pending=pending,
        kueue=kueue,
        identity_webhook=identity_webhook_present(webhooks),
        volume_claims=tuple(sorted((VolumeClaim(str((c.get("metadata") or {}).get("namespace", namespace)),
                                                str((c.get("metadata") or {}).get("name", "")),
                                                str((c.get("status") or {}).get("phase") or "Pending"),
                                                (c.get("spec") or {}).get("storageClassName"))
                                    for c in claims), key=lambda v: v.name)),
        notes=tuple(notes),
    )
