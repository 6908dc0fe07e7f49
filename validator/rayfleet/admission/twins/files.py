"""Twins of the Azure Files policy: file shares mounted with the storage account key."""

from __future__ import annotations

from ..kinds import BARE_PODS_ONLY, BLOB, POD_OWNERS, POD_VARIABLES
from ..twin import Twin, Validation

DRIVER = "file.csi.azure.com"
IN_TREE = "kubernetes.io/azure-file"
STATIC_PV = ("not-provisioned",
             "object.kind != 'PersistentVolume' || !has(object.metadata.annotations) || "
             "!('pv.kubernetes.io/provisioned-by' in object.metadata.annotations)")


def _nfs(params: str) -> str:
    """NFS shares carry no credential (keys compared without case, as the driver does)."""
    return (f"{params}.exists(k, k.matches('(?i)^protocol$') && {params}[k] != null && "
            f"string({params}[k]).matches('(?i)^\\\\s*nfs\\\\s*$'))")


_CSI = ("has(object.spec) && has(object.spec.csi) && has(object.spec.csi.driver) && "
        f"object.spec.csi.driver == '{DRIVER}'")
FILES_KEY = Twin(
    policy="azure-files-account-key", kinds=BLOB, match_conditions=(STATIC_PV,),
    validations=(
        Validation(f"object.kind != 'StorageClass' || !(has(object.provisioner) && object.provisioner in "
                   f"['{DRIVER}', '{IN_TREE}']) || (has(object.parameters) && {_nfs('object.parameters')})",
                   "the Azure Files StorageClass mounts with the storage account key (stored in a Secret)"),
        Validation(f"object.kind != 'PersistentVolume' || !({_CSI}) || (has(object.spec.csi.volumeAttributes) && "
                   f"{_nfs('object.spec.csi.volumeAttributes')})",
                   "the Azure Files PersistentVolume mounts with the storage account key, read from a Secret"),
        Validation("object.kind != 'PersistentVolume' || !(has(object.spec) && has(object.spec.azureFile))",
                   "the PersistentVolume uses azureFile, which reads the account key from a Secret"),
    ),
    cost="K <= 64 parameters ~ 64")

_INLINE = f"has(v.csi) && has(v.csi.driver) && v.csi.driver == '{DRIVER}'"
FILES_KEY_INLINE = Twin(
    policy="azure-files-account-key", suffix="inline", kinds=POD_OWNERS, variables=POD_VARIABLES,
    match_conditions=(BARE_PODS_ONLY,),
    validations=(Validation(
        f"variables.specs.all(s, !has(s.volumes) || s.volumes.all(v, !has(v.azureFile) && (!({_INLINE}) || "
        f"(has(v.csi.volumeAttributes) && {_nfs('v.csi.volumeAttributes')}))))",
        "a pod mounts an Azure Files volume (inline CSI or azureFile) with the storage account key"),),
    cost="T x V x K ~ 6x10^3")

TWINS: tuple[Twin, ...] = (FILES_KEY, FILES_KEY_INLINE)
__all__ = ["TWINS"]
