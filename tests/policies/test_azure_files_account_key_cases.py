"""azure-files-account-key: an in-tree azureFile PersistentVolume, and NFS recognised only by the
protocol key (a parameter that merely has the value "nfs" is not NFS)."""

from __future__ import annotations

from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies.azure_files_account_key import POLICY
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

KEY = "mounts Azure Files over SMB, which authenticates with the storage account key"


def run(text: str):
    release = ReleaseObjects(objects=tuple(objects_from_text(text, "m.yaml")), settings=PolicySettings(),
                             kube_version="1.33")
    return [(f.policy, f.severity, f.obj, f.path, f.message, f.source.line) for f in check([POLICY], release)]


def test_an_in_tree_azure_file_persistent_volume():
    text = ("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: share}\n"
            "spec: {azureFile: {secretName: creds, shareName: s}}\n")
    assert run(text) == [("azure-files-account-key", Severity.ERROR, ObjectRef("v1", "PersistentVolume", None, "share"),
                          "spec.azureFile", f"PersistentVolume 'share' {KEY}, read from the Secret in "
                          "azureFile.secretName", 1)]


def test_nfs_is_the_protocol_key_not_any_value():
    text = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: smb}\n"
            "provisioner: file.csi.azure.com\nparameters: {shareName: nfs, skuName: Premium_LRS}\n---\n"
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: nfs}\n"
            "provisioner: file.csi.azure.com\nparameters: {Protocol: ' NFS '}\n")
    assert run(text) == [("azure-files-account-key", Severity.ERROR, ObjectRef("storage.k8s.io/v1", "StorageClass",
                                                                               None, "smb"),
                          "provisioner", f"StorageClass 'smb' {KEY}; dynamic provisioning stores it in a Secret "
                          "(azure-storage-account-<account>-secret)", 1)]
