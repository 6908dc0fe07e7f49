"""Federated credentials carry the issuer, subject and audience the fleet needs (live check)."""

from ..findings import Severity
from .base import Policy, Scope

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
)
