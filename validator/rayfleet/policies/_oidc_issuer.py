"""The OIDC issuer check shared by aks-oidc-issuer and arc-oidc-issuer: the same rule, read from
ARM fields that differ only in spelling (managedClusters ``issuerURL``, connectedClusters ``issuerUrl``)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import AksCluster, ArcCluster


def issuer_violations(view: AksCluster | ArcCluster, issuer_field: str) -> Iterator[Violation]:
    """Disabled, not in the fleet file (a warning), or different from it (with a hint when only the
    trailing slash differs, which Entra ID compares too). ``issuer_field``: the ARM property name."""
    settings, expected = view.settings, view.region.cluster.oidc_issuer_url
    source = view.fleet_line("oidcIssuerUrl")
    path = f"properties.oidcIssuerProfile.{issuer_field}"
    if not settings.oidc_enabled or not settings.issuer:
        yield Violation(f"{view.label} has its OIDC issuer disabled: no federated credential can work",
                        obj=view.obj, path="properties.oidcIssuerProfile.enabled", source=source,
                        region=view.region_name)
    elif expected is None:
        yield Violation(f"the fleet file gives no cluster.oidcIssuerUrl; {view.label} has {settings.issuer!r}: "
                        "add it (the federated credential plan needs it)", obj=view.obj, path=path, source=source,
                        region=view.region_name, severity=Severity.WARNING)
    elif settings.issuer != expected:
        slash = settings.issuer.rstrip("/") == expected.rstrip("/")
        hint = " (they differ only in the trailing slash, which Entra ID compares too)" if slash else ""
        yield Violation(f"{view.label} has OIDC issuer {settings.issuer!r}, the fleet file says {expected!r}{hint}",
                        obj=view.obj, path=path, source=source, region=view.region_name)
