"""What the API server does to a custom resource before it validates it: prune ``null`` from fields
that are not ``nullable``, then apply the structural schema's ``default`` values.

Without these two steps a valid object fails: KubeRay marks ``minReplicas``/``maxReplicas``
``required`` and gives them defaults, so a worker group that leaves them out is accepted by the
cluster; and an empty ``metadata:`` in a pod template is ``null`` in YAML, which the server drops.
(Kubernetes: "Defaulting and Nullable" in the CustomResourceDefinition docs.)
"""

from __future__ import annotations

import copy
from typing import Any


def _allows_null(schema: dict[str, Any]) -> bool:
    return schema.get("nullable") is True


def prune_and_default(schema: Any, value: Any) -> Any:
    """A copy of ``value`` with nulls pruned and defaults applied, following ``schema`` (an
    openAPIV3Schema). Parts the schema does not describe are returned as they are."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = props.get(key) if isinstance(props, dict) else None
            if sub is None and isinstance(extra, dict):
                sub = extra
            if item is None and isinstance(sub, dict) and not _allows_null(sub):
                continue  # the server prunes it, so it counts as absent
            out[key] = prune_and_default(sub, item)
        if isinstance(props, dict):
            for key, sub in props.items():
                if key not in out and isinstance(sub, dict) and "default" in sub:
                    out[key] = prune_and_default(sub, copy.deepcopy(sub["default"]))
        return out
    if isinstance(value, list):
        items = schema.get("items")
        return [prune_and_default(items, item) for item in value] if isinstance(items, dict) else value
    return value
