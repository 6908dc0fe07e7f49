"""Preflight: is a region's cluster ready for its release?

``gather_cluster_state`` reads what the checks need (version, KubeRay CRDs, the Blob CSI driver,
mutating webhooks, nodes, the release namespace); the ``preflight-*`` policies (``Scope.LIVE``,
registered in ``rayfleet.policies``) turn that into findings like any other policy's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import to_finding
from ..findings import Finding, SourceLocation
from ..result import RegionSummary, Result
from .client import KubeApi

if TYPE_CHECKING:
    from ..fleet import Fleet, Region
    from ..policies.base import Policy, Release
    from ..workloads import PodTemplate

PREFLIGHT_PREFIX = "preflight-"
BLOB_CSI_DRIVER = "blob.csi.azure.com"
TOKEN_AUDIENCE = "api://AzureADTokenExchange"
WI_WEBHOOK_CONFIGURATION = "azure-wi-webhook-mutating-webhook-configuration"
WI_WEBHOOK_NAME = "mutation.azure-workload-identity.io"
WI_WEBHOOK_SERVICE = "azure-wi-webhook-webhook-service"
WI_USE_LABEL = "azure.workload.identity/use"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
AGENT_POOL = "kubernetes.azure.com/agentpool"
GPU_RESOURCE = "nvidia.com/gpu"
RAY_CRDS = {"RayCluster": "rayclusters.ray.io", "RayJob": "rayjobs.ray.io", "RayService": "rayservices.ray.io"}
OPERATOR_NAME = "kuberay-operator"


@dataclass
class ClusterState:
    """What preflight read from one cluster, as the API server sent it."""

    server: str
    version: dict[str, Any]
    crds: dict[str, dict[str, Any] | None]  # CRD name → object, None when absent
    csi_driver: dict[str, Any] | None
    webhook_configurations: list[dict[str, Any]]
    nodes: list[dict[str, Any]]
    namespace: dict[str, Any] | None
    daemon_sets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def git_version(self) -> str:
        return str(self.version.get("gitVersion") or f"v{self.version.get('major')}.{self.version.get('minor')}")

    @property
    def minor(self) -> str | None:
        """``1.33`` from ``v1.33.2`` (or from major/minor, where ``minor`` may read ``33+``)."""
        match = re.match(r"^v?(\d+)\.(\d+)", self.git_version)
        if match:
            return f"{match.group(1)}.{match.group(2)}"
        major, minor = str(self.version.get("major", "")), str(self.version.get("minor", "")).rstrip("+")
        return f"{major}.{minor}" if major.isdigit() and minor.isdigit() else None


@dataclass
class PreflightView:
    """What a preflight policy looks at: the region, its rendered release, and the live cluster."""

    region: Region
    cluster: ClusterState
    release: Release | None = None
    fleet: Fleet | None = None
    create_namespace: bool = True
    chart_crds: list[dict[str, Any]] = field(default_factory=list)  # the pinned operator's CRDs
    _gpu: list[PodTemplate] | None = field(default=None, repr=False)

    @property
    def region_name(self) -> str:
        return self.region.name

    @property
    def operator_in_release(self) -> bool:
        """The release installs the KubeRay operator (and, on first install, its CRDs)."""
        return operator_enabled(self.release, self.fleet)

    def required_crds(self) -> list[str]:
        return required_crds(self.release)

    def gpu_worker_templates(self) -> list[PodTemplate]:
        """Worker group pod templates that ask for NVIDIA GPUs (one per group)."""
        if self._gpu is None:
            from ..policies._helpers import gpu_limit

            seen: set[tuple[str, str | None]] = set()
            out = []
            if self.release is not None:
                for tpl in self.release.pod_templates():
                    key = (tpl.obj.name, tpl.group)
                    if tpl.role == "worker" and gpu_limit(tpl) > 0 and key not in seen:
                        seen.add(key)
                        out.append(tpl)
            self._gpu = out
        return self._gpu

    def uses_blob_csi(self) -> bool:
        """Whether the release mounts Blob CSI volumes (unknown release: assume it does)."""
        if self.release is None:
            return True
        for obj in self.release.objects:
            body = obj.body
            spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
            if obj.kind == "StorageClass" and body.get("provisioner") == BLOB_CSI_DRIVER:
                return True
            if obj.kind == "PersistentVolume" and (spec.get("csi") or {}).get("driver") == BLOB_CSI_DRIVER:
                return True
        return any((v.get("csi") or {}).get("driver") == BLOB_CSI_DRIVER
                   for tpl in self.release.pod_templates() for _, v in tpl.volumes()
                   if isinstance(v.get("csi"), dict))

    def uses_workload_identity(self) -> bool:
        """Whether any pod of the release carries ``azure.workload.identity/use: "true"``."""
        if self.release is None:
            return True
        return any(str(tpl.labels.get(WI_USE_LABEL, "")).lower() == "true" for tpl in self.release.pod_templates())

    def fleet_source(self, *key: str | int) -> SourceLocation | None:
        """Where the region's ``key`` sits in the fleet file (for findings about the fleet file)."""
        if self.fleet is None:
            return None
        line = None
        if self.fleet.document is not None:
            index = next((i for i, r in enumerate(self.fleet.regions) if r.name == self.region.name), None)
            if index is not None:
                line = self.fleet.document.line_of(("regions", index, *key))
        return SourceLocation(str(self.fleet.path), line)


