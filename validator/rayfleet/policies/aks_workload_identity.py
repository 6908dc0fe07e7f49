"""The AKS cluster has workload identity enabled (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import AksCluster
from .base import Policy, Scope


def check(view: AksCluster) -> Iterator[Violation]:
    if not view.settings.workload_identity:
        yield Violation(f"{view.label} does not have workload identity enabled: Ray pods get no federated token",
                        obj=view.obj, path="properties.securityProfile.workloadIdentity.enabled",
                        source=view.fleet_line(), region=view.region_name)


POLICY = Policy(
    id="aks-workload-identity",
    title="AKS workload identity is enabled",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "The workload identity add-on runs the mutating webhook that projects the ServiceAccount token "
        "into Ray pods and sets AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and "
        "AZURE_AUTHORITY_HOST. Without it pods labelled azure.workload.identity/use get none of them and "
        "cannot authenticate. Raised by `rayfleet identity check --live` from the managedClusters API "
        "(properties.securityProfile.workloadIdentity.enabled)."
    ),
    remediation=(
        "Enable it with `az aks update --resource-group <group> --name <cluster> --enable-oidc-issuer "
        "--enable-workload-identity`, then restart the Ray pods."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/workload-identity-deploy-cluster",
        "https://learn.microsoft.com/rest/api/aks/managed-clusters/get",
    ),
    check=check,
    subject=AksCluster,
)
