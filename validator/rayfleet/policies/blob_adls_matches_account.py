"""The blob volume mounts ADLS Gen2 exactly when the account has a hierarchical namespace (live)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..subjects import StorageAccount
from .base import Policy, Scope


def check(view: StorageAccount) -> Iterator[Violation]:
    target = view.target
    what = f"{target.obj.kind} {target.obj.name!r}"
    if view.hns_enabled and not target.adls:
        yield Violation(f"storage account {target.account} has a hierarchical namespace (ADLS Gen2) but {what} "
                        "mounts it as flat Blob storage (no --use-adls=true / isHnsEnabled): directory renames and "
                        "listings go wrong", obj=target.obj.ref, path="mountOptions", region=view.region_name,
                        source=target.obj.origin)
    elif target.adls and not view.hns_enabled:
        yield Violation(f"{what} mounts storage account {target.account} as ADLS Gen2 (--use-adls=true / "
                        "isHnsEnabled) but the account has no hierarchical namespace: the mount fails",
                        obj=target.obj.ref, path="mountOptions", region=view.region_name, source=target.obj.origin)


POLICY = Policy(
    id="blob-adls-matches-account",
    title="ADLS Gen2 mounts match the storage account's hierarchical namespace",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "blobfuse2 talks to an account with a hierarchical namespace (ADLS Gen2, isHnsEnabled) through the DFS "
        "API only with --use-adls=true (isHnsEnabled: \"true\" in a StorageClass); without it renames and "
        "directory operations break, and with it on a flat account the mount fails. The account's "
        "isHnsEnabled is read from Azure Resource Manager."
    ),
    remediation="Set blob-storage.adls to the account's isHnsEnabled (true for ADLS Gen2 accounts).",
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
        "https://github.com/Azure/azure-storage-fuse#config-guide",
    ),
    check=check,
    subject=StorageAccount,
)
