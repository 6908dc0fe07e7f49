"""The Azure role the Blob CSI driver's controller needs, per region: a plan and its ``az`` commands.

With a dynamic StorageClass (``blob-storage.mode: dynamic``) the driver's controller creates the
blob container through Azure Resource Manager with the AKS cluster's control-plane identity. AKS
grants that identity rights on the node resource group only, so for a storage account anywhere
else someone must grant **Storage Account Contributor** (or a role with
``Microsoft.Storage/storageAccounts/blobServices/containers/write``) on the account; without it the
PVC stays Pending and every Ray pod with it. Static PersistentVolumes (``mode: static``) need no
such role: the platform team creates the container.

Pure functions: what each region's release needs (``storage_targets``) and the plan (its text and
``az`` commands are in ``rayfleet.report.roles``). ``rayfleet.azure.storage`` reads the live accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .fleet import Fleet, Region
from .subjects import ReleaseObjects, StorageTarget
from .wellknown import BLOB_CSI_DRIVER

STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
# Built-in roles that include what the controller does (containers/write on the account).
PROVISIONER_ROLES = {
    STORAGE_ACCOUNT_CONTRIBUTOR: "Storage Account Contributor",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}
BLOB_DRIVER = BLOB_CSI_DRIVER


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


def storage_targets(region: Region, release: ReleaseObjects, fleet: Fleet) -> list[StorageTarget]:
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


def plan_role_assignments(fleet: Fleet, releases: Mapping[str, ReleaseObjects],
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
