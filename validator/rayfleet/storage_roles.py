"""The Azure role the Blob CSI driver's controller needs, per region: a plan and its ``az`` commands.

With a dynamic StorageClass (``blob-storage.mode: dynamic``) the driver's controller creates the
blob container through Azure Resource Manager with the AKS cluster's control-plane identity. AKS
grants that identity rights on the node resource group only, so for a storage account anywhere
else someone must grant **Storage Account Contributor** (or a role with
``Microsoft.Storage/storageAccounts/blobServices/containers/write``) on the account; without it the
PVC stays Pending and every Ray pod with it. Static PersistentVolumes (``mode: static``) need no
such role: the platform team creates the container.

Pure functions: what each region's release needs (``storage_targets``), the plan, and the plan as
text lines and ``az`` commands. ``rayfleet.azure.storage`` checks it live.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fleet import Fleet, Region
    from .manifests import KubeObject
    from .policies.base import Release

STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
# Built-in roles that include what the controller does (containers/write on the account).
PROVISIONER_ROLES = {
    STORAGE_ACCOUNT_CONTRIBUTOR: "Storage Account Contributor",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}
BLOB_DRIVER = "blob.csi.azure.com"


@dataclass(frozen=True)
class StorageTarget:
    """The storage account one region's release mounts, and how."""

    region: str
    account: str
    resource_group: str | None
    subscription_id: str | None
    dynamic: bool  # a StorageClass: the controller creates the container
    adls: bool  # mounted as ADLS Gen2 (isHnsEnabled / --use-adls)
    obj: KubeObject  # the StorageClass or PersistentVolume that says so

    @property
    def resource_id(self) -> str | None:
        if not (self.subscription_id and self.resource_group):
            return None
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.Storage/storageAccounts/{self.account}")


def _param(params: dict[str, Any], key: str) -> str | None:
    """A driver parameter, keys compared without case like the driver does."""
    for k, v in params.items():
        if str(k).lower() == key.lower():
            return str(v)
    return None


def _uses_adls(params: dict[str, Any], options: list[Any]) -> bool:
    if (_param(params, "isHnsEnabled") or "").lower() == "true":
        return True
    words = [w for o in options if isinstance(o, str) for w in o.split()]
    return any(w in ("--use-adls=true", "--use-adls") for w in words)


def storage_targets(region: Region, release: Release, fleet: Fleet) -> list[StorageTarget]:
    """Every blob StorageClass and static PV of a release, with its account (the object's
    parameters first, the fleet file's ``storage`` block for what they leave out)."""
    targets = []
    for obj in release.of_kind("StorageClass", "PersistentVolume"):
        body = obj.body
        if obj.kind == "StorageClass":
            if body.get("provisioner") != BLOB_DRIVER:
                continue
            params, options = body.get("parameters") or {}, body.get("mountOptions") or []
        else:
            spec = body.get("spec") or {}
            csi = spec.get("csi") or {}
            if csi.get("driver") != BLOB_DRIVER:
                continue
            params, options = csi.get("volumeAttributes") or {}, spec.get("mountOptions") or []
        if not isinstance(params, dict) or not isinstance(options, list):
            continue
        account = _param(params, "storageAccount") or region.storage_account
        if not account:
            continue
        targets.append(StorageTarget(
            region=region.name, account=account,
            resource_group=_param(params, "resourceGroup") or region.storage_resource_group,
            subscription_id=_param(params, "subscriptionID") or region.subscription_id or fleet.subscription_id,
            dynamic=obj.kind == "StorageClass", adls=_uses_adls(params, options), obj=obj))
    return targets


@dataclass(frozen=True)
class PlannedRoleAssignment:
    """One role assignment a region needs: the AKS control-plane identity on the storage account."""

    region: str
    cluster: str
    cluster_resource_group: str | None
    account: str
    scope: str | None  # the account's resource ID (None: the fleet file lacks its group)
    role: str = "Storage Account Contributor"
    role_id: str = STORAGE_ACCOUNT_CONTRIBUTOR
    assignee: str = "control-plane identity"
    reason: str = ("dynamic provisioning: the Blob CSI controller creates the container through ARM with the "
                   "cluster's control-plane identity")

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "role": self.role, "roleDefinitionId": self.role_id,
                "assignee": f"{self.assignee} of {self.cluster_resource_group}/{self.cluster}",
                "scope": self.scope, "storageAccount": self.account, "reason": self.reason}


def plan_role_assignments(fleet: Fleet, releases: Mapping[str, Release],
                          regions: Iterable[str] | None = None) -> list[PlannedRoleAssignment]:
    """The provisioner role each region with a dynamic blob StorageClass needs (one per account)."""
    wanted = set(regions) if regions is not None else None
    planned: dict[tuple[str, str], PlannedRoleAssignment] = {}
    for region in fleet.regions:
        release = releases.get(region.name)
        if release is None or (wanted is not None and region.name not in wanted):
            continue
        for target in storage_targets(region, release, fleet):
            if target.dynamic:
                planned.setdefault((region.name, target.account), PlannedRoleAssignment(
                    region=region.name, cluster=region.cluster.name,
                    cluster_resource_group=region.cluster.resource_group, account=target.account,
                    scope=target.resource_id))
    return list(planned.values())


def format_role_lines(assignments: list[PlannedRoleAssignment]) -> str:
    """The role assignments below the credential table."""
    if not assignments:
        return ""
    lines = ["", "Role assignments (dynamic blob provisioning; static PersistentVolumes need none):"]
    for a in assignments:
        lines.append(f"{a.region}: {a.role} for the {a.assignee} of AKS cluster {a.cluster} on storage account "
                     f"{a.scope or a.account}")
    return "\n".join(lines) + "\n"


def az_role_commands(assignments: list[PlannedRoleAssignment]) -> str:
    """``az role assignment create`` for each planned assignment; the principal is read from the
    cluster (system-assigned, else its user-assigned control-plane identity)."""
    if not assignments:
        return ""
    lines = ["# Role assignments: the Blob CSI controller creates containers with the AKS control-plane identity."]
    for a in assignments:
        query = "identity.principalId || values(identity.userAssignedIdentities)[0].principalId"
        aks = (f"az aks show --resource-group {shlex.quote(a.cluster_resource_group or '<cluster-rg>')} "
               f"--name {shlex.quote(a.cluster)} --query {shlex.quote(query)} -o tsv")
        scope = a.scope or (f'"$(az storage account show --name {shlex.quote(a.account)} --query id -o tsv)"')
        lines.append(f"# {a.region}: {a.role} on {a.account}")
        lines.append(" \\\n  ".join([
            "az role assignment create", f"--role {shlex.quote(a.role)}",
            f'--assignee-object-id "$({aks})"', "--assignee-principal-type ServicePrincipal",
            f"--scope {shlex.quote(scope) if a.scope else scope}"]))
        lines.append("")
    return "\n".join(lines) + "\n"
