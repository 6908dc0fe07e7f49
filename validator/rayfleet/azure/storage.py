"""Reading the storage accounts the releases mount from Azure Resource Manager (an adapter: facts,
no verdicts).

For each selected region and blob storage account its release mounts: the account itself (does it
have a hierarchical namespace, i.e. is it ADLS Gen2?) and, for a dynamic StorageClass, the role
assignments on it and the AKS control-plane identity (which the Blob CSI controller creates
containers with). The facts go into ``StorageAccount`` subjects; the ``blob-*`` live policies judge
them (``rayfleet.commands.identity`` runs them). Failures are ``LiveCheckError`` naming the region
(``ArmClient``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..fleet import Fleet
from ..storage_roles import storage_targets
from ..subjects import AksSettings, ReleaseObjects, RoleAssignment, StorageAccount
from ..wellknown import AUTHORIZATION_API_VERSION, STORAGE_API_VERSION
from .arm import ArmClient


def role_assignment(item: dict[str, Any]) -> RoleAssignment:
    """A role assignment from its ARM JSON (at the account's scope or inherited from above)."""
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    role = str(props.get("roleDefinitionId", "")).rstrip("/").rpartition("/")[2]
    return RoleAssignment(str(props.get("principalId", "")), role.lower(), str(props.get("scope", "")))


@dataclass
class StorageFacts:
    """What one read found: the accounts, what could not be read (notes), and a summary of each
    account by resource ID (the JSON report's ``data.storageAccounts``)."""

    accounts: list[StorageAccount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_storage_facts(fleet: Fleet, releases: Mapping[str, ReleaseObjects], arm: ArmClient,
                       clusters: Mapping[str, AksSettings], *, regions: Sequence[str]) -> StorageFacts:
    """Read each selected region's storage accounts (and their role assignments for dynamic
    provisioning)."""
    facts = StorageFacts()
    for name in regions:
        region, release = fleet.region(name), releases.get(name)
        if release is None:
            continue
        for target in storage_targets(region, release, fleet):
            resource_id = target.resource_id
            if resource_id is None:
                facts.notes.append(f"region {name}: storage account {target.account} not checked: its resource "
                                   "group is unknown (add storage.resourceGroup to the region in the fleet file)")
                continue
            account = arm.get(resource_id, STORAGE_API_VERSION, region=name,
                              needs=f"Reader on storage account {target.account} "
                                    "(Microsoft.Storage/storageAccounts/read)")
            principals: tuple[str, ...] = ()
            assignments: tuple[RoleAssignment, ...] | None = None
            if target.dynamic and region.cluster.is_arc:
                # An Arc cluster's Blob CSI controller is self-installed: ARM does not know its identity.
                facts.notes.append(f"region {name}: Arc member, so who may create containers in storage account "
                                   f"{target.account} (the Blob CSI controller's identity) is not checked")
            elif target.dynamic:
                settings = clusters.get(name)
                principals = settings.control_plane_principals if settings else ()
                items = arm.list_pages(f"{resource_id}/providers/Microsoft.Authorization/roleAssignments",
                                       AUTHORIZATION_API_VERSION, region=name, params={"$filter": "atScope()"},
                                       needs=f"Reader on storage account {target.account} "
                                             "(Microsoft.Authorization/roleAssignments/read)")
                assignments = tuple(role_assignment(item) for item in items)
            subject = StorageAccount(fleet, region, target, account, principals, assignments)
            facts.summary[resource_id] = {"region": name, "isHnsEnabled": subject.hns_enabled,
                                          "kind": account.get("kind"), "dynamic": target.dynamic}
            facts.accounts.append(subject)
    return facts
