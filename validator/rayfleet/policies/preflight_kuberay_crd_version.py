"""The cluster serves KubeRay CRDs at least as new as the chart's (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import ObjectRef, Severity, Violation
from ..subjects import LiveCluster
from .base import Policy, Scope

SHOWN = 3  # missing fields named in a message


def _v1_schema(crd: dict[str, Any]) -> dict[str, Any] | None:
    for version in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(version, dict) and version.get("name") == "v1":
            return ((version.get("schema") or {}).get("openAPIV3Schema")) or {}
    return None


def field_paths(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """(path, open) for every named field of an OpenAPI schema; ``open`` marks a field that keeps
    unknown fields (``x-kubernetes-preserve-unknown-fields``), under which anything is served."""
    yield prefix, bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    for name, child in (schema.get("properties") or {}).items():
        if isinstance(child, dict):
            yield from field_paths(child, f"{prefix}.{name}" if prefix else str(name))
    for key in ("items", "additionalProperties"):
        child = schema.get(key)
        if isinstance(child, dict):
            yield from field_paths(child, f"{prefix}[]")


def missing_fields(chart: dict[str, Any], served: dict[str, Any]) -> list[str]:
    """Fields the chart's v1 schema has that the served one neither has nor keeps as unknown."""
    served_paths = dict(field_paths(served))
    open_paths = [p for p, is_open in served_paths.items() if is_open]
    missing = []
    for path, _ in field_paths(chart):
        if path in served_paths or any(path.startswith(p + ".") or path.startswith(p + "[") or p == ""
                                       for p in open_paths):
            continue
        if not any(path.startswith(m + ".") or path.startswith(m + "[") for m in missing):
            missing.append(path)  # only the top of each missing subtree
    return missing


def check(view: LiveCluster) -> Iterator[Violation]:
    for crd in view.chart_crds:
        name = str((crd.get("metadata") or {}).get("name", ""))
        served = view.cluster.crds.get(name)
        chart_schema = _v1_schema(crd)
        if served is None or chart_schema is None or (crd.get("spec") or {}).get("group") != "ray.io":
            continue  # absent CRDs are preflight-kuberay-crds' to report
        served_schema = _v1_schema(served)
        missing = missing_fields(chart_schema, served_schema or {}) if served_schema is not None else ["v1"]
        if not missing:
            continue
        shown = ", ".join(missing[:SHOWN]) + (f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else "")
        fix = ("rayfleet rollout applies the chart's CRDs server-side before helm" if view.operator_in_release
               else "the operator in this cluster is older than the chart pins")
        yield Violation(f"CustomResourceDefinition {name} in the cluster is older than the chart's: it lacks "
                        f"{shown}; the API server prunes those fields from every object ({fix})",
                        obj=ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name),
                        path="spec.versions", region=view.region_name)


POLICY = Policy(
    id="preflight-kuberay-crd-version",
    title="The cluster's KubeRay CRDs are as new as the chart's",
    severity=Severity.WARNING,
    scope=Scope.LIVE,
    rationale=(
        "Helm installs a chart's crds/ once and never upgrades them, so a cluster keeps the CRDs of the first "
        "operator version it ran. The API server silently prunes fields the served schema does not know "
        "(e.g. newer gcsFaultToleranceOptions or autoscaler fields), so a RayCluster renders right and runs "
        "wrong. The served v1 schema is compared field by field with the pinned operator's CRD."
    ),
    remediation=(
        "Run rayfleet rollout (it applies the pinned operator's CRDs server-side, field manager rayfleet, "
        "before the Helm step) or: kubectl apply --server-side --force-conflicts -f "
        "charts/ray-aks/charts/kuberay-operator/crds/ (after helm dependency build). Client-side kubectl "
        "apply fails: the CRDs exceed the 256 KiB annotation limit."
    ),
    references=(
        "https://github.com/ray-project/kuberay/tree/v1.7.0/helm-chart/kuberay-operator#upgrading",
        "https://github.com/ray-project/kuberay/issues/271",
        "https://helm.sh/docs/chart_best_practices/custom_resource_definitions/",
    ),
    check=check,
    subject=LiveCluster,
)
