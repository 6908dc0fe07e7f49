"""The AKS cluster's OIDC issuer is enabled and is the URL the fleet file gives (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import AksCluster
from ._oidc_issuer import issuer_violations
from .base import Policy, Scope


def check(view: AksCluster) -> Iterator[Violation]:
    yield from issuer_violations(view, "issuerURL")


POLICY = Policy(
    id="aks-oidc-issuer",
    title="The AKS OIDC issuer is enabled and matches the fleet file",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "Workload identity tokens are signed by the cluster's OIDC issuer, and every federated "
        "credential names that issuer. With the issuer disabled there is nothing to federate with; when "
        "the fleet file's oidcIssuerUrl differs from the cluster's (a recreated cluster, a missing "
        "trailing slash), every planned credential names the wrong issuer and token exchange fails "
        "with AADSTS70021. Raised by `rayfleet identity check --live` from the managedClusters API "
        "(properties.oidcIssuerProfile)."
    ),
    remediation=(
        "Enable it with `az aks update --resource-group <group> --name <cluster> --enable-oidc-issuer`, "
        "then set the region's cluster.oidcIssuerUrl in the fleet file to "
        "`az aks show --query oidcIssuerProfile.issuerUrl -o tsv` exactly (trailing slash included)."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/use-oidc-issuer",
        "https://learn.microsoft.com/rest/api/aks/managed-clusters/get",
    ),
    check=check,
    subject=AksCluster,
)
