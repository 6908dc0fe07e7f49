"""Blob volumes keep their data when the claim goes."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import as_dict, blob_configs
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for cfg in blob_configs(release):
        if cfg.is_pv:
            # A static PV without a policy is Retain; only an explicit Delete or Recycle is a risk.
            policy = as_dict(cfg.obj.body.get("spec")).get("persistentVolumeReclaimPolicy")
            if policy is not None and policy != "Retain":
                yield Violation(f"PersistentVolume {cfg.obj.name!r} has reclaim policy {policy}: deleting the "
                                "claim deletes the blob container", obj=cfg.obj.ref,
                                path="spec.persistentVolumeReclaimPolicy", value=policy)
        else:
            policy = cfg.obj.body.get("reclaimPolicy")
            if policy != "Retain":
                yield Violation(f"StorageClass {cfg.obj.name!r} has reclaim policy "
                                f"{policy or 'Delete (the default)'}: deleting a claim deletes its blob container",
                                obj=cfg.obj.ref, path="reclaimPolicy", value=policy, severity=Severity.WARNING)


POLICY = Policy(
    id="blob-reclaim-retain",
    title="Blob volumes are retained when their claim is deleted",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "With reclaim policy Delete, the Blob CSI driver deletes the blob container, with the training "
        "data and checkpoints in it, when the claim is deleted, for example by helm uninstall. A static "
        "PersistentVolume with Delete is an error (it points at a container the team owns); a dynamic "
        "StorageClass without Retain is a warning, since its containers are created per claim."
    ),
    remediation=(
        "Set persistentVolumeReclaimPolicy: Retain on blob PersistentVolumes and reclaimPolicy: Retain "
        "on blob StorageClasses."
    ),
    references=(
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reclaiming",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
    ),
    check=check,
)
