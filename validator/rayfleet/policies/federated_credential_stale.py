"""Managed identities carry no federated credential that no region needs (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import IdentityCredentials, credential_ref
from .base import Policy, Scope


def check(view: IdentityCredentials) -> Iterator[Violation]:
    for found in view.unused:
        owner = view.region_of_issuer(found.issuer)
        why = (f"its issuer is region {owner}'s cluster, whose release has no such ServiceAccount on this identity"
               if owner else "its issuer is no cluster of this fleet (a deleted cluster, or another workload that "
                             "shares the identity)")
        yield Violation(f"federated credential {found.name!r} on {view.identity.label} (issuer {found.issuer!r}, "
                        f"subject {found.subject!r}) is needed by no region: {why}", obj=credential_ref(found.name),
                        path=f"federatedIdentityCredentials/{found.name}", source=view.identity.source,
                        region=owner or view.identity.region)


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
    check=check,
    subject=IdentityCredentials,
)
