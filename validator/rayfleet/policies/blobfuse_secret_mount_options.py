"""BlobFuse2 mount options carry no secrets or config files."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import blob_configs, mount_option_flags
from .base import Policy, ReleaseObjects, Scope

_FORBIDDEN = {
    "--config-file": "loads a blobfuse2 config file, which can hold account keys and SAS tokens",
    "--secure-config": "loads an encrypted config whose passphrase must be stored somewhere",
    "--passphrase": "passes the passphrase of an encrypted config",
}


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in blob_configs(release):
        for index, flag, _ in mount_option_flags(cfg.mount_options):
            reason = _FORBIDDEN.get(flag)
            if reason is not None:
                yield Violation(f"{cfg.obj.kind} {cfg.obj.name!r} mount option {flag} {reason}",
                                obj=cfg.obj.ref, path=f"{cfg.mount_options_path}[{index}]")


POLICY = Policy(
    id="blobfuse-secret-mount-options",
    title="BlobFuse2 mount options carry no secrets or config files",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "--config-file, --secure-config and --passphrase bring their own credentials and configuration "
        "past the driver: a config file can hold an account key or SAS token, and an encrypted one needs "
        "a passphrase in the manifest. The Blob CSI driver forbids them for inline volumes for this reason."
    ),
    remediation=(
        "Remove the option; configure caching with mount flags (--block-cache, --cache-size-mb) and "
        "authenticate with workload identity."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
        "https://github.com/Azure/azure-storage-fuse#config-guide",
    ),
    check=check,
)
