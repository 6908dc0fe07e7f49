"""The Blob CSI provisioner role plan as text: lines below the credential table, JSON records and
``az role assignment create`` commands."""

from __future__ import annotations

import shlex
from typing import Any

from ..storage_roles import PlannedRoleAssignment


def role_to_dict(a: PlannedRoleAssignment) -> dict[str, Any]:
    return {"region": a.region, "role": a.role, "roleDefinitionId": a.role_id,
            "assignee": f"{a.assignee} of {a.cluster_resource_group}/{a.cluster}",
            "scope": a.scope, "storageAccount": a.account, "reason": a.reason}


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
