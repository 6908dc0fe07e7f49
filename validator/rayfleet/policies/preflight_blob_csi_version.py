"""The Blob CSI driver is new enough for workload-identity token mounts (live preflight)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..findings import ObjectRef, Severity, Violation
from ..subjects import LiveCluster
from .base import Policy, Scope

NODE_DAEMONSET = "csi-blob-node"  # the driver's node plugin, on AKS and in the upstream chart
# mountWithWorkloadIdentityToken arrived in v1.27.0 and was cherry-picked to release-1.26 and
# release-1.25 (kubernetes-sigs/blob-csi-driver#1992, #1993): the first release of each line with it.
FLOORS = {25: (1, 25, 6), 26: (1, 26, 3)}
FLOOR_FROM_127 = (1, 27, 0)
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def floor_for(version: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """The lowest release of ``version``'s line with token mounts; None when the line has none."""
    if version >= FLOOR_FROM_127:
        return FLOOR_FROM_127
    return FLOORS.get(version[1]) if version[0] == 1 else None


def driver_version(daemon_sets: list[dict[str, Any]]) -> tuple[dict[str, Any], str, tuple[int, int, int]] | None:
    """(DaemonSet, image, version) of the Blob CSI node plugin: the ``blob-csi`` image's tag."""
    for ds in daemon_sets:
        name = str((ds.get("metadata") or {}).get("name", ""))
        containers = (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        for container in containers:
            image = str(container.get("image", "")) if isinstance(container, dict) else ""
            repository, _, tag = image.rpartition(":")
            if "/blob-csi" in repository or (name == NODE_DAEMONSET and container.get("name") == "blob"):
                match = _VERSION.match(tag)
                if match:
                    return ds, image, (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return None


def _text(version: tuple[int, int, int]) -> str:
    return "v" + ".".join(map(str, version))


def check(view: LiveCluster) -> Iterator[Violation]:
    if not view.uses_blob_csi():
        return
    found = driver_version(view.cluster.daemon_sets)
    if found is None:
        yield Violation(f"cannot tell the Blob CSI driver's version: no {NODE_DAEMONSET} DaemonSet with a "
                        "versioned blob-csi image; token-only mounts need v1.25.6, v1.26.3 or v1.27.0 and later",
                        obj=ObjectRef("apps/v1", "DaemonSet", "kube-system", NODE_DAEMONSET),
                        severity=Severity.WARNING, region=view.region_name)
        return
    ds, image, version = found
    meta = ds.get("metadata") or {}
    ref = ObjectRef("apps/v1", "DaemonSet", meta.get("namespace"), str(meta.get("name", "")))
    floor = floor_for(version)
    if floor is None or version < floor:
        need = f"{_text(floor)} on its {version[0]}.{version[1]} line" if floor else "v1.25.6 or later"
        yield Violation(f"the Blob CSI driver runs {_text(version)} ({image}), which cannot mount with the "
                        f"workload identity token alone (mountWithWorkloadIdentityToken): it needs {need}",
                        obj=ref, path="spec.template.spec.containers", region=view.region_name)


POLICY = Policy(
    id="preflight-blob-csi-version",
    title="The Blob CSI driver supports token-only workload identity mounts",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "The release mounts Blob storage with mountWithWorkloadIdentityToken (no account key). Drivers "
        "before v1.27.0, v1.26.3 and v1.25.6 (per release line) do not know the parameter: they fall back "
        "to fetching the account key with the identity, which needs Storage Account Contributor and breaks "
        "the no-keys rule, or fail the mount. The version is the tag of the driver's blob-csi image in the "
        "csi-blob-node DaemonSet."
    ),
    remediation=(
        "Upgrade the AKS cluster (the managed driver follows the AKS version) or the self-managed "
        "blob-csi-driver chart to v1.27.0 or later (v1.26.3+, v1.25.6+ on older lines); check with "
        "kubectl get ds csi-blob-node -n kube-system -o jsonpath='{..image}'."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
        "https://github.com/kubernetes-sigs/blob-csi-driver/pull/1992",
        "https://github.com/kubernetes-sigs/blob-csi-driver/pull/1993",
    ),
    check=check,
    subject=LiveCluster,
)
