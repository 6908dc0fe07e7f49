"""The KubeRay CRDs are installed and serve ray.io/v1, or the release installs the operator (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import ObjectRef, Severity, Violation
from ..subjects import LiveCluster
from .base import Policy, Scope

CRD_API = "apiextensions.k8s.io/v1"


def _served(crd: dict[str, Any]) -> list[str]:
    versions = (crd.get("spec") or {}).get("versions") or []
    return [str(v.get("name")) for v in versions if isinstance(v, dict) and v.get("served")]


def check(view: LiveCluster) -> Iterator[Violation]:
    operator = view.operator_in_release
    for name in view.required_crds():
        ref = ObjectRef(CRD_API, "CustomResourceDefinition", None, name)
        crd = view.cluster.crds.get(name)
        if crd is None:
            if operator:
                yield Violation(f"CRD {name} is not installed; the release installs the KubeRay operator, "
                                "and Helm installs its CRDs on the first install", obj=ref,
                                severity=Severity.INFO, region=view.region_name)
            else:
                yield Violation(f"CRD {name} is not installed and the release does not install the KubeRay "
                                "operator (kuberay-operator.enabled is false)", obj=ref, region=view.region_name)
            continue
        served = _served(crd)
        if "v1" not in served:
            yield Violation(f"CRD {name} serves {', '.join(served) or 'no version'}, not ray.io/v1: the "
                            "installed KubeRay is too old for the release (helm upgrade never updates CRDs)",
                            obj=ref, path="spec.versions", region=view.region_name)


POLICY = Policy(
    id="preflight-kuberay-crds",
    title="The KubeRay CRDs serve ray.io/v1 (or the release installs the operator)",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "The release creates ray.io/v1 RayClusters. Without the CRDs the install fails; with CRDs from an "
        "old KubeRay that only serve v1alpha1, it fails or fields are pruned. Helm installs a chart's crds/ "
        "only on the first install and never upgrades them, so an old CRD stays old."
    ),
    remediation=(
        "Install or upgrade the CRDs first: kubectl apply --server-side --force-conflicts -k "
        "\"github.com/ray-project/kuberay/ray-operator/config/crd?ref=v1.7.0\", or enable kuberay-operator "
        "in the release (or the AKS KubeRay extension)."
    ),
    references=(
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/upgrade-guide.html",
        "https://helm.sh/docs/chart_best_practices/custom_resource_definitions/",
    ),
    check=check,
    subject=LiveCluster,
)
