"""Each GPU ResourceFlavor selects its worker group's node pool: same node labels, same tolerations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ..kueue import QUEUE_LABEL, cluster_queues, resource_flavors
from ..workloads import ray_cluster_specs
from .base import Policy, ReleaseObjects, Scope


def _toleration(t: dict[str, Any]) -> tuple[str, str, str, str]:
    return (str(t.get("key", "")), str(t.get("operator") or "Equal"), str(t.get("value", "")),
            str(t.get("effect", "")))


def _tolerates(tolerations: set[tuple[str, str, str, str]], taint: dict[str, Any]) -> bool:
    key, value, effect = str(taint.get("key", "")), str(taint.get("value", "")), str(taint.get("effect", ""))
    for t_key, operator, t_value, t_effect in tolerations:
        if t_effect and t_effect != effect:
            continue
        if operator == "Exists" and (not t_key or t_key == key):
            return True
        if operator == "Equal" and t_key == key and t_value == value:
            return True
    return False


def _gpu_groups(release: ReleaseObjects) -> dict[str, tuple[Any, dict[str, str], set, str]]:
    """GPU worker groups of the release's own RayClusters (not queued jobs): name -> (object, nodeSelector,
    tolerations, JSON path of the pod spec)."""
    groups: dict[str, tuple[Any, dict[str, str], set, str]] = {}
    for obj in release.objects:
        labels = obj.metadata.get("labels")
        if obj.kind != "RayCluster" or (isinstance(labels, dict) and labels.get(QUEUE_LABEL)):
            continue
        for pod in release.templates_of(obj):
            if pod.role != "worker" or pod.group is None:
                continue
            if pod.gpus <= 0:
                continue
            selector = pod.spec.get("nodeSelector")
            tolerations = pod.spec.get("tolerations")
            groups[pod.group] = (obj, {str(k): str(v) for k, v in selector.items()} if isinstance(selector, dict)
                                 else {}, {_toleration(t) for t in tolerations if isinstance(t, dict)}
                                 if isinstance(tolerations, list) else set(), pod.at(""))
    return groups


def check(release: ReleaseObjects) -> Iterator[Violation]:
    gpu_queues = [cq for cq in cluster_queues(release).values() if cq.gpu_flavors]
    if not gpu_queues or not any(True for o in release.objects for _ in ray_cluster_specs(o)):
        return
    groups = _gpu_groups(release)
    flavors = resource_flavors(release)
    used = {q.flavor: (cq, q) for cq in gpu_queues for q in cq.gpu_flavors}
    for name, (obj, selector, tolerations, pod_path) in groups.items():
        flavor = flavors.get(name)
        if flavor is None or name not in used:
            what = "no ResourceFlavor" if flavor is None else "a ResourceFlavor no ClusterQueue gives GPU quota"
            yield Violation(f"GPU worker group {name!r} has {what} named after it: Kueue cannot place queued "
                            "GPU jobs on its node pool", obj=obj.ref, path=pod_path)
            continue
        if flavor.node_labels != selector:
            yield Violation(f"ResourceFlavor {name} nodeLabels {flavor.node_labels} differ from worker group "
                            f"{name!r} nodeSelector {selector}: Kueue puts admitted pods on other nodes than "
                            "the group's pool", obj=flavor.obj.ref, path="spec.nodeLabels")
        wanted = {_toleration(t) for t in flavor.tolerations}
        if wanted != tolerations:
            yield Violation(f"ResourceFlavor {name} tolerations differ from worker group {name!r} tolerations: "
                            "admitted pods do not tolerate the node pool's taints (or tolerate others)",
                            obj=flavor.obj.ref, path="spec.tolerations")
        for index, taint in enumerate(flavor.node_taints):
            if not _tolerates(tolerations, taint):
                yield Violation(f"ResourceFlavor {name} declares node taint {taint.get('key')}="
                                f"{taint.get('value', '')}:{taint.get('effect')} that worker group {name!r} does "
                                "not tolerate", obj=flavor.obj.ref, path=f"spec.nodeTaints[{index}]")
    for flavor_name, (cq, quota) in used.items():
        if flavor_name not in groups:
            yield Violation(f"ClusterQueue {cq.name} gives GPU quota to flavor {flavor_name!r}, which is no GPU "
                            "worker group's: its nodes are not a node pool this release runs Ray on",
                            obj=cq.obj.ref, path=quota.path, value=quota.raw)


POLICY = Policy(
    id="kueue-flavors-match-node-pools",
    title="GPU ResourceFlavors select their worker groups' node pools",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "On a worker, Kueue admits a job against a flavor's quota and then adds the flavor's nodeLabels and "
        "tolerations to its pods. The flavor is only right if it selects exactly the node pool whose VM size "
        "and quota the quota was sized from: the GPU worker group of the same name, with the same "
        "nodeSelector and tolerations. A flavor with other labels sends admitted pods to nodes that do not "
        "exist (they stay Pending while holding quota); missing tolerations keep them off the tainted GPU "
        "nodes. Runs where a release has both RayCluster GPU worker groups and a ClusterQueue with GPU quota."
    ),
    remediation=(
        "Render one ResourceFlavor per GPU worker group, named after the group, with nodeLabels equal to the "
        "group's nodeSelector and tolerations equal to the group's tolerations, and give the ClusterQueue GPU "
        "quota only for those flavors."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/concepts/resource_flavor/",
        "https://learn.microsoft.com/azure/aks/gpu-cluster",
    ),
    check=check,
)
