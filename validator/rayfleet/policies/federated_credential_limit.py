"""No managed identity needs more than 20 federated identity credentials across the fleet."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, SourceLocation, Violation
from ..identity import MAX_CREDENTIALS_PER_IDENTITY, plan_credentials
from .base import FleetView, Policy, Reads, Scope


def _identity_line(view: FleetView, client_id: str) -> int | None:
    """The fleet-file line where a region first lists the identity."""
    document = view.fleet.document
    if document is None:
        return None
    for r_index, region in enumerate(view.fleet.regions):
        for i_index, identity in enumerate(region.identities):
            if identity.client_id.lower() == client_id:
                return document.line_of(("regions", r_index, "identities", i_index))
    return None


def check(view: FleetView) -> Iterator[Violation]:
    plan = plan_credentials(view.fleet, view.releases)
    for client_id, creds in plan.over_limit().items():
        regions = list(dict.fromkeys(c.region for c in creds))
        subjects = len({c.subject for c in creds})
        yield Violation(
            f"managed identity {creds[0].identity_label} needs {len(creds)} federated credentials "
            f"({subjects} ServiceAccount subject(s) in {len(regions)} region(s): {', '.join(regions)}); "
            f"Entra ID allows at most {MAX_CREDENTIALS_PER_IDENTITY} per identity. Use one managed identity "
            "per region (set global.azure.clientId in each region's values file)",
            source=SourceLocation(str(view.fleet.path), _identity_line(view, client_id)),
            value=creds[0].client_id,
        )


POLICY = Policy(
    id="federated-credential-limit",
    title="No managed identity needs more than 20 federated credentials",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "Every (cluster OIDC issuer, ServiceAccount) pair that uses a managed identity needs its own "
        "federated identity credential on that identity, and Entra ID allows at most 20 per user-assigned "
        "identity. One identity shared by every region needs regions x ServiceAccounts credentials, so a "
        "fleet that grows past the limit cannot create the credential for its newest region and that "
        "region's pods fail token exchange with AADSTS70021."
    ),
    remediation=(
        "Give each region its own user-assigned managed identity (one identity per region/cluster) and "
        "set its client ID in that region's values file; or reduce the ServiceAccounts that use the "
        "shared identity."
    ),
    references=(
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations",
        "https://learn.microsoft.com/azure/aks/workload-identity-overview",
    ),
    check=check,
    reads=frozenset({Reads.CREDENTIAL_PLAN}),
)
