"""BlobFuse2 mount options avoid --streaming and debug logging."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import blob_configs, is_blobfuse
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in blob_configs(release):
        if not is_blobfuse(cfg):
            continue
        what = f"{cfg.obj.kind} {cfg.obj.name!r}"
        for index, raw in enumerate(cfg.mount_options):
            if not isinstance(raw, str):
                continue
            path = f"{cfg.mount_options_path}[{index}]"
            words = raw.split()
            if any(w.split("=", 1)[0] == "--streaming" for w in words):
                yield Violation(f"{what} mounts with --streaming, which is deprecated (replaced by "
                                "--block-cache)", obj=cfg.obj.ref, path=path, value=raw)
            if "LOG_DEBUG" in raw.upper():
                yield Violation(f"{what} logs at LOG_DEBUG, which floods the node's syslog", obj=cfg.obj.ref,
                                path=path, value=raw)


POLICY = Policy(
    id="blobfuse-discouraged-options",
    title="BlobFuse2 mount options avoid --streaming and debug logging",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "--streaming is a legacy flag that blobfuse2 2.4+ silently replaces with the block cache, so its "
        "tuning flags no longer mean what they say. --log-level=LOG_DEBUG logs every file operation to the "
        "node's syslog, which fills the disk on busy training nodes."
    ),
    remediation="Use --block-cache instead of --streaming and --log-level=LOG_WARNING.",
    references=(
        "https://github.com/Azure/azure-storage-fuse/blob/main/CHANGELOG.md",
        "https://github.com/Azure/azure-storage-fuse#config-guide",
    ),
    check=check,
)
