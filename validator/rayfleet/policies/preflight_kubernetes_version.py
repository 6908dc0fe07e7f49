"""The cluster runs the Kubernetes minor version the fleet file declares (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import LiveCluster
from .base import Policy, Scope


def check(view: LiveCluster) -> Iterator[Violation]:
    declared = view.region.cluster.kube_minor
    actual = view.cluster.minor
    if actual is None:
        yield Violation(f"the API server of cluster {view.region.cluster.name!r} reports no version "
                        f"({view.cluster.git_version!r}); cannot compare with {declared}",
                        severity=Severity.WARNING, region=view.region_name)
        return
    if actual != declared:
        yield Violation(
            f"cluster {view.region.cluster.name!r} runs Kubernetes {view.cluster.git_version} but the fleet "
            f"file declares {view.region.cluster.kubernetes_version}: the release was validated against "
            f"the {declared} schemas",
            path="cluster.kubernetesVersion",
            source=view.fleet_source("cluster", "kubernetesVersion"), region=view.region_name)


POLICY = Policy(
    id="preflight-kubernetes-version",
    title="The cluster runs the Kubernetes version the fleet file declares",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "rayfleet validates each region's objects against the OpenAPI schemas of the Kubernetes minor "
        "version in the fleet file. When the cluster runs another minor (an AKS auto-upgrade, a stale fleet "
        "file), removed or new fields and API versions were checked against the wrong schemas."
    ),
    remediation=(
        "Set the region's cluster.kubernetesVersion to the cluster's version (az aks show --query "
        "currentKubernetesVersion) and validate again, or upgrade the cluster to the declared version."
    ),
    references=("https://learn.microsoft.com/azure/aks/supported-kubernetes-versions",),
    check=check,
    subject=LiveCluster,
)
