"""Values match the chart's values.schema.json (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="values-schema",
    title="Values match the chart's values.schema.json",
    severity=Severity.ERROR,
    scope=Scope.PIPELINE,
    rationale=(
        "Helm refuses to install a release whose merged values fail the chart's values.schema.json; "
        "rayfleet reports it on the values file instead of stopping."
    ),
    remediation="Change the value named in the message so it matches the chart's values.schema.json.",
    references=("https://helm.sh/docs/topics/charts/#schema-files",),
)
