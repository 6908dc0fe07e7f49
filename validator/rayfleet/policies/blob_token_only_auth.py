"""Blob CSI volumes mount with workload identity tokens only."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import child_path
from ._helpers import GUID, BlobVolumeConfig, blob_configs, inline_blob_configs, is_set
from .base import Policy, ReleaseObjects, Scope

# Keys (lower case) that select a stored credential: a Secret, Key Vault, or an SPN client secret.
_SECRET_KEYS = {
    "secretname": "names a Secret holding the account key or SAS token",
    "secretnamespace": "names the namespace of a Secret holding the account key",
    "getlatestaccountkey": "makes the driver fetch the account key",
    "getaccountkeyfromsecret": "reads the account key from a Secret",
    "azurestoragespnclientid": "selects service principal auth with a client secret",
    "azurestoragespntenantid": "selects service principal auth with a client secret",
    "msiendpoint": "points blobfuse at a custom MSI endpoint instead of workload identity",
}
_CSI_SECRET_PARAM = re.compile(r"^csi\.storage\.k8s\.io/.*-secret-(?:name|namespace)$", re.I)
_KEY_AUTH_TYPES = {"key", "sas", "spn"}


def _is_nfs(cfg: BlobVolumeConfig) -> bool:
    protocol = cfg.get_set("protocol")
    return protocol is not None and str(protocol[1]).strip().lower() in ("nfs", "aznfs")


def _check_config(cfg: BlobVolumeConfig) -> Iterator[Violation]:
    what = cfg.what
    # NFS mounts carry no credential (the driver never stores or passes an account key for them),
    # and node MSI is a different trade-off with its own finding: neither needs token mode.
    nfs, auth = _is_nfs(cfg), cfg.get_set("AzureStorageAuthType")
    msi = auth is not None and str(auth[1]).strip().lower() == "msi"
    if auth is not None and msi:
        yield Violation(f"{what} sets AzureStorageAuthType: MSI: blobfuse2 mounts as a managed identity "
                        "assigned to the node, which every pod on the node can use; no account key is stored, "
                        "but access is not tied to the pod's workload identity", obj=cfg.obj.ref,
                        path=cfg.key_path(auth[0]), value=auth[1])
    client = cfg.get_set("clientID")
    token = cfg.get_set("mountWithWorkloadIdentityToken")
    token_mode = token is not None and str(token[1]).strip().lower() == "true"
    if not (nfs or msi):
        if client is None:
            yield Violation(f"{what} has no clientID: the driver falls back to the kubelet identity or an "
                            "account key", obj=cfg.obj.ref, path=cfg.path)
        if token is None:
            yield Violation(f"{what} does not set mountWithWorkloadIdentityToken: \"true\"; without it the "
                            "driver lists and uses the account key", obj=cfg.obj.ref, path=cfg.path)
    if client is not None and not GUID.match(str(client[1]).strip()):
        yield Violation(f"{what} clientID {client[1]!r} is not a GUID", obj=cfg.obj.ref,
                        path=cfg.key_path(client[0]), value=client[1])
    if token is not None and not token_mode:
        yield Violation(f"{what} sets mountWithWorkloadIdentityToken to {token[1]!r}, not \"true\"",
                        obj=cfg.obj.ref, path=cfg.key_path(token[0]), value=token[1])
    for key, value in cfg.params.items():
        if not is_set(value):
            continue  # `MSIEndpoint:` with no value selects nothing
        lowered = str(key).lower()
        reason = _SECRET_KEYS.get(lowered)
        if reason is None and lowered.startswith("keyvault"):
            reason = "keeps the account key or SAS token in Key Vault"
        if reason is None and lowered == "azurestorageauthtype" and str(value).strip().lower() in _KEY_AUTH_TYPES:
            reason = f"selects {str(value).upper()} authentication"
        if reason is None and _CSI_SECRET_PARAM.match(str(key)):
            reason = "passes a Secret to the CSI driver"
        if reason is not None:
            yield Violation(f"{what} sets {key}: it {reason}", obj=cfg.obj.ref, path=cfg.key_path(str(key)),
                            value=value if isinstance(value, str) else None)
    if cfg.is_storage_class and not (token_mode or nfs or msi):
        store = cfg.get_set("storeAccountKey")
        if store is None or str(store[1]).strip().lower() != "false":
            # The hidden default: CreateVolume writes the key into azure-storage-account-<acct>-secret.
            yield Violation(f"{what} stores the account key in a Secret (storeAccountKey is "
                            f"{'unset, default true' if store is None else repr(store[1])})", obj=cfg.obj.ref,
                            path=cfg.key_path(store[0]) if store else cfg.path)
    if cfg.csi_path is not None and cfg.csi is not None:
        for key, value in cfg.csi.items():
            if str(key).endswith("SecretRef") and value:
                yield Violation(f"{what} sets csi.{key}: the mount reads a credential from a Secret",
                                obj=cfg.obj.ref, path=child_path(cfg.csi_path, str(key)))


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in (*blob_configs(release), *inline_blob_configs(release)):
        yield from _check_config(cfg)


POLICY = Policy(
    id="blob-token-only-auth",
    title="Blob CSI volumes mount with workload identity tokens only",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "In token-only mode (clientID plus mountWithWorkloadIdentityToken: \"true\") the Blob CSI driver "
        "hands blobfuse2 the pod's short-lived ServiceAccount token and no account key exists anywhere. "
        "Without clientID the driver silently uses the kubelet identity; without token mode it lists the "
        "account key, and a dynamic StorageClass even writes it into a Secret unless storeAccountKey is "
        "\"false\". Secret names, Key Vault keys, key, SAS and SPN auth types, csi.storage.k8s.io secret "
        "parameters and PV secret references all bring a stored credential back. Inline CSI volumes "
        "(volumes[].csi in a pod spec) follow the same rules as a static PV. NFS volumes (protocol: nfs) "
        "carry no credential at all (the driver stores no key for them), so they need neither clientID nor "
        "token mode. AzureStorageAuthType: MSI stores no key either, but mounts as the node's managed "
        "identity, shared by every pod on the node: it is reported for that reason. Keys are compared "
        "without case, as the driver does, and a key written with no value is not set."
    ),
    remediation=(
        "Set clientID to the managed identity's client ID and mountWithWorkloadIdentityToken: \"true\", "
        "remove every secret, Key Vault and SPN parameter, and grant the identity Storage Blob Data "
        "Contributor on the account."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
        "https://learn.microsoft.com/azure/aks/azure-csi-blob-storage-provision",
    ),
    check=check,
)
