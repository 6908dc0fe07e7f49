"""Ray worker group replica bounds are consistent."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..workloads import ReplicaBounds, ray_cluster_specs
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.objects:
        for ray in ray_cluster_specs(obj):
            for index, group in ray.worker_groups:
                base = f"{ray.path}.workerGroupSpecs[{index}]"
                name = group.get("groupName", index)
                bounds = ReplicaBounds.of(group)
                values = {"minReplicas": bounds.minimum, "replicas": bounds.replicas, "maxReplicas": bounds.maximum}
                for key, number in values.items():
                    if number is not None and number < 0:
                        yield Violation(f"worker group {name!r} has {key} {group[key]}, below 0", obj=obj.ref,
                                        path=f"{base}.{key}", value=group[key])
                low, count, high = values["minReplicas"], values["replicas"], values["maxReplicas"]
                if low is not None and high is not None and low > high:
                    yield Violation(f"worker group {name!r} has minReplicas {group['minReplicas']} above "
                                    f"maxReplicas {group['maxReplicas']}", obj=obj.ref,
                                    path=f"{base}.minReplicas", value=group["minReplicas"])
                    continue
                if count is None:
                    continue
                if low is not None and count < low:
                    yield Violation(f"worker group {name!r} has replicas {group['replicas']} below minReplicas "
                                    f"{group['minReplicas']}", obj=obj.ref, path=f"{base}.replicas",
                                    value=group["replicas"])
                if high is not None and count > high:
                    yield Violation(f"worker group {name!r} has replicas {group['replicas']} above maxReplicas "
                                    f"{group['maxReplicas']}", obj=obj.ref, path=f"{base}.replicas",
                                    value=group["replicas"])


POLICY = Policy(
    id="ray-worker-replicas",
    title="Ray worker groups have minReplicas <= replicas <= maxReplicas",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "KubeRay rejects a group whose minReplicas exceeds maxReplicas, and clamps replicas outside the "
        "bounds, so the cluster does not start with the size the values file promised and every GitOps "
        "sync fights the operator."
    ),
    remediation=(
        "Set minReplicas <= replicas <= maxReplicas for every worker group, or leave replicas unset when"
        " the autoscaler owns it."
    ),
    references=(
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/configuring-autoscaling.html",
    ),
    check=check,
)
