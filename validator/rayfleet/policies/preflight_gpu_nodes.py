"""GPU worker groups have nodes to run on (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ..nodes import allocatable_gpus, describe_nodes, node_labels, nodes_by_pool, taint_text, untolerated_taints
from ..subjects import LiveCluster
from ..wellknown import INSTANCE_TYPE_LABELS
from ..workloads import PodTemplate
from .base import Policy, Scope

INSTANCE_TYPE = INSTANCE_TYPE_LABELS[0]


def _check_group(view: LiveCluster, tpl: PodTemplate) -> Iterator[Violation]:
    raw = tpl.spec.get("nodeSelector")
    selector = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    tolerations = tpl.spec.get("tolerations") if isinstance(tpl.spec.get("tolerations"), list) else []
    want_size = selector.pop(INSTANCE_TYPE, None)
    gpus = tpl.gpus
    group = tpl.description
    base: dict[str, Any] = {"obj": tpl.obj.ref, "region": view.region_name}
    nodes = view.cluster.nodes

    labelled = [n for n in nodes if all(node_labels(n).get(k) == v for k, v in selector.items())]
    if not labelled:
        missing = [f"{k}={v}" for k, v in selector.items()
                   if not any(node_labels(n).get(k) == v for n in nodes)]
        detail = (f"no node has {', '.join(missing)}" if missing
                  else "no single node has all of them")
        yield Violation(f"{group} selects nodes with {_fmt(selector) or 'any labels'} but {detail} "
                        f"({len(nodes)} nodes in the cluster)", path=tpl.at("nodeSelector"),
                        value=next((v for k, v in selector.items() if f"{k}={v}" in missing), None), **base)
        return
    schedulable = [n for n in labelled if not untolerated_taints(n, tolerations)]
    if not schedulable:
        blocking = sorted({taint_text(t) for n in labelled for t in untolerated_taints(n, tolerations)})
        yield Violation(f"{group}: the nodes it selects ({describe_nodes(labelled)}) carry taints it does "
                        f"not tolerate: {', '.join(blocking)}", path=tpl.at("tolerations"), **base)
        return
    with_gpus = [n for n in schedulable if allocatable_gpus(n) >= gpus]
    if not with_gpus:
        most = max(allocatable_gpus(n) for n in schedulable)
        yield Violation(f"{group} asks for {gpus:g} nvidia.com/gpu per pod, but the nodes it can run on "
                        f"({describe_nodes(schedulable)}) have at most {most:g} allocatable: is the NVIDIA "
                        "device plugin running, and is the VM size right?",
                        path=tpl.at("containers"), **base)
        return
    if want_size and not any(node_labels(n).get(INSTANCE_TYPE) == want_size for n in with_gpus):
        pools = "; ".join(
            f"pool {pool} is {', '.join(sorted({node_labels(n).get(INSTANCE_TYPE, '?') for n in members}))}"
            for pool, members in nodes_by_pool(with_gpus))
        yield Violation(f"{group} selects VM size {want_size} ({INSTANCE_TYPE}) but its node pools run "
                        f"another size ({pools}): its pods will not schedule there, and GPU counts and "
                        "quota assume the wrong size", path=f"{tpl.at('nodeSelector')}.{INSTANCE_TYPE}",
                        value=want_size, severity=Severity.WARNING, **base)


def _fmt(selector: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in selector.items())


def check(view: LiveCluster) -> Iterator[Violation]:
    for tpl in view.gpu_worker_templates():
        yield from _check_group(view, tpl)


POLICY = Policy(
    id="preflight-gpu-nodes",
    title="GPU worker groups have nodes that match, tolerate and expose GPUs",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "A GPU worker group's pods only schedule on a node that has every label of the group's nodeSelector, "
        "whose NoSchedule/NoExecute taints the group tolerates, and that advertises enough nvidia.com/gpu in "
        "allocatable (the NVIDIA device plugin). Otherwise the pods stay Pending and Ray never gets its GPUs. "
        "The node pool's VM size (node.kubernetes.io/instance-type) is compared separately, as a warning, so "
        "the finding names the pool and both sizes."
    ),
    remediation=(
        "Add or fix the AKS GPU node pool (labels, taints such as sku=gpu:NoSchedule, VM size), install the "
        "NVIDIA device plugin, or change the worker group's nodePool, vmSize and tolerations to match. "
        "Node pools scaled to zero have no nodes to check: keep one node, or waive this policy for the region."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/gpu-cluster",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",
    ),
    check=check,
    subject=LiveCluster,
)
