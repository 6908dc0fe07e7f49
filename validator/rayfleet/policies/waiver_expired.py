"""Waivers have not expired (raised by the validation pipeline, not by a check of its own)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY: Policy[object] = Policy(
    id="waiver-expired",
    title="Waivers have not expired",
    severity=Severity.ERROR,
    scope=Scope.PIPELINE,
    rationale=(
        "A waiver is a dated promise to fix something. An expired waiver no longer suppresses its "
        "findings and is itself an error, so the promise is kept or renewed on purpose."
    ),
    remediation=(
        "Fix the findings the waiver covered, or renew the waiver with a new expiry date, reason and "
        "owner."
    ),
)
