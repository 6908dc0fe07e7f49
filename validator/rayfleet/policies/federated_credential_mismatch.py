"""Federated credentials carry the issuer, subject and audience the fleet needs (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import IdentityCredentials, service_account_ref
from ..wellknown import TOKEN_AUDIENCE as AUDIENCE
from .base import Policy, Scope


def check(view: IdentityCredentials) -> Iterator[Violation]:
    for match in view.matches:
        found, cred = match.existing, match.planned
        if found is None:
            continue
        problems = []
        if found.issuer != match.issuer:
            slash = " (trailing slash)" if found.issuer.rstrip("/") == match.issuer.rstrip("/") else ""
            problems.append(f"issuer {found.issuer!r} instead of {match.issuer!r}{slash}")
        if found.subject != cred.subject:
            problems.append(f"subject {found.subject!r} instead of {cred.subject!r}")
        if list(found.audiences) != [AUDIENCE]:
            problems.append(f"audiences {list(found.audiences)} instead of [{AUDIENCE!r}] (AADSTS700212)")
        if not problems:
            continue
        code = "AADSTS70021" if not match.exact else "AADSTS700212"
        yield Violation(f"federated credential {found.name!r} on {view.identity.label} has {'; '.join(problems)}: "
                        f"token exchange for ServiceAccount {cred.namespace}/{cred.service_account} of region "
                        f"{cred.region} fails with {code}", obj=service_account_ref(cred),
                        path=f"federatedIdentityCredentials/{found.name}.properties", source=view.identity.source,
                        region=cred.region)


POLICY = Policy(
    id="federated-credential-mismatch",
    title="Federated credentials match the cluster's issuer, the subject and the audience",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "Entra ID matches the issuer, subject and audience of a federated credential exactly, and case "
        "sensitively. An issuer without the trailing slash AKS gives it (the most common cause of "
        "AADSTS70021), the issuer of a deleted or recreated cluster, a typo in the namespace or "
        "ServiceAccount, or an audience other than api://AzureADTokenExchange (AADSTS700212) all make "
        "the token exchange fail at run time, while the credential looks present. Raised by "
        "`rayfleet identity check --live`."
    ),
    remediation=(
        "Update the credential to the planned values: re-run its command from "
        "`rayfleet identity plan --format az` (creating a credential with the same name replaces it). "
        "Copy the issuer from `az aks show --query oidcIssuerProfile.issuerUrl -o tsv`, trailing slash "
        "included."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/troubleshooting.html",
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations",
    ),
    check=check,
    subject=IdentityCredentials,
)
