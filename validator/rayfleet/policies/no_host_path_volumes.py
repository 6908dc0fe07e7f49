"""Pods mount no hostPath volumes."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        for index, volume in tpl.volumes():
            if "hostPath" in volume:
                host_path = as_dict(volume["hostPath"]).get("path")
                yield Violation(f"{where(tpl)} mounts host path {host_path} (volume {volume.get('name')!r})",
                                obj=tpl.obj.ref, path=tpl.at(f"volumes[{index}].hostPath"), value=host_path)


POLICY = Policy(
    id="no-host-path-volumes",
    title="Pods mount no hostPath volumes",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "A hostPath volume exposes the node's file system, including the kubelet's token files for every "
        "pod, and ties data to one node. Shared data belongs on the Blob CSI volume, scratch space on an "
        "emptyDir or a generic ephemeral volume."
    ),
    remediation="Replace the hostPath volume with a PVC, an emptyDir or an ephemeral volume.",
    references=(
        "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
    ),
    check=check,
)
