"""The Arc-enabled cluster's OIDC issuer is enabled and is the URL the fleet file gives (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import ArcCluster
from .base import Policy, Scope


def check(view: ArcCluster) -> Iterator[Violation]:
    settings, expected = view.settings, view.region.cluster.oidc_issuer_url
    source = view.fleet_line("oidcIssuerUrl")
    if not settings.oidc_enabled or not settings.issuer:
        yield Violation(f"{view.label} has its OIDC issuer disabled: no federated credential can work",
                        obj=view.obj, path="properties.oidcIssuerProfile.enabled", source=source,
                        region=view.region_name)
    elif expected is None:
        yield Violation(f"the fleet file gives no cluster.oidcIssuerUrl; {view.label} has {settings.issuer!r}, "
                        "which the federated credential plan uses: add it", obj=view.obj,
                        path="properties.oidcIssuerProfile.issuerUrl", source=source, region=view.region_name,
                        severity=Severity.WARNING)
    elif settings.issuer != expected:
        yield Violation(f"{view.label} has OIDC issuer {settings.issuer!r}, the fleet file says {expected!r}",
                        obj=view.obj, path="properties.oidcIssuerProfile.issuerUrl", source=source,
                        region=view.region_name)


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
