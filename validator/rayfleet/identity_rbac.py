"""The Azure RBAC the MultiKueue manager needs on each worker cluster.

The manager's Kueue controller runs under workload identity (its ServiceAccount
``kueue-controller-manager`` is federated with the manager identity, a credential the
federated-credential plan already holds) and reaches each worker with an Entra token from
``kubelogin get-token --login workloadidentity``. AKS names that caller by the identity's
Entra object ID (principal ID). What it may do on a worker is granted either by Kubernetes RBAC
(the chart's ClusterRoleBinding to ``User <objectId>``) or, on workers with Azure RBAC for
Kubernetes authorization, by an Azure role assignment at the worker cluster's scope. Everything
MultiKueue touches on a worker is a custom resource (RayJob, RayCluster, RayService, Workload,
ClusterQueue, LocalQueue), and AKS covers custom resources only through the
``Microsoft.ContainerService/managedClusters/customresources/{read,write,delete}`` data actions,
narrowed to API groups by an ABAC condition (``customResources:group``). So the plan is one
custom role with those data actions and, per worker, one assignment of it to the manager identity
at the cluster, limited to the ``ray.io`` and ``kueue.x-k8s.io`` groups.

Pure functions (``rayfleet.report.rbac`` writes the plan out); ``rayfleet.azure.role_assignments``
reads what ARM holds into ``RoleAssignmentView``s (the subject of ``kueue-manager-role-assignment``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .findings import Violation
from .fleet import Fleet, Identity
from .fleet_scheduling import KUEUE_SERVICE_ACCOUNT
from .subjects import FindingContext, ReleaseObjects
from .wellknown import WI_CLIENT_ID as CLIENT_ID_ANNOTATION

ROLE_NAME = "rayfleet MultiKueue manager"
ROLE_DESCRIPTION = ("Lets the MultiKueue manager create, read and delete RayJobs, RayClusters, RayServices and "
                    "Kueue Workloads on a worker AKS cluster (Azure RBAC for Kubernetes authorization).")
DATA_ACTIONS = tuple(f"Microsoft.ContainerService/managedClusters/customresources/{verb}"
                     for verb in ("read", "write", "delete"))
API_GROUPS = ("ray.io", "kueue.x-k8s.io")
GROUP_ATTRIBUTE = "Microsoft.ContainerService/managedClusters/customResources:group"
ROLE_ASSIGNMENT_API_VERSION = "2022-04-01"


@dataclass(frozen=True)
class ExistingAssignment:
    """A role assignment as ARM lists it, with what its role definition grants."""

    id: str
    scope: str
    role_name: str
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]
    condition: str | None

    def missing(self) -> list[str]:
        """The planned data actions this assignment does not grant (for the manager's API groups)."""
        out = []
        for action in DATA_ACTIONS:
            granted = any(fnmatchcase(action.lower(), a.lower()) for a in self.data_actions)
            denied = any(fnmatchcase(action.lower(), a.lower()) for a in self.not_data_actions)
            if not granted or denied:
                out.append(action.rsplit("/", 1)[1])
        if self.condition and not all(g in self.condition.lower() for g in API_GROUPS):
            out.extend(f"group {g}" for g in API_GROUPS if g not in self.condition.lower())
        return out


@dataclass
class RoleAssignmentView:
    """What ``kueue-manager-role-assignment`` looks at: one worker, the manager principal, and the
    role assignments that apply at the worker cluster."""

    fleet: Fleet
    planned: PlannedRoleAssignment
    principal_id: str
    scope: str
    existing: list[ExistingAssignment] = field(default_factory=list)

    def finding_context(self, violation: Violation) -> FindingContext:
        return FindingContext(region=violation.region)


def abac_condition(groups: tuple[str, ...] = API_GROUPS) -> str:
    """The role assignment condition: the role's custom-resource actions only for ``groups``."""
    actions = " AND ".join(f"!(ActionMatches{{'{a}'}})" for a in DATA_ACTIONS)
    allowed = " OR ".join(f"@Request[{GROUP_ATTRIBUTE}] StringEqualsIgnoreCase '{g}'" for g in groups)
    return f"(({actions}) OR ({allowed}))"


@dataclass(frozen=True)
class PlannedRoleAssignment:
    """The manager identity's role on one worker cluster."""

    worker: str  # region name
    cluster: str
    resource_group: str | None
    subscription_id: str | None
    identity_name: str
    client_id: str
    principal_id: str | None  # None: not in the fleet file (az looks it up)
    role: str = ROLE_NAME

    @property
    def scope(self) -> str | None:
        if not (self.subscription_id and self.resource_group):
            return None
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.ContainerService/managedClusters/{self.cluster}")


@dataclass(frozen=True)
class RbacPlan:
    assignments: tuple[PlannedRoleAssignment, ...] = ()
    notes: tuple[str, ...] = field(default=())


def manager_identity(fleet: Fleet, releases: Mapping[str, ReleaseObjects]) -> tuple[Identity | None, str | None]:
    """The identity the manager's Kueue controller runs as, and a note when it had to be guessed.

    The rendered ServiceAccount ``kueue-controller-manager`` names its client ID; without it (the
    Kueue chart is not unpacked) the manager region's only identity is taken.
    """
    manager = fleet.manager
    if manager is None:
        return None, None
    release = releases.get(manager.name)
    client_id = None
    if release is not None:
        for obj in release.of_kind("ServiceAccount"):
            annotations = obj.metadata.get("annotations")
            if obj.name == KUEUE_SERVICE_ACCOUNT and isinstance(annotations, dict):
                client_id = annotations.get(CLIENT_ID_ANNOTATION)
    if isinstance(client_id, str) and client_id.strip():
        found = next((i for i in manager.identities if i.client_id.lower() == client_id.strip().lower()), None)
        if found is None:
            return None, (f"region {manager.name}: ServiceAccount {KUEUE_SERVICE_ACCOUNT} uses client ID "
                          f"{client_id}, which is not under the manager's identities in the fleet file")
        return found, None
    if len(manager.identities) == 1:
        return manager.identities[0], (f"region {manager.name}: no rendered {KUEUE_SERVICE_ACCOUNT} ServiceAccount "
                                       f"names its client ID; taking the manager's only identity "
                                       f"{manager.identities[0].name}")
    return None, (f"region {manager.name}: cannot tell which identity the Kueue controller runs as (no rendered "
                  f"{KUEUE_SERVICE_ACCOUNT} ServiceAccount with a client ID, and not exactly one identity)")


def plan_role_assignments(fleet: Fleet, releases: Mapping[str, ReleaseObjects]) -> RbacPlan:
    """One assignment per worker region (fleet order); empty without a scheduling section."""
    if fleet.scheduling is None or fleet.manager is None:
        return RbacPlan()
    identity, note = manager_identity(fleet, releases)
    notes = [note] if note else []
    if identity is None:
        return RbacPlan((), tuple(notes))
    if not identity.principal_id:
        notes.append(f"region {fleet.manager.name}: identity {identity.name} has no principalId in the fleet file "
                     "(az identity show --query principalId); the az script looks it up")
    assignments = []
    for worker in fleet.workers:
        if not worker.cluster.resource_group:
            notes.append(f"region {worker.name}: no cluster.resourceGroup; the az script looks the cluster up")
        assignments.append(PlannedRoleAssignment(
            worker=worker.name, cluster=worker.cluster.name, resource_group=worker.cluster.resource_group,
            subscription_id=worker.subscription_id or fleet.subscription_id, identity_name=identity.name,
            client_id=identity.client_id, principal_id=identity.principal_id))
    return RbacPlan(tuple(assignments), tuple(notes))
