"""The AKS cluster has the Blob CSI driver enabled (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import AksCluster
from .base import Policy, Scope


def check(view: AksCluster) -> Iterator[Violation]:
    if not view.settings.blob_driver:
        yield Violation(f"{view.label} does not have the Blob CSI driver enabled: the release's BlobFuse volumes "
                        "cannot mount", obj=view.obj, path="properties.storageProfile.blobCSIDriver.enabled",
                        source=view.fleet_line(), region=view.region_name)


POLICY = Policy(
    id="aks-blob-csi-driver",
    title="The AKS Blob CSI driver is enabled",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "Every Ray pod mounts the shared data container through BlobFuse2, which the managed Blob CSI "
        "driver (blob.csi.azure.com) provides. With the driver disabled the release's PersistentVolumeClaim "
        "never binds and every Ray pod stays Pending. Raised by `rayfleet identity check --live` from the "
        "managedClusters API (properties.storageProfile.blobCSIDriver.enabled)."
    ),
    remediation=(
        "Enable it with `az aks update --resource-group <group> --name <cluster> --enable-blob-driver` "
        "(remove any open-source Blob CSI driver installed by hand first)."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/azure-blob-csi",
        "https://learn.microsoft.com/rest/api/aks/managed-clusters/get",
    ),
    check=check,
    subject=AksCluster,
)
