"""Readiness gate: wait until a region's RayCluster reports ready.

KubeRay v1.7 reports readiness two ways (``ray.io/v1`` RayCluster ``status``):
- ``conditions`` (feature gate ``RayClusterStatusConditions``, on by default since v1.2):
  ``HeadPodReady`` (the head pod is ready for requests) and ``RayClusterProvisioned`` (all pods
  were ready once; it never goes back). ``ReplicaFailure`` tells why pods cannot be created.
- ``state``: ``ready`` (deprecated, but set by every version), ``failed``, ``suspended``.

A RayCluster is ready when the operator has seen the current spec (``status.observedGeneration``
≥ ``metadata.generation``, where both are present) and either both conditions are ``True`` or, on
an operator that reports no conditions, ``state`` is ``ready``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .client import KubeApi

READY_CONDITIONS = ("HeadPodReady", "RayClusterProvisioned")


@dataclass
class Readiness:
    """Where a RayCluster stands."""

    name: str
    ready: bool
    found: bool = True
    state: str | None = None
    conditions: dict[str, str] = field(default_factory=dict)  # type → status
    reason: str = ""
    waited: float = 0.0


def raycluster_readiness(obj: dict[str, Any] | None, name: str = "") -> Readiness:
    """Read a RayCluster's status (``None``: not created yet)."""
    if obj is None:
        return Readiness(name, ready=False, found=False, reason="the RayCluster does not exist yet")
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or name)
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    state = status.get("state")
    conditions: dict[str, str] = {}
    messages: dict[str, str] = {}
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type"):
            conditions[str(cond["type"])] = str(cond.get("status"))
            messages[str(cond["type"])] = " ".join(
                str(x) for x in (cond.get("reason"), cond.get("message")) if x)
    readiness = Readiness(name, ready=False, state=str(state) if state else None, conditions=conditions)
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        readiness.reason = f"the operator has not seen the new spec yet (generation {generation}, observed {observed})"
        return readiness
    if not status:
        readiness.reason = "no status yet: is the KubeRay operator running?"
        return readiness
    if all(c in conditions for c in READY_CONDITIONS):
        readiness.ready = all(conditions[c] == "True" for c in READY_CONDITIONS)
    else:
        readiness.ready = state == "ready"
    if not readiness.ready:
        waiting = [c for c in READY_CONDITIONS if conditions.get(c) != "True" and c in conditions]
        details = [f"{c}={conditions[c]}" + (f" ({messages[c]})" if messages.get(c) else "") for c in waiting]
        if conditions.get("ReplicaFailure") == "True":
            details.append(f"ReplicaFailure: {messages.get('ReplicaFailure') or 'True'}")
        if status.get("reason"):
            details.append(str(status["reason"]))
        readiness.reason = f"state {state or '(none)'}" + (f"; {'; '.join(details)}" if details else "")
    return readiness


def wait_for_raycluster(api: KubeApi, namespace: str, name: str, *, timeout: float,
                        on_update: Callable[[Readiness], None] | None = None,
                        poll_interval: float = 2.0, clock: Callable[[], float] = time.monotonic) -> Readiness:
    """List the RayCluster, then watch it until it is ready or ``timeout`` seconds pass.

    Returns the last readiness seen (``ready`` False on timeout). A watch the server ends early
    (its own timeout, a 410 Gone) is followed by a fresh list; an unchanged cluster is listed again
    at most every ``poll_interval`` seconds. Raises ``LiveCheckError`` when the API cannot be read.
    """
    start = clock()
    deadline = start + timeout
    last: Readiness | None = None

    def seen(obj: dict[str, Any] | None) -> Readiness:
        nonlocal last
        current = raycluster_readiness(obj, name)
        current.waited = clock() - start
        if on_update is not None and (last is None or (current.ready, current.state, current.conditions,
                                                       current.found) != (last.ready, last.state,
                                                                          last.conditions, last.found)):
            on_update(current)
        last = current
        return current

    while True:
        obj, resource_version = api.raycluster(namespace, name)
        if seen(obj).ready:
            return last  # type: ignore[return-value]
        remaining = deadline - clock()
        if remaining <= 0:
            break
        round_start = clock()
        for kind, event_obj in api.watch_raycluster(namespace, name, resource_version, int(remaining) or 1):
            if seen(None if kind == "DELETED" else event_obj).ready:
                return last  # type: ignore[return-value]
            if clock() >= deadline:
                break
        if clock() >= deadline:
            break
        pause = poll_interval - (clock() - round_start)
        if pause > 0:
            time.sleep(min(pause, max(0.0, deadline - clock())))
    assert last is not None
    last.waited = clock() - start
    last.reason = f"not ready after {timeout:g}s: {last.reason}" if last.reason else f"not ready after {timeout:g}s"
    return last
