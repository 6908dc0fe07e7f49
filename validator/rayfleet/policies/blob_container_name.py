"""Blob container names are valid."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import blob_configs
from .base import Policy, ReleaseObjects, Scope

# The driver's containerNameRegex: 3-63 lower-case letters, digits and single dashes.
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in blob_configs(release):
        found = cfg.get("containerName")
        if found is None:
            continue
        key, value = found
        text = str(value)
        if "${" in text:
            continue  # ${pvc.metadata.name} and friends are expanded by the driver
        if not _CONTAINER_NAME.match(text):
            yield Violation(f"{cfg.obj.kind} {cfg.obj.name!r} containerName {text!r} is not a valid blob "
                            "container name (3-63 characters: lower-case letters, digits, single dashes, "
                            "starting and ending with a letter or digit)", obj=cfg.obj.ref,
                            path=cfg.key_path(key), value=value)


POLICY = Policy(
    id="blob-container-name",
    title="Blob container names are valid",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Azure rejects container names that are not 3-63 lower-case letters, digits and single dashes; the "
        "mount then fails on the node, long after the release was applied."
    ),
    remediation=(
        "Use a container name of 3-63 lower-case letters, digits and single dashes that starts and ends "
        "with a letter or digit."
    ),
    references=(
        "https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
    ),
    check=check,
)