def required_crds(release: Release | None) -> list[str]:
    """The KubeRay CRDs a release needs: RayCluster always (rollout waits on it), plus the kinds
    it renders."""
    kinds = {"RayCluster"}
    if release is not None:
        kinds |= {o.kind for o in release.objects if o.group == "ray.io" and o.kind in RAY_CRDS}
    return sorted(RAY_CRDS[k] for k in kinds)


def operator_enabled(release: Release | None, fleet: Fleet | None) -> bool:
    """The release renders the operator Deployment, or its values (or the chart's defaults)
    set ``kuberay-operator.enabled``."""
    if release is not None:
        for obj in release.of_kind("Deployment"):
            labels = obj.metadata.get("labels") if isinstance(obj.metadata.get("labels"), dict) else {}
            if labels.get("app.kubernetes.io/name") == OPERATOR_NAME or OPERATOR_NAME in obj.name:
                return True
        if release.values is not None:
            block = release.values.merged.get(OPERATOR_NAME)
            if isinstance(block, dict) and "enabled" in block:
                return block["enabled"] is True
    if fleet is not None:
        return _chart_default_enabled(fleet.chart)
    return False


def _chart_default_enabled(chart: Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError, KeyError, IndexError, TypeError, RecursionError):
        return False  # a chart Helm cannot read either: the render reports it
    block = data.get(OPERATOR_NAME) if isinstance(data, dict) else None
    return isinstance(block, dict) and block.get("enabled") is True


# --- node matching (Kubernetes scheduling rules for nodeSelector and taints) -------------------

def node_labels(node: dict[str, Any]) -> dict[str, str]:
    labels = (node.get("metadata") or {}).get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def node_name(node: dict[str, Any]) -> str:
    return str((node.get("metadata") or {}).get("name", "?"))


