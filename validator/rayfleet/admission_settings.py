"""The fleet's policy settings as the CEL literals the admission policies bake in.

Kept apart from ``build`` (which reads the catalogue) so a policy can compare what a release's
admission objects enforce with the fleet's settings without importing the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .fleet import PolicySettings

AKS_DEFAULT_GPU_TAINT = {"key": "sku", "value": "gpu", "effect": "NoSchedule"}
POLICY_ANNOTATION = "rayfleet.io/policy"
SETTING_VALUES = {"allowedRegistries": "admissionPolicies.allowedRegistries", "gpuTaint": "admissionPolicies.gpuTaint"}


def registry_prefixes(entries: Iterable[str]) -> list[str]:
    """Allowlist entries as image-registry-allowed compares them: host lower-cased, no trailing /."""
    out = []
    for entry in entries:
        host, _, rest = entry.strip().partition("/")
        prefix = (host.lower() + ("/" + rest if rest else "")).rstrip("/")
        if prefix:
            out.append(prefix)
    return out


def cel_json(value: Any) -> str:
    """JSON as Helm's toJson writes it (Go's encoding/json: no spaces, sorted keys), so the chart's
    objects and the export's are byte-equal. JSON lists, maps and strings are valid CEL literals."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def setting_literals(settings: PolicySettings) -> dict[str, str]:
    """Each setting a twin reads, as a CEL literal."""
    taint = settings.gpu_taint
    gpu = {"key": taint[0], "value": taint[1], "effect": taint[2]} if taint else AKS_DEFAULT_GPU_TAINT
    return {"allowedRegistries": cel_json(registry_prefixes(settings.allowed_registries)), "gpuTaint": cel_json(gpu)}


def declared_settings(settings: PolicySettings) -> set[str]:
    declared = set()
    if settings.gpu_taint:
        declared.add("gpuTaint")
    if settings.allowed_registries:
        declared.add("allowedRegistries")
    return declared


__all__ = ["AKS_DEFAULT_GPU_TAINT", "POLICY_ANNOTATION", "SETTING_VALUES", "cel_json", "declared_settings",
           "registry_prefixes", "setting_literals"]
