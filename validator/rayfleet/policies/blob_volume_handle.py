"""Static blob PV volume handles are unique and well formed."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, blob_configs
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    first_owner: dict[str, str] = {}
    for cfg in blob_configs(release):
        if not cfg.is_pv:
            continue
        handle = as_dict(as_dict(cfg.obj.body.get("spec")).get("csi")).get("volumeHandle")
        if not isinstance(handle, str) or not handle:
            continue  # the object schema reports a missing handle
        path = "spec.csi.volumeHandle"
        name = cfg.obj.name
        owner = first_owner.setdefault(handle, name)
        if owner != name:
            yield Violation(f"PersistentVolume {name!r} reuses volumeHandle {handle!r} of PersistentVolume "
                            f"{owner!r}; the second mount on a node fails", obj=cfg.obj.ref, path=path, value=handle)
        if "#" not in handle:
            continue
        segments = handle.split("#")
        if len(segments) > 4:
            # Segment 5 is read as the namespace of a Secret holding the account key.
            yield Violation(f"PersistentVolume {name!r} volumeHandle {handle!r} has {len(segments)} #-separated "
                            "segments; the driver reads a fifth as a secret namespace (at most 4)",
                            obj=cfg.obj.ref, path=path, value=handle)
        container = cfg.get("containerName")
        if len(segments) >= 3 and container is not None and segments[2] != str(container[1]):
            yield Violation(f"PersistentVolume {name!r} volumeHandle {handle!r} names container {segments[2]!r} "
                            f"but containerName is {container[1]!r}", obj=cfg.obj.ref, path=path, value=handle)


POLICY = Policy(
    id="blob-volume-handle",
    title="Static blob volume handles are unique and well formed",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The Blob CSI driver keys mounts on volumeHandle: two PersistentVolumes with the same handle break "
        "the second mount on a node. A #-separated handle is parsed as "
        "resource-group#account#container#uuid#secret-namespace#subscription, so a fifth segment selects "
        "a Secret namespace and the third must be the container the PV mounts (DeleteVolume uses it)."
    ),
    remediation=(
        "Give every blob PersistentVolume its own handle of at most four segments, "
        "rg#account#container[#suffix], whose third segment is containerName."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
    ),
    check=check,
)
