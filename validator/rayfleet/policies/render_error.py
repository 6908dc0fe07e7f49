"""The chart renders for the region (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="render-error",
    title="The chart renders for the region",
    severity=Severity.ERROR,
    scope=Scope.PIPELINE,
    rationale=(
        "A region whose chart fails to render (a template error, invalid YAML out of a template, a "
        "chart that cannot be loaded) cannot be installed: helm install would fail the same way."
    ),
    remediation=(
        "Fix the template or the values named in the message, then run rayfleet render for the region"
        " to see the output."
    ),
    references=("https://helm.sh/docs/chart_template_guide/debugging/",),
)
