"""The NVIDIA device plugin runs on every GPU node pool the release uses (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import ObjectRef, Severity, Violation
from ..nodes import node_labels, node_taints, taint_text, tolerates
from ..subjects import LiveCluster
from ..workloads import PodTemplate
from .base import Policy, Scope


def is_device_plugin(ds: dict[str, Any]) -> bool:
    """The NVIDIA device plugin DaemonSet: upstream manifest or Helm chart, or the GPU operator's."""
    meta = ds.get("metadata") or {}
    labels = meta.get("labels") or {}
    if "nvidia-device-plugin" in str(meta.get("name", "")) or \
            labels.get("app.kubernetes.io/name") == "nvidia-device-plugin":
        return True
    containers = (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return any("k8s-device-plugin" in str(c.get("image", "")) for c in containers if isinstance(c, dict))


def _tolerations(ds: dict[str, Any]) -> list[Any]:
    return (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("tolerations") or []


def _untolerated(ds: dict[str, Any], taints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tolerations = [t for t in _tolerations(ds) if isinstance(t, dict)]
    return [taint for taint in taints if not any(tolerates(t, taint) for t in tolerations)]


def pool_taints(view: LiveCluster, tpl: PodTemplate) -> tuple[list[dict[str, Any]], str]:
    """The taints of the nodes a GPU group selects; for a pool scaled to zero (no nodes to read),
    the taints the group tolerates, which is what the chart says the pool carries."""
    raw = tpl.spec.get("nodeSelector")
    selector = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    nodes = [n for n in view.cluster.nodes if all(node_labels(n).get(k) == v for k, v in selector.items())]
    if nodes:
        seen: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
        for node in nodes:
            for taint in node_taints(node):
                seen.setdefault((taint.get("key"), taint.get("value"), taint.get("effect")), taint)
        return list(seen.values()), "its nodes carry"
    tolerated = [t for t in tpl.spec.get("tolerations") or [] if isinstance(t, dict) and t.get("key")
                 and t.get("effect") in ("NoSchedule", "NoExecute")]
    return [{"key": t["key"], "value": t.get("value"), "effect": t["effect"]} for t in tolerated], \
        "its pool (no nodes yet) is tainted, as the group's tolerations say,"


def check(view: LiveCluster) -> Iterator[Violation]:
    groups = view.gpu_worker_templates()
    if not groups:
        return
    plugins = [ds for ds in view.cluster.daemon_sets if is_device_plugin(ds)]
    if not plugins:
        if view.region.cluster.is_arc:  # no AKS to install it on an Arc-enabled cluster: nothing else will
            yield Violation("no NVIDIA device plugin DaemonSet in the Arc-enabled cluster (nvidia-device-plugin or "
                            "the GPU operator's), and no AKS to install one: GPU nodes will not advertise "
                            "nvidia.com/gpu", obj=ObjectRef("apps/v1", "DaemonSet", None, "nvidia-device-plugin"),
                            region=view.region_name)
            return
        yield Violation("no NVIDIA device plugin DaemonSet in the cluster (nvidia-device-plugin or the GPU "
                        "operator's): GPU nodes will not advertise nvidia.com/gpu unless AKS installs it",
                        obj=ObjectRef("apps/v1", "DaemonSet", None, "nvidia-device-plugin"),
                        severity=Severity.WARNING, region=view.region_name)
        return
    for tpl in groups:
        taints, how = pool_taints(view, tpl)
        # The plugin DaemonSet that comes closest (clusters may run one per pool).
        best = min(plugins, key=lambda ds: len(_untolerated(ds, taints)))
        gaps = _untolerated(best, taints)
        if not gaps:
            continue
        meta = best.get("metadata") or {}
        ref = ObjectRef("apps/v1", "DaemonSet", meta.get("namespace"), str(meta.get("name", "")))
        yield Violation(f"DaemonSet {meta.get('namespace')}/{meta.get('name')} (the NVIDIA device plugin) does not "
                        f"tolerate {', '.join(taint_text(t) for t in gaps)}, which {how} for {tpl.description} of "
                        f"{tpl.obj.kind} {tpl.obj.name!r}: its nodes never advertise nvidia.com/gpu and the "
                        "pods stay Pending", obj=ref, path="spec.template.spec.tolerations",
                        region=view.region_name)


POLICY = Policy(
    id="preflight-gpu-device-plugin",
    title="The NVIDIA device plugin tolerates the taints of the release's GPU node pools",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "GPUs only appear in a node's allocatable once the NVIDIA device plugin runs on it. The plugin is a "
        "DaemonSet: it skips nodes whose taints it does not tolerate. The upstream plugin tolerates "
        "nvidia.com/gpu only, so on AKS GPU pools tainted sku=gpu:NoSchedule, and on every Spot pool "
        "(kubernetes.azure.com/scalesetpriority=spot:NoSchedule), the GPUs never show up and Ray's GPU pods "
        "stay Pending, even though the chart's own tolerations are right. With no plugin at all it is a "
        "warning on AKS (which installs one on GPU pools) and an error on an Arc-enabled cluster (nothing will)."
    ),
    remediation=(
        "Add the pools' taints to the device plugin's tolerations, e.g. for the nvidia-device-plugin Helm "
        "chart: --set-json 'tolerations=[{\"key\":\"sku\",\"operator\":\"Equal\",\"value\":\"gpu\",\"effect\":"
        "\"NoSchedule\"},{\"key\":\"kubernetes.azure.com/scalesetpriority\",\"operator\":\"Equal\",\"value\":"
        "\"spot\",\"effect\":\"NoSchedule\"},{\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\",\"effect\":"
        "\"NoSchedule\"}]' (GPU operator: daemonsets.tolerations). See docs/charts.md."
    ),
    references=(
        "https://github.com/NVIDIA/k8s-device-plugin#deployment-via-helm",
        "https://learn.microsoft.com/azure/aks/gpu-cluster",
        "https://learn.microsoft.com/azure/aks/spot-node-pool",
    ),
    check=check,
    subject=LiveCluster,
)
