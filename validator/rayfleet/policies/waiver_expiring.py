"""Waivers are not about to expire (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="waiver-expiring",
    title="Waivers are not about to expire",
    severity=Severity.WARNING,
    scope=Scope.PIPELINE,
    rationale=(
        "A waiver that expires within 14 days will soon stop suppressing its findings and fail the "
        "pipeline; the owner gets a warning first."
    ),
    remediation="Fix the findings the waiver covers, or renew it before it expires.",
)
