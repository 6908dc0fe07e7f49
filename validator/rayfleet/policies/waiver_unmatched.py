"""Every waiver matches a finding (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="waiver-unmatched",
    title="Every waiver matches a finding",
    severity=Severity.WARNING,
    scope=Scope.PIPELINE,
    rationale=(
        "A waiver that matches nothing is stale or mistyped (a wrong policy ID, region or object "
        "name) and would silently cover a future finding."
    ),
    remediation="Remove the waiver, or correct its policy ID and scope.",
)
