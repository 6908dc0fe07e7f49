"""Shared storage does not mount Azure Files over SMB, which needs the storage account key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ._helpers import as_dict, inline_csi_volumes, where
from .base import Policy, ReleaseObjects, Scope

FILE_DRIVER = "file.csi.azure.com"
_IN_TREE_PROVISIONER = "kubernetes.io/azure-file"
_KEY = "mounts Azure Files over SMB, which authenticates with the storage account key"


def _nfs(params: Any) -> bool:
    # NFS shares carry no credential; keys are compared without case, as the driver does.
    return any(str(k).lower() == "protocol" and str(v).strip().lower() == "nfs" for k, v in as_dict(params).items())


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.of_kind("StorageClass"):
        provisioner = obj.body.get("provisioner")
        if provisioner in (FILE_DRIVER, _IN_TREE_PROVISIONER) and not _nfs(obj.body.get("parameters")):
            yield Violation(f"StorageClass {obj.name!r} {_KEY}; dynamic provisioning stores it in a Secret "
                            "(azure-storage-account-<account>-secret)", obj=obj.ref, path="provisioner",
                            value=provisioner)
    for obj in release.of_kind("PersistentVolume"):
        spec = as_dict(obj.body.get("spec"))
        csi = as_dict(spec.get("csi"))
        if csi.get("driver") == FILE_DRIVER and not _nfs(csi.get("volumeAttributes")):
            yield Violation(f"PersistentVolume {obj.name!r} {_KEY}, read from a Secret", obj=obj.ref,
                            path="spec.csi.driver", value=FILE_DRIVER)
        if "azureFile" in spec:
            yield Violation(f"PersistentVolume {obj.name!r} {_KEY}, read from the Secret in azureFile.secretName",
                            obj=obj.ref, path="spec.azureFile")
    for tpl, path, volume in inline_csi_volumes(release, FILE_DRIVER):
        if not _nfs(as_dict(volume.get("csi")).get("volumeAttributes")):
            yield Violation(f"inline volume {volume.get('name', '?')!r} in {where(tpl)} {_KEY}, read from a "
                            "Secret", obj=tpl.obj.ref, path=f"{path}.csi.driver", value=FILE_DRIVER)
    for tpl in release.pod_templates():
        for index, volume in tpl.volumes():
            if "azureFile" in volume:
                yield Violation(f"volume {volume.get('name', '?')!r} in {where(tpl)} {_KEY}, read from the Secret "
                                "in azureFile.secretName", obj=tpl.obj.ref, path=tpl.at(f"volumes[{index}].azureFile"))


POLICY = Policy(
    id="azure-files-account-key",
    title="Shared storage does not mount Azure Files over SMB (account key)",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The Azure Files CSI driver mounts SMB shares with the storage account key (NTLMv2): dynamic "
        "provisioning writes the key into a Secret (azure-storage-account-<account>-secret), static and "
        "inline volumes read it from one, and even its workload identity mode only uses the token to fetch "
        "the key. A fleet that keeps Ray data on Azure Files therefore holds a long-lived credential in "
        "every region, which is what the Blob token-only mode avoids. NFS shares (protocol: nfs) carry no "
        "credential and are not reported. StorageClasses, PersistentVolumes, inline CSI volumes and the "
        "in-tree azureFile volume are checked."
    ),
    remediation=(
        "Keep shared Ray data on Blob storage mounted in workload identity token-only mode (the chart's "
        "blob-storage), or use an Azure Files NFS share (protocol: nfs) on a private network."
    ),
    references=(
        "https://github.com/kubernetes-sigs/azurefile-csi-driver/blob/master/docs/driver-parameters.md",
        "https://github.com/kubernetes-sigs/azurefile-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
        "https://learn.microsoft.com/azure/aks/azure-csi-files-storage-provision",
    ),
    check=check,
)
