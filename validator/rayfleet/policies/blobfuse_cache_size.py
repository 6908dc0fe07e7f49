"""BlobFuse2 caches have an explicit size."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import blob_configs, is_blobfuse, mount_option_flags
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in blob_configs(release):
        if not is_blobfuse(cfg):
            continue
        flags = {flag for _, flag, _ in mount_option_flags(cfg.mount_options)}
        what = f"{cfg.obj.kind} {cfg.obj.name!r}"
        if "--block-cache" in flags:
            if "--block-cache-pool-size" not in flags:
                yield Violation(f"{what} uses --block-cache without --block-cache-pool-size; blobfuse2 then "
                                "takes 60% of the node's memory", obj=cfg.obj.ref, path=cfg.mount_options_path)
        elif "--streaming" not in flags and "--cache-size-mb" not in flags:
            yield Violation(f"{what} uses the file cache without --cache-size-mb; blobfuse2 then fills 80% of "
                            "the node's free disk", obj=cfg.obj.ref, path=cfg.mount_options_path)


POLICY = Policy(
    id="blobfuse-cache-size",
    title="BlobFuse2 caches have an explicit size",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "blobfuse2 runs on the node, outside the pod's limits. A block cache without "
        "--block-cache-pool-size takes 60% of the node's memory and competes with the Ray object store "
        "(node OOM); a file cache without --cache-size-mb fills 80% of the free disk."
    ),
    remediation="Set --block-cache-pool-size (block cache) or --cache-size-mb (file cache) in the mountOptions.",
    references=(
        "https://github.com/Azure/azure-storage-fuse#config-guide",
        "https://github.com/Azure/azure-storage-fuse/blob/main/TSG.md",
    ),
    check=check,
)
