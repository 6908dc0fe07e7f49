"""The MultiKueue manager's Azure RBAC plan (``rayfleet.identity_rbac``) as JSON, a table and az commands."""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..identity_rbac import (
    API_GROUPS,
    DATA_ACTIONS,
    ROLE_DESCRIPTION,
    ROLE_NAME,
    PlannedRoleAssignment,
    RbacPlan,
    abac_condition,
)


def rbac_assignment_to_dict(a: PlannedRoleAssignment) -> dict[str, Any]:
    return {"worker": a.worker, "scope": a.scope, "cluster": a.cluster,
            "resourceGroup": a.resource_group, "subscriptionId": a.subscription_id,
            "identityName": a.identity_name, "clientId": a.client_id, "principalId": a.principal_id,
            "role": a.role, "dataActions": list(DATA_ACTIONS), "condition": abac_condition(),
            "conditionVersion": "2.0"}


def rbac_plan_to_dict(plan: RbacPlan) -> dict[str, Any]:
    return {"roleDefinition": {"name": ROLE_NAME, "description": ROLE_DESCRIPTION,
                               "dataActions": list(DATA_ACTIONS)},
            "roleAssignments": [rbac_assignment_to_dict(a) for a in plan.assignments], "notes": list(plan.notes)}


def format_rbac_table(plan: RbacPlan) -> str:
    if not plan.assignments and not plan.notes:
        return ""
    headers = ("WORKER", "CLUSTER", "ASSIGNEE", "ROLE")
    rows = [(a.worker, a.cluster, f"{a.identity_name} ({a.principal_id or a.client_id})", a.role)
            for a in plan.assignments]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["", "Azure role assignments for the MultiKueue manager (on each worker cluster):"]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in (headers, *rows)]
    if plan.assignments:
        lines.append(f"{ROLE_NAME}: data actions {', '.join(DATA_ACTIONS)}, limited to API groups "
                     f"{', '.join(API_GROUPS)}")
    lines.extend(f"note: {n}" for n in plan.notes)
    return "\n".join(lines) + "\n"


def az_rbac_commands(plan: RbacPlan) -> str:
    """The custom role (created once) and one ``az role assignment create`` per worker."""
    if not plan.assignments:
        return ""
    subscriptions = sorted({a.subscription_id for a in plan.assignments if a.subscription_id})
    scopes = [f"/subscriptions/{s}" for s in subscriptions] or ["/subscriptions/<subscription-id>"]
    definition = {"Name": ROLE_NAME, "Description": ROLE_DESCRIPTION, "Actions": [], "NotActions": [],
                  "DataActions": list(DATA_ACTIONS), "NotDataActions": [], "AssignableScopes": scopes}
    first = plan.assignments[0]
    principal = shlex.quote(first.principal_id) if first.principal_id else (
        '"$(az identity list --query ' + shlex.quote(f"[?clientId=='{first.client_id}'].principalId | [0]")
        + ' -o tsv)"')
    lines = [
        "",
        "# Azure RBAC for the MultiKueue manager on each worker (workers with Azure RBAC for Kubernetes",
        "# authorization; on workers with Kubernetes RBAC only, the chart's ClusterRoleBinding is enough).",
        "# The custom role, once (update it with `az role definition update` if it exists):",
        f"az role definition create --role-definition {shlex.quote(json.dumps(definition))}",
        f"MANAGER_PRINCIPAL_ID={principal}  # {first.identity_name} ({first.client_id})",
        "",
    ]
    for a in plan.assignments:
        scope = shlex.quote(a.scope) if a.scope else (
            '"$(az aks list --query ' + shlex.quote(f"[?name=='{a.cluster}'].id | [0]") + ' -o tsv)"')
        lines.append(f"# {a.worker}: {a.identity_name} may run MultiKueue's jobs on {a.cluster}")
        lines.append(" \\\n  ".join([
            "az role assignment create", f"--role {shlex.quote(a.role)}",
            '--assignee-object-id "$MANAGER_PRINCIPAL_ID"', "--assignee-principal-type ServicePrincipal",
            f"--scope {scope}", f"--condition {shlex.quote(abac_condition())}", "--condition-version 2.0"]))
        lines.append("")
    lines.append("# Role assignments take up to five minutes to reach the AKS authorization webhook.")
    return "\n".join(lines) + "\n"
