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
        "does not know or a wrong type is refused by the API server. Objects are checked the way the "
        "API server checks them: first null is pruned from every field the CRD does not mark nullable "
        "(an empty metadata: in a pod template is null in YAML), then the CRD's structural defaults are "
        "applied (KubeRay marks a worker group's minReplicas and maxReplicas required but defaults them "
        "to 0 and 2147483647), and only then is the schema validated. So a field that is required but "
        "defaulted is never reported missing, while a null in a required field without a default is."
    ),
    remediation=(
        "Fix the field named in the message so the object matches the KubeRay CRD of the pinned "
        "operator version."
    ),
    references=(
        "https://github.com/ray-project/kuberay/tree/master/helm-chart/kuberay-operator/crds",
        "https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting-and-nullable",
    ),
)
