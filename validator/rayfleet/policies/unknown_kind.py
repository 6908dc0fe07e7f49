"""Every object has a schema to check against (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="unknown-kind",
    title="Every object has a schema to check against",
    severity=Severity.WARNING,
    scope=Scope.PIPELINE,
    rationale=(
        "An object whose kind has no schema for the cluster's Kubernetes version and no CRD is not "
        "checked at all; it may also be a kind the cluster does not serve."
    ),
    remediation="Pass the CRD of the kind with --crds, or fix the apiVersion and kind.",
    references=("https://kubernetes.io/docs/reference/using-api/deprecation-guide/",),
)
