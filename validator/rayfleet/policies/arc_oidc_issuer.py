"""The Arc-enabled cluster's OIDC issuer is enabled and is the URL the fleet file gives (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import ArcCluster
from ._oidc_issuer import issuer_violations
from .base import Policy, Scope


def check(view: ArcCluster) -> Iterator[Violation]:
    yield from issuer_violations(view, "issuerUrl")


POLICY = Policy(
    id="arc-oidc-issuer",
    title="The Arc-enabled cluster's OIDC issuer is enabled and matches the fleet file",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "An Arc-enabled cluster signs its ServiceAccount tokens with its own OIDC issuer (enabled with "
        "`az connectedk8s update --enable-oidc-issuer`), not an AKS one, so its federated credentials must name "
        "that issuer. Raised by `rayfleet identity check --live` from the connectedClusters API "
        "(properties.oidcIssuerProfile.issuerUrl, or selfHostedIssuerUrl for a cluster that serves its own)."
    ),
    remediation=(
        "Enable it with `az connectedk8s update --resource-group <group> --name <cluster> --enable-oidc-issuer "
        "--enable-workload-identity`, then set the region's cluster.oidcIssuerUrl to "
        "`az connectedk8s show --query oidcIssuerProfile.issuerUrl -o tsv` exactly."
    ),
    references=(
        "https://learn.microsoft.com/azure/azure-arc/kubernetes/workload-identity",
        "https://learn.microsoft.com/rest/api/hybridkubernetes/connected-cluster/get",
    ),
    check=check,
    subject=ArcCluster,
)
