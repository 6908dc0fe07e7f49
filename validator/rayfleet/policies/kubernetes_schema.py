"""Objects match the Kubernetes API schema of the cluster's version.

Raised by the validation pipeline, not by a check of its own.
"""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="kubernetes-schema",
    title="Objects match the Kubernetes API schema of the cluster's version",
    severity=Severity.ERROR,
    scope=Scope.PIPELINE,
    rationale=(
        "The API server rejects an object with unknown or mistyped fields, or one the cluster's "
        "Kubernetes version does not serve; checking against that version's OpenAPI schema finds it "
        "before rollout."
    ),
    remediation=(
        "Fix the field named in the message, or the cluster's kubernetesVersion in the fleet file if "
        "it is wrong."
    ),
    references=("https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation",),
)
