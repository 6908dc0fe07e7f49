"""Custom resources (KubeRay) match their CRD (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="custom-resource-schema",
    title="Custom resources (KubeRay) match their CRD",
    severity=Severity.ERROR,
    scope=Scope.PIPELINE,
    rationale=(
        "The KubeRay CRDs validate RayCluster, RayJob and RayService on admission; a field the CRD "
        "does not know or a wrong type is refused by the API server."
    ),
    remediation=(
        "Fix the field named in the message so the object matches the KubeRay CRD of the pinned "
        "operator version."
    ),
    references=("https://github.com/ray-project/kuberay/tree/master/helm-chart/kuberay-operator/crds",),
)
