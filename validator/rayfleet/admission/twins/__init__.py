"""The admission twins, in one explicit list, and why the other policies have none.

Every release-scope policy is either twinned here or named in ``NOT_EXPORTED`` with the reason;
``tests/admission`` checks that and proves each twin gives the Python check's verdict on the
policy's fixtures.
"""

from __future__ import annotations

from ...policies import ALL_POLICIES, Policy, Scope
from ..twin import Twin
from . import blob, files, kueue, objects, pods, ray

TWINS: tuple[Twin, ...] = (*objects.TWINS, *pods.TWINS, *ray.TWINS, *blob.TWINS, *files.TWINS, *kueue.TWINS)

ONE_OBJECT = "admission sees one object at a time"
NOT_EXPORTED: dict[str, str] = {
    "no-credential-secrets": "decodes base64 Secret data and runs rayfleet's credential detectors; core CEL "
                             "has no base64 decoding and the detectors would exceed the cost budget "
                             "(no-secret-objects denies every Secret at admission instead)",
    "no-literal-credentials": "searches every string of every object at any depth; CEL has no recursion",
    "shared-pvc-read-write-many": f"joins a RayCluster with the PersistentVolumeClaims it mounts; {ONE_OBJECT}",
    "shared-pvc-same-mount-path": "joins every group's volumes to its containers' mounts and compares them "
                                  "across groups: nested comprehensions whose estimated cost on unbounded "
                                  "lists exceeds the per-expression budget",
    "ray-image-consistent": "extracts the Ray version from image tags with regex capture groups; core CEL's "
                            "matches() cannot extract, and rayfleet uses no Kubernetes CEL extension library",
    "workload-identity-service-account": f"looks up the pod's ServiceAccount among the release's objects; "
                                         f"{ONE_OBJECT}",
    "admission-settings-match": "checks the release's own admission policies against the fleet file; there is "
                                "nothing for the API server to enforce",
    "blobfuse-cache-fits-node": "adds every pod's memory to its BlobFuse2 cache (a PVC → StorageClass join) and "
                                "compares with the VM size's memory and disk from rayfleet's catalogue; "
                                f"{ONE_OBJECT}",
    "anyscale-no-cli-token": "reads the operator's Helm values as well as its objects; values do not reach the "
                             "API server",
    "anyscale-iam-identity": "compares with the region's identities in the fleet file (needs the fleet)",
    "anyscale-audience": "reads the operator's Helm values and the fleet file (needs the fleet)",
    "anyscale-operator-workload-identity": "needs the fleet file's identities for the operator's region",
    "kueue-flavors-match-node-pools": f"joins ResourceFlavors with the RayCluster worker groups; {ONE_OBJECT}",
    "unknown-vm-size": "compares VM sizes with rayfleet's VM catalogue and the fleet file's vmSizes, which are "
                       "not policy settings",
}
BY_SCOPE = {
    Scope.FLEET: "a fleet policy: it compares regions, and one cluster's API server sees only its own objects",
    Scope.LIVE: "a live check: it reads Azure or cluster state, not the object being admitted",
    Scope.PIPELINE: "raised by rendering, schema checks or waivers; the API server does its own schema validation",
}


def twins_of(policy_id: str) -> tuple[Twin, ...]:
    return tuple(t for t in TWINS if t.policy == policy_id)


def why_not_exported(policy: Policy) -> str | None:
    """None when the policy has a twin; else the reason it has none."""
    if twins_of(policy.id):
        return None
    return NOT_EXPORTED.get(policy.id) or BY_SCOPE.get(policy.scope) or "not exported"


def exported_policies() -> list[Policy]:
    return [p for p in ALL_POLICIES if twins_of(p.id)]


__all__ = ["NOT_EXPORTED", "TWINS", "exported_policies", "twins_of", "why_not_exported"]
