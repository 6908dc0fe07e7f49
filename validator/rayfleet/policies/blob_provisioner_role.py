"""The Blob CSI controller may create containers in the account (live, dynamic provisioning)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..storage_roles import PROVISIONER_ROLES
from ..subjects import StorageAccount
from .base import Policy, Scope


def check(view: StorageAccount) -> Iterator[Violation]:
    if view.assignments is None:
        return  # a static PersistentVolume: nothing is provisioned
    cluster = f"AKS cluster {view.region.cluster.resource_group}/{view.region.cluster.name}"
    if not view.principals:
        yield Violation(f"{cluster} reports no control-plane identity (identity.principalId), so the Blob CSI "
                        f"controller cannot create containers in storage account {view.target.account} for "
                        f"StorageClass {view.target.obj.name!r}", obj=view.account_ref,
                        source=view.fleet_source(), region=view.region_name)
        return
    held = [a for a in view.assignments if a.principal_id in view.principals]
    if any(a.role_id in PROVISIONER_ROLES for a in held):
        return
    other = f" (it holds other roles there: {', '.join(sorted({a.role_id for a in held}))})" if held else ""
    yield Violation(f"the control-plane identity of {cluster} ({', '.join(view.principals)}) has no Storage Account "
                    f"Contributor (or Contributor, Owner) on storage account {view.target.account}{other}: with "
                    f"StorageClass {view.target.obj.name!r} (dynamic provisioning) the PVC stays Pending and every "
                    "Ray pod with it", obj=view.account_ref, source=view.fleet_source(), region=view.region_name)


POLICY = Policy(
    id="blob-provisioner-role",
    title="The AKS control-plane identity may create containers in the storage account",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "With a dynamic StorageClass the Blob CSI driver's controller creates the blob container through Azure "
        "Resource Manager with the cluster's control-plane identity. AKS grants that identity rights on the "
        "node resource group only; for an account anywhere else nobody grants it, the CreateVolume call fails "
        "with AuthorizationFailed, the PVC stays Pending and so does every Ray pod. Role assignments inherited "
        "from the resource group or subscription count. Custom roles are not judged: grant a built-in one or "
        "waive with the reason."
    ),
    remediation=(
        "Run the `az role assignment create` that `rayfleet identity plan --format az` prints (Storage Account "
        "Contributor on the account for the cluster's identity.principalId), or switch blob-storage.mode to "
        "static and have the platform team create the container."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
        "https://learn.microsoft.com/azure/aks/azure-csi-blob-storage-provision",
    ),
    check=check,
    subject=StorageAccount,
)
