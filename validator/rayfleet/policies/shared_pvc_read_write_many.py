"""A PVC shared by several Ray pods is ReadWriteMany."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..wellknown import KUBERAY_UNBOUNDED
from ..workloads import PodTemplate
from ._helpers import as_dict, as_list
from .base import Policy, ReleaseObjects, Scope


def claims(tpl: PodTemplate) -> dict[str, str]:
    """PVC name -> volume name, for the PVC volumes of a pod template."""
    out: dict[str, str] = {}
    for _, volume in tpl.volumes():
        claim = as_dict(volume.get("persistentVolumeClaim")).get("claimName")
        if isinstance(claim, str) and claim:
            out.setdefault(claim, str(volume.get("name", "")))
    return out


def check(release: ReleaseObjects) -> Iterator[Violation]:
    reported: set[tuple[int, str]] = set()
    for obj in release.objects:
        # Who mounts each claim, and why it needs several writers: (claim -> reasons).
        reasons: dict[str, list[str]] = {}
        head_claims: set[str] = set()
        worker_claims: set[str] = set()
        for tpl in release.templates_of(obj):
            if tpl.role == "head":
                head_claims.update(claims(tpl))
            elif tpl.role == "worker":
                group_claims = claims(tpl)
                worker_claims.update(group_claims)
                max_replicas = tpl.replica_bounds.maximum
                replicas = max_replicas if max_replicas is not None else KUBERAY_UNBOUNDED
                if replicas > 1:
                    bound = "no maxReplicas" if max_replicas is None else f"up to {int(replicas)} pods"
                    for claim in group_claims:
                        reasons.setdefault(claim, []).append(f"worker group {tpl.group!r} ({bound})")
        for claim in head_claims & worker_claims:
            reasons.setdefault(claim, []).insert(0, "the head and the workers")
        for claim, why in reasons.items():
            pvc = release.find("PersistentVolumeClaim", claim, obj.namespace)
            if pvc is None or (id(pvc), claim) in reported:
                continue  # not in the release: nothing to look at
            modes = as_list(as_dict(pvc.body.get("spec")).get("accessModes"))
            if "ReadWriteMany" in modes or "ReadOnlyMany" in modes:
                continue  # ReadOnlyMany also attaches on many nodes: right for read-only datasets
            reported.add((id(pvc), claim))
            shown = ", ".join(str(m) for m in modes) or "none"
            yield Violation(f"PVC {claim!r} is mounted by {why[0]} of {obj.kind} {obj.name!r} but its access "
                            f"modes are {shown}, not ReadWriteMany (or ReadOnlyMany)", obj=pvc.ref,
                            path="spec.accessModes", value=modes[0] if len(modes) == 1 else None)


POLICY = Policy(
    id="shared-pvc-read-write-many",
    title="PVCs shared by Ray pods are ReadWriteMany",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "A PVC in a worker group template is mounted by every replica of the group, and one mounted by "
        "the head and the workers is mounted on several nodes at once. With ReadWriteOnce the second pod "
        "fails with a Multi-Attach error and the autoscaler cannot add workers. BlobFuse2 volumes support "
        "ReadWriteMany; ReadOnlyMany is accepted for read-only datasets. PVCs that are not part of the release "
        "are not checked."
    ),
    remediation="Set the PVC's accessModes to [ReadWriteMany] on an RWX-capable class such as the Blob CSI driver.",
    references=(
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes",
        "https://github.com/ray-project/kuberay/issues/3421",
        "https://learn.microsoft.com/azure/aks/azure-csi-blob-storage-provision",
    ),
    check=check,
)
