"""Every region has its own AKS cluster."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    names: dict[str, str] = {}
    contexts: dict[str, str] = {}
    issuers: dict[str, str] = {}
    for index, region in enumerate(view.fleet.regions):
        cluster = region.cluster
        first = names.setdefault(cluster.name.lower(), region.name)
        if first != region.name:
            yield Violation(f"region {region.name!r} uses AKS cluster {cluster.name!r}, already used by region "
                            f"{first!r}", region=region.name, path=region_path(index, "cluster", "name"),
                            source=region_source(view.fleet, index, "cluster", "name"))
        if cluster.kube_context:
            first = contexts.setdefault(cluster.kube_context, region.name)
            if first != region.name:
                yield Violation(f"region {region.name!r} uses kube context {cluster.kube_context!r}, already "
                                f"used by region {first!r}", region=region.name,
                                path=region_path(index, "cluster", "kubeContext"),
                                source=region_source(view.fleet, index, "cluster", "kubeContext"))
        if cluster.oidc_issuer_url:
            first = issuers.setdefault(cluster.oidc_issuer_url.rstrip("/").lower(), region.name)
            if first != region.name:
                yield Violation(f"region {region.name!r} uses OIDC issuer {cluster.oidc_issuer_url!r}, already used "
                                f"by region {first!r}; every AKS cluster has its own", region=region.name,
                                path=region_path(index, "cluster", "oidcIssuerUrl"),
                                source=region_source(view.fleet, index, "cluster", "oidcIssuerUrl"))


POLICY = Policy(
    id="unique-cluster-names",
    title="Every region has its own AKS cluster, kube context and OIDC issuer",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "Two regions that name the same AKS cluster (or kube context) install two releases into one "
        "cluster: the second overwrites the first, and the fleet has one region less than it thinks when "
        "it fails over. Names are compared without case, as Azure does. Every AKS cluster has its own OIDC "
        "issuer URL, so two regions with one issuer are a copy-paste mistake that federates the wrong "
        "cluster's tokens."
    ),
    remediation="Give every region its own cluster name, kube context and OIDC issuer URL in the fleet file.",
    references=("https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules",),
    check=check,
)
