"""The shared data PVC is mounted at the same path in the head and every worker group."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..workloads import PodTemplate
from ._helpers import as_dict, as_list
from .base import Policy, ReleaseObjects, Scope
from .shared_pvc_read_write_many import claims


def _mount_path(tpl: PodTemplate, volume_name: str) -> tuple[str, str] | None:
    """(mountPath, its JSON path) of a volume in the first regular container that mounts it."""
    for index, container in enumerate(as_list(tpl.spec.get("containers"))):
        for m_index, mount in enumerate(as_list(as_dict(container).get("volumeMounts"))):
            if as_dict(mount).get("name") == volume_name and isinstance(mount.get("mountPath"), str):
                return mount["mountPath"], tpl.at(f"containers[{index}].volumeMounts[{m_index}].mountPath")
    return None


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.objects:
        templates = release.templates_of(obj)
        for head in (t for t in templates if t.role == "head"):
            workers = [t for t in templates if t.role == "worker" and t.ray is head.ray]
            if not workers:
                continue
            head_claims = claims(head)
            shared = [c for c in head_claims if any(c in claims(w) for w in workers)]
            for claim in shared:
                head_mount = _mount_path(head, head_claims[claim])
                if head_mount is None:
                    continue
                for worker in workers:
                    worker_claims = claims(worker)
                    if claim not in worker_claims:
                        yield Violation(f"worker group {worker.group!r} does not mount PVC {claim!r}, which the "
                                        f"head and other groups mount at {head_mount[0]}", obj=obj.ref,
                                        path=worker.at("volumes"))
                        continue
                    mount = _mount_path(worker, worker_claims[claim])
                    if mount is None:
                        yield Violation(f"worker group {worker.group!r} declares PVC {claim!r} but mounts it "
                                        f"in no container (the head mounts it at {head_mount[0]})",
                                        obj=obj.ref, path=worker.at("containers[0].volumeMounts"))
                    elif mount[0] != head_mount[0]:
                        yield Violation(f"worker group {worker.group!r} mounts PVC {claim!r} at {mount[0]}, the "
                                        f"head at {head_mount[0]}", obj=obj.ref, path=mount[1], value=mount[0])


POLICY = Policy(
    id="shared-pvc-same-mount-path",
    title="The shared data PVC has one mount path in the head and every worker group",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Ray tasks and Ray Train checkpoints pass file paths between nodes. When the shared data volume "
        "is mounted at different paths, or missing from a worker group, a path written on one node does "
        "not exist on another and jobs fail only when scheduled there."
    ),
    remediation="Mount the shared PVC in the head and every worker group, at the same mountPath.",
    references=(
        "https://docs.ray.io/en/latest/train/user-guides/persistent-storage.html",
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes/#claims-as-volumes",
    ),
    check=check,
)
