"""KubeRay CRDs are available to check against (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="kuberay-crds-unavailable",
    title="KubeRay CRDs are available to check against",
    severity=Severity.WARNING,
    scope=Scope.PIPELINE,
    rationale=(
        "Without the KubeRay CRDs, RayCluster, RayJob and RayService objects cannot be schema-"
        "checked; rayfleet says so instead of passing them silently."
    ),
    remediation=(
        "Run helm dependency build on the chart (the kuberay-operator dependency ships the CRDs) or "
        "pass --crds with the folder that holds them."
    ),
    references=("https://github.com/ray-project/kuberay/tree/master/helm-chart/kuberay-operator/crds",),
)
