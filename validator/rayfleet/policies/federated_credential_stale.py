"""Managed identities carry no federated credential that no region needs (live check)."""

from ..findings import Severity
from .base import Policy, Scope

POLICY = Policy(
    id="federated-credential-stale",
    title="No stale federated credentials on the fleet's managed identities",
    severity=Severity.WARNING,
    scope=Scope.LIVE,
    rationale=(
        "A credential that no region of the fleet needs (a deleted cluster's issuer, a renamed "
        "ServiceAccount or namespace) still lets whoever controls that issuer and subject act as the "
        "identity, and it counts toward the 20 credentials an identity may have. Raised by "
        "`rayfleet identity check --live`; a credential that another workload sharing the identity "
        "needs is legitimate: waive it by region and name."
    ),
    remediation=(
        "Delete it with `az identity federated-credential delete --identity-name <identity> "
        "--resource-group <group> --name <credential>`, or waive the finding if another workload uses "
        "the identity."
    ),
    references=(
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations",
    ),
)
