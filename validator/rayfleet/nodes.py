"""Kubernetes nodes as the API server sends them: labels, taints and tolerations (the scheduler's
rules), allocatable GPUs. Read by the preflight policies and by ``rayfleet status``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .quantities import parse_quantity
from .wellknown import AGENT_POOL_LABEL, GPU_RESOURCE


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
    return parse_quantity(value) or 0.0 if value is not None else 0.0


def taint_text(taint: dict[str, Any]) -> str:
    value = taint.get("value")
    return f"{taint.get('key')}{'=' + str(value) if value else ''}:{taint.get('effect')}"


def describe_nodes(nodes: Sequence[dict[str, Any]], limit: int = 3) -> str:
    names = [node_name(n) for n in nodes]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def nodes_by_pool(nodes: Sequence[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    pools: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        pools.setdefault(node_labels(node).get(AGENT_POOL_LABEL, node_name(node)), []).append(node)
    yield from pools.items()
