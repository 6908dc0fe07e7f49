"""BlobFuse2 volumes are mounted with -o allow_other."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import blob_configs, has_allow_other, is_blobfuse
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in blob_configs(release):
        if is_blobfuse(cfg) and not has_allow_other(cfg.mount_options):
            yield Violation(f"{cfg.obj.kind} {cfg.obj.name!r} does not mount with -o allow_other; non-root "
                            "Ray containers cannot read the volume", obj=cfg.obj.ref, path=cfg.mount_options_path)


POLICY = Policy(
    id="blobfuse-allow-other",
    title="BlobFuse2 volumes are mounted with -o allow_other",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "blobfuse2 runs on the node as root; without -o allow_other only root can open the mount, so Ray "
        "containers running as a non-root user get permission denied on the shared data."
    ),
    remediation="Add \"-o allow_other\" to the mountOptions of the StorageClass or PersistentVolume.",
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/deploy/example/storageclass-blobfuse2.yaml",
        "https://github.com/Azure/azure-storage-fuse/blob/main/TSG.md",
    ),
    check=check,
)