def node_taints(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The taints that keep pods off a node (NoSchedule, NoExecute); PreferNoSchedule does not."""
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if isinstance(t, dict) and t.get("effect") in ("NoSchedule", "NoExecute")]


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """Kubernetes' ``Toleration.ToleratesTaint``."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    operator = toleration.get("operator") or "Equal"
    key = toleration.get("key")
    if not key:
        return operator == "Exists"
    if key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    return str(toleration.get("value") or "") == str(taint.get("value") or "")


def untolerated_taints(node: dict[str, Any], tolerations: Sequence[Any]) -> list[dict[str, Any]]:
    tols = [t for t in tolerations if isinstance(t, dict)]
    return [taint for taint in node_taints(node) if not any(tolerates(t, taint) for t in tols)]


def allocatable_gpus(node: dict[str, Any]) -> float:
    value = ((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE)
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def taint_text(taint: dict[str, Any]) -> str:
    value = taint.get("value")
    return f"{taint.get('key')}{'=' + str(value) if value else ''}:{taint.get('effect')}"


# --- running -----------------------------------------------------------------------------------

def gather_cluster_state(api: KubeApi, crd_names: Sequence[str], namespace: str) -> ClusterState:
    """Read everything the preflight policies look at, in a handful of GETs."""
    version = api.version()
    return ClusterState(
        server=api.server,
        version=version,
        crds={name: api.crd(name) for name in crd_names},
        csi_driver=api.csi_driver(BLOB_CSI_DRIVER),
        webhook_configurations=api.mutating_webhook_configurations(),
        nodes=api.nodes(),
        namespace=api.namespace(namespace),
        daemon_sets=api.daemon_sets(),
    )


def preflight_policies() -> tuple[Policy, ...]:
    from ..policies import ALL_POLICIES, Scope

    return tuple(p for p in ALL_POLICIES
                 if p.scope is Scope.LIVE and p.id.startswith(PREFLIGHT_PREFIX) and p.check is not None)


def check_region(view: PreflightView, policies: Sequence[Policy] | None = None) -> list[Finding]:
    """Every preflight policy over one region's cluster state."""
    findings: list[Finding] = []
    default = SourceLocation(str(view.fleet.path)) if view.fleet is not None else None
    objects = {o.ref: o for o in view.release.objects} if view.release is not None else {}
    for policy in policies if policies is not None else preflight_policies():
        assert policy.check is not None
        for violation in policy.check(view):
            obj = objects.get(violation.obj) if violation.obj is not None else None
            finding = to_finding(policy, violation, view.release, obj, default_source=default)
            findings.append(finding if finding.region else _with_region(finding, view.region_name))
    return findings


def _with_region(finding: Finding, region: str) -> Finding:
    from dataclasses import replace

    return replace(finding, region=region)


def chart_crds(fleet: Fleet | None) -> list[dict[str, Any]]:
    """The CRDs the fleet's chart ships: the pinned kuberay-operator's ``crds/`` once
    ``helm dependency build`` has fetched it (empty before)."""
    if fleet is None:
        return []
    from ..render import EmbeddedHelm
    from ..schemas_check import crds_from_chart_files

    return crds_from_chart_files(EmbeddedHelm().chart_crds(fleet.chart))


def preflight_region(region: Region, *, fleet: Fleet | None = None, release: Release | None = None,
                     kubeconfig: str | Path | None = None, create_namespace: bool = True,
                     api: KubeApi | None = None, crds: list[dict[str, Any]] | None = None) -> list[Finding]:
    """Connect to the region's kube context, read the cluster, run the preflight policies.

    ``crds`` are the CRDs the served ones are compared with (default: the chart's). Raises
    ``LiveCheckError`` (one line, naming the region) when the cluster cannot be read.
    """
    owned = api is None
    api = api or KubeApi.connect(region, kubeconfig)
    try:
        state = gather_cluster_state(api, required_crds(release), region.namespace)
    finally:
        if owned:
            api.close()
    view = PreflightView(region, state, release, fleet, create_namespace,
                         chart_crds=chart_crds(fleet) if crds is None else crds)
    return check_region(view)


def run_preflight(fleet: Fleet, *, regions: Sequence[str] | None = None, kubeconfig: str | Path | None = None,
                  create_namespace: bool = True, releases: dict[str, Release] | None = None) -> Result:
    """``rayfleet preflight``: every selected region's cluster, with waivers applied."""
    from ..waivers import apply_waivers

    selected = fleet.select(list(regions) if regions else None)
    if releases is None:
        from ..pipeline import render_fleet

        releases = {name: render.release for name, render in render_fleet(fleet, [r.name for r in selected]).items()}
    result = Result(command="preflight", policies=preflight_policies())
    crds = chart_crds(fleet)  # read from the chart once, compared with every region's
    for region in selected:
        findings = preflight_region(region, fleet=fleet, release=releases.get(region.name),
                                    kubeconfig=kubeconfig, create_namespace=create_namespace, crds=crds)
        result.findings.extend(findings)
        result.regions.append(RegionSummary(region.name, objects=len(releases[region.name].objects)
                                            if region.name in releases else 0))
    result.findings = [f for f in apply_waivers(fleet, result.findings, regions=[r.name for r in selected])
                       if not f.policy.startswith("waiver-")]
    return result


def describe_nodes(nodes: Sequence[dict[str, Any]], limit: int = 3) -> str:
    names = [node_name(n) for n in nodes]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def nodes_by_pool(nodes: Sequence[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    pools: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        pools.setdefault(node_labels(node).get(AGENT_POOL, node_name(node)), []).append(node)
    yield from pools.items()
