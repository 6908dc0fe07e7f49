"""Live check of the storage accounts the releases mount, against Azure Resource Manager.

For each selected region and blob storage account its release mounts: the account itself (does it
have a hierarchical namespace, i.e. is it ADLS Gen2?) and, for a dynamic StorageClass, the role
assignments on it (does the AKS control-plane identity, which the Blob CSI controller creates
containers with, hold Storage Account Contributor or a broader built-in role?). The facts go into
``StorageView``s; the ``blob-*`` live policies judge them. Failures are ``LiveCheckError`` naming
the region (``ArmClient``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..findings import Finding, ObjectRef, SourceLocation
from ..policies import get_policy
from ..storage_roles import StorageTarget, storage_targets

if TYPE_CHECKING:
    from ..fleet import Fleet, Region
    from ..policies import Policy, Release
    from .arm import ArmClient
    from .identity import ClusterSettings

STORAGE_API_VERSION = "2023-05-01"
AUTHORIZATION_API_VERSION = "2022-04-01"
STORAGE_POLICIES = ("blob-provisioner-role", "blob-adls-matches-account")


@dataclass(frozen=True)
class RoleAssignment:
    """A role assignment as ARM lists it (at the account's scope or inherited from above)."""

    principal_id: str
    role_id: str  # the role definition's GUID
    scope: str

    @classmethod
    def from_arm(cls, item: dict[str, Any]) -> RoleAssignment:
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        role = str(props.get("roleDefinitionId", "")).rstrip("/").rpartition("/")[2]
        return cls(str(props.get("principalId", "")), role.lower(), str(props.get("scope", "")))


@dataclass
class StorageView:
    """What a ``blob-*`` live policy looks at: one region's storage target, the account as ARM
    reports it, and (dynamic provisioning) the cluster's control-plane identity and the role
    assignments on the account."""

    fleet: Fleet
    region: Region
    target: StorageTarget
    account: dict[str, Any]
    principals: tuple[str, ...] = ()
    assignments: list[RoleAssignment] | None = None  # None: not read (static PV)

    @property
    def region_name(self) -> str:
        return self.region.name

    @property
    def hns_enabled(self) -> bool:
        props = self.account.get("properties") if isinstance(self.account.get("properties"), dict) else {}
        return props.get("isHnsEnabled") is True

    @property
    def account_ref(self) -> ObjectRef:
        return ObjectRef(f"Microsoft.Storage/{STORAGE_API_VERSION}", "StorageAccount", None, self.target.account)

    @property
    def object_ref(self) -> ObjectRef:
        return self.target.obj.ref

    def fleet_source(self) -> SourceLocation:
        """Where the fleet file describes the region's storage."""
        line = None
        if self.fleet.document is not None:
            index = self.fleet.regions.index(self.region)
            line = self.fleet.document.line_of(("regions", index, "storage"))
        return SourceLocation(str(self.fleet.path), line)


@dataclass
class StorageCheck:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource ID -> what was read


def storage_policies() -> tuple[Policy, ...]:
    return tuple(get_policy(p) for p in STORAGE_POLICIES)


def check_storage_live(fleet: Fleet, releases: Mapping[str, Release], arm: ArmClient,
                       clusters: Mapping[str, ClusterSettings], *, regions: Sequence[str]) -> StorageCheck:
    """Read each selected region's storage accounts (and their role assignments for dynamic
    provisioning) and run the storage policies over them."""
    from ..checks import to_finding

    result = StorageCheck()
    views: list[StorageView] = []
    for name in regions:
        region, release = fleet.region(name), releases.get(name)
        if release is None:
            continue
        for target in storage_targets(region, release, fleet):
            resource_id = target.resource_id
            if resource_id is None:
                result.notes.append(f"region {name}: storage account {target.account} not checked: its resource "
                                    "group is unknown (add storage.resourceGroup to the region in the fleet file)")
                continue
            account = arm.get(resource_id, STORAGE_API_VERSION, region=name,
                              needs=f"Reader on storage account {target.account} "
                                    "(Microsoft.Storage/storageAccounts/read)")
            view = StorageView(fleet, region, target, account)
            if target.dynamic and region.cluster.is_arc:
                # An Arc cluster's Blob CSI controller is self-installed: ARM does not know its identity.
                result.notes.append(f"region {name}: Arc member, so who may create containers in storage account "
                                    f"{target.account} (the Blob CSI controller's identity) is not checked")
            elif target.dynamic:
                settings = clusters.get(name)
                view.principals = settings.control_plane_principals if settings else ()
                items = arm.list_pages(f"{resource_id}/providers/Microsoft.Authorization/roleAssignments",
                                       AUTHORIZATION_API_VERSION, region=name, params={"$filter": "atScope()"},
                                       needs=f"Reader on storage account {target.account} "
                                             "(Microsoft.Authorization/roleAssignments/read)")
                view.assignments = [RoleAssignment.from_arm(item) for item in items]
            result.accounts[resource_id] = {"region": name, "isHnsEnabled": view.hns_enabled,
                                            "kind": account.get("kind"), "dynamic": target.dynamic}
            views.append(view)
    for policy in storage_policies():
        assert policy.check is not None
        for view in views:
            for violation in policy.check(view):
                result.findings.append(to_finding(policy, violation, None, None))
    return result
