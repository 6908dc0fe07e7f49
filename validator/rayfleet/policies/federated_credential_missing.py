"""Every federated credential the plan needs exists on its managed identity (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import IdentityCredentials, service_account_ref
from .base import Policy, Scope


def check(view: IdentityCredentials) -> Iterator[Violation]:
    for match in view.matches:
        if match.existing is not None:
            continue
        cred = match.planned
        yield Violation(f"{view.identity.label} has no federated credential for issuer {match.issuer!r} and "
                        f"subject {cred.subject!r} (ServiceAccount {cred.namespace}/{cred.service_account} of "
                        f"region {cred.region}; planned name {cred.name!r})", obj=service_account_ref(cred),
                        path=f"federatedIdentityCredentials/{cred.name}", source=view.identity.source,
                        region=cred.region)


POLICY = Policy(
    id="federated-credential-missing",
    title="Every federated credential the fleet needs exists",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "A pod gets an Entra ID token only if its managed identity has a federated identity credential "
        "for the pair (the cluster's OIDC issuer, system:serviceaccount:<namespace>:<name>). Without it "
        "every token exchange fails with AADSTS70021 and the Ray pods cannot mount Blob storage or call "
        "Azure. Raised by `rayfleet identity check --live`, which lists each identity's credentials in "
        "Azure Resource Manager and compares them with `rayfleet identity plan`."
    ),
    remediation=(
        "Create the credential: run the commands from `rayfleet identity plan --format az` (one at a "
        "time) or deploy `--format bicep`, then wait for propagation before starting pods."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/workload-identity-deploy-cluster#create-the-federated-identity-credential",
        "https://learn.microsoft.com/rest/api/managedidentity/federated-identity-credentials/list",
    ),
    check=check,
    subject=IdentityCredentials,
)
