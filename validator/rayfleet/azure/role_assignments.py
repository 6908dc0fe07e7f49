"""Live check: the MultiKueue manager identity holds its role on every worker cluster.

For each planned assignment (``rayfleet.identity_rbac``): list the role assignments of the
manager's principal that apply at the worker cluster's scope (ARM's ``principalId eq`` filter
returns those at, above and below it; only the cluster and its parents count), read each one's
role definition, and see whether one grants the ``customresources`` read, write and delete data
actions (wildcards count, ``notDataActions`` subtract) without a condition that leaves out
``ray.io`` or ``kueue.x-k8s.io``. Calls go through ``ArmClient``; failures are ``LiveCheckError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import LiveCheckError
from ..fleet import Fleet
from ..identity_rbac import (
    ROLE_ASSIGNMENT_API_VERSION,
    ExistingAssignment,
    PlannedRoleAssignment,
    RbacPlan,
    RoleAssignmentView,
)
from ..wellknown import MSI_API_VERSION
from .arm import ArmClient


def _principal(arm: ArmClient, planned: PlannedRoleAssignment, cache: dict[str, str]) -> str:
    if planned.principal_id:
        return planned.principal_id
    if planned.client_id.lower() in cache:
        return cache[planned.client_id.lower()]
    sub = planned.subscription_id
    if not sub:
        raise LiveCheckError(planned.worker, "the fleet file gives no subscriptionId to find the manager identity in")
    path = f"/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    for item in arm.list_pages(path, MSI_API_VERSION, region=planned.worker,
                               needs=f"Reader on subscription {sub} (Microsoft.ManagedIdentity/"
                                     "userAssignedIdentities/read)"):
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        if str(props.get("clientId", "")).lower() == planned.client_id.lower() and props.get("principalId"):
            cache[planned.client_id.lower()] = str(props["principalId"])
            return cache[planned.client_id.lower()]
    raise LiveCheckError(planned.worker, f"no user-assigned managed identity with client ID {planned.client_id} "
                                         f"in subscription {sub} (the MultiKueue manager identity)")


def _applies(assignment_scope: str, cluster_scope: str) -> bool:
    a, c = assignment_scope.rstrip("/").lower(), cluster_scope.rstrip("/").lower()
    return c == a or c.startswith(a + "/") or a == ""


def _definition(arm: ArmClient, role_id: str, worker: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if role_id not in cache:
        cache[role_id] = arm.get(role_id, ROLE_ASSIGNMENT_API_VERSION, region=worker,
                                 needs="Reader (Microsoft.Authorization/roleDefinitions/read)")
    return cache[role_id]


def role_assignment_views(fleet: Fleet, plan: RbacPlan, arm: ArmClient,
                          regions: Sequence[str] | None = None) -> list[RoleAssignmentView]:
    wanted = set(regions) if regions is not None else None
    principals: dict[str, str] = {}
    definitions: dict[str, dict[str, Any]] = {}
    views = []
    for planned in plan.assignments:
        if wanted is not None and planned.worker not in wanted:
            continue
        scope = planned.scope
        if scope is None:
            raise LiveCheckError(planned.worker, "the fleet file gives no cluster.resourceGroup (or subscriptionId) "
                                                 "for this worker, so its role assignments cannot be read")
        principal = _principal(arm, planned, principals)
        view = RoleAssignmentView(fleet, planned, principal, scope)
        items = arm.list_pages(f"{scope}/providers/Microsoft.Authorization/roleAssignments",
                               ROLE_ASSIGNMENT_API_VERSION, region=planned.worker,
                               params={"$filter": f"principalId eq '{principal}'"},
                               needs=f"Reader on AKS cluster {planned.resource_group}/{planned.cluster} "
                                     "(Microsoft.Authorization/roleAssignments/read)")
        for item in items:
            props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
            if str(props.get("principalId", "")).lower() != principal.lower():
                continue
            if not _applies(str(props.get("scope", "")), scope):
                continue
            role_id = str(props.get("roleDefinitionId", ""))
            body = _definition(arm, role_id, planned.worker, definitions) if role_id else {}
            role = body.get("properties") if isinstance(body.get("properties"), dict) else {}
            data, not_data = [], []
            for perm in role.get("permissions") or []:
                if isinstance(perm, dict):
                    data += [str(a) for a in perm.get("dataActions") or []]
                    not_data += [str(a) for a in perm.get("notDataActions") or []]
            view.existing.append(ExistingAssignment(str(item.get("id", "")), str(props.get("scope", "")),
                                                    str(role.get("roleName", role_id)), tuple(data), tuple(not_data),
                                                    props.get("condition") or None))
        views.append(view)
    return views
