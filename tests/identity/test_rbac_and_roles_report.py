"""The manager's Azure RBAC plan (rayfleet.report.rbac) and the Blob CSI role plan
(rayfleet.report.roles) as users get them: JSON records, the table below the credentials, and
the ``az`` commands, which are run here by bash against a stand-in ``az`` that records each
call's arguments (and answers the look-ups), so what is checked is what a shell would execute.
Expected values are written by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rayfleet.identity_rbac import (
    API_GROUPS,
    DATA_ACTIONS,
    ROLE_DESCRIPTION,
    ROLE_NAME,
    PlannedRoleAssignment,
    RbacPlan,
    abac_condition,
)
from rayfleet.report.rbac import az_rbac_commands, format_rbac_table, rbac_assignment_to_dict, rbac_plan_to_dict
from rayfleet.report.roles import az_role_commands, format_role_lines, role_to_dict
from rayfleet.storage_roles import STORAGE_ACCOUNT_CONTRIBUTOR
from rayfleet.storage_roles import PlannedRoleAssignment as StorageRole

EAST = PlannedRoleAssignment("eastus2", "aks-eus2", "rg-eus2", "sub-1", "id-manager", "cid-1111", "11111111-aaaa")
WEST = PlannedRoleAssignment("westus3", "aks-wus3-long", None, None, "id-manager", "cid-2222", None)
EAST_SCOPE = "/subscriptions/sub-1/resourceGroups/rg-eus2/providers/Microsoft.ContainerService/managedClusters/aks-eus2"

STAND_IN_AZ = """#!/bin/sh
# records each call's arguments, one per line, then a separator; answers the look-ups
for arg in "$@"; do printf '%s\\n' "$arg"; done >> "$AZ_LOG"
echo "--end--" >> "$AZ_LOG"
case "$1 $2" in
  "identity list") echo principal-from-az ;;
  "aks list") echo /subscriptions/sub-9/aks-from-az ;;
  "aks show") echo control-plane-principal ;;
  "storage account") echo /subscriptions/sub-9/account-from-az ;;
esac
"""


def run_script(script: str, tmp_path: Path) -> list[list[str]]:
    """Run ``script`` with bash and the stand-in az first on PATH; every az call's arguments."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(STAND_IN_AZ)
    az.chmod(0o755)
    log = tmp_path / "az.log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "AZ_LOG": str(log)}
    subprocess.run([bash, "-euo", "pipefail", "-c", script], env=env, check=True, timeout=60, capture_output=True)
    calls, current = [], []
    for line in log.read_text().splitlines():
        if line == "--end--":
            calls.append(current)
            current = []
        else:
            current.append(line)
    return calls


# --- the manager's RBAC ------------------------------------------------------------------------

def test_rbac_json():
    condition = abac_condition()
    assert "ray.io" in condition and "kueue.x-k8s.io" in condition
    east = {"worker": "eastus2", "scope": EAST_SCOPE, "cluster": "aks-eus2", "resourceGroup": "rg-eus2",
            "subscriptionId": "sub-1", "identityName": "id-manager", "clientId": "cid-1111",
            "principalId": "11111111-aaaa", "role": ROLE_NAME, "dataActions": list(DATA_ACTIONS),
            "condition": condition, "conditionVersion": "2.0"}
    assert rbac_assignment_to_dict(EAST) == east
    west = rbac_assignment_to_dict(WEST)
    assert (west["scope"], west["resourceGroup"], west["subscriptionId"], west["principalId"]) == (None,) * 4
    assert rbac_plan_to_dict(RbacPlan((EAST, WEST), ("a note",))) == {
        "roleDefinition": {"name": ROLE_NAME, "description": ROLE_DESCRIPTION, "dataActions": list(DATA_ACTIONS)},
        "roleAssignments": [east, west], "notes": ["a note"]}


def test_rbac_table_columns_line_up():
    text = format_rbac_table(RbacPlan((EAST, WEST), ("westus3: no resource group in the fleet file",)))
    # Widths: WORKER 7 (eastus2), CLUSTER 13 (aks-wus3-long), ASSIGNEE 26, two spaces between.
    assert text.splitlines() == [
        "",
        "Azure role assignments for the MultiKueue manager (on each worker cluster):",
        "WORKER   CLUSTER        ASSIGNEE                    ROLE",
        "eastus2  aks-eus2       id-manager (11111111-aaaa)  rayfleet MultiKueue manager",
        "westus3  aks-wus3-long  id-manager (cid-2222)       rayfleet MultiKueue manager",  # no principal: client ID
        "rayfleet MultiKueue manager: data actions Microsoft.ContainerService/managedClusters/customresources/read, "
        "Microsoft.ContainerService/managedClusters/customresources/write, "
        "Microsoft.ContainerService/managedClusters/customresources/delete, limited to API groups ray.io, "
        "kueue.x-k8s.io",
        "note: westus3: no resource group in the fleet file",
    ]
    assert text.endswith("\n")


def test_rbac_table_with_notes_only_or_nothing():
    assert format_rbac_table(RbacPlan()) == ""
    assert format_rbac_table(RbacPlan((), ("no manager identity",))) == (
        "\nAzure role assignments for the MultiKueue manager (on each worker cluster):\n"
        "WORKER  CLUSTER  ASSIGNEE  ROLE\n"
        "note: no manager identity\n")
    assert format_rbac_table(RbacPlan((EAST,))).splitlines()[2:4] == [
        "WORKER   CLUSTER   ASSIGNEE                    ROLE",
        "eastus2  aks-eus2  id-manager (11111111-aaaa)  rayfleet MultiKueue manager"]


def _assignment_call(principal: str, scope: str) -> list[str]:
    return ["role", "assignment", "create", "--role", ROLE_NAME, "--assignee-object-id", principal,
            "--assignee-principal-type", "ServicePrincipal", "--scope", scope, "--condition", abac_condition(),
            "--condition-version", "2.0"]


def test_rbac_commands_run_in_a_shell(tmp_path):
    assert az_rbac_commands(RbacPlan((), ("n",))) == ""
    script = az_rbac_commands(RbacPlan((EAST, WEST)))
    lines = script.splitlines()
    assert lines[0] == ""
    assert lines[-1] == "# Role assignments take up to five minutes to reach the AKS authorization webhook."
    assert "MANAGER_PRINCIPAL_ID=11111111-aaaa  # id-manager (cid-1111)" in lines
    assert "# eastus2: id-manager may run MultiKueue's jobs on aks-eus2" in lines
    assert "# westus3: id-manager may run MultiKueue's jobs on aks-wus3-long" in lines
    # A blank line after the principal and after each worker's command, before the next comment.
    assert [lines[i - 1] for i, line in enumerate(lines) if line.startswith("# ") and i > 4] == ["", "", ""]
    calls = run_script(script, tmp_path)
    definition = {"Name": ROLE_NAME, "Description": ROLE_DESCRIPTION, "Actions": [], "NotActions": [],
                  "DataActions": list(DATA_ACTIONS), "NotDataActions": [], "AssignableScopes": ["/subscriptions/sub-1"]}
    assert calls[0][:3] == ["role", "definition", "create"] and calls[0][3] == "--role-definition"
    assert json.loads(calls[0][4]) == definition and len(calls[0]) == 5
    assert calls[1:] == [
        _assignment_call("11111111-aaaa", EAST_SCOPE),
        ["aks", "list", "--query", "[?name=='aks-wus3-long'].id | [0]", "-o", "tsv"],  # no resource group: looked up
        _assignment_call("11111111-aaaa", "/subscriptions/sub-9/aks-from-az"),
    ]
    assert API_GROUPS == ("ray.io", "kueue.x-k8s.io")


def test_rbac_commands_look_up_what_the_fleet_file_lacks(tmp_path):
    calls = run_script(az_rbac_commands(RbacPlan((WEST,))), tmp_path)
    assert json.loads(calls[0][4])["AssignableScopes"] == ["/subscriptions/<subscription-id>"]
    assert calls[1:] == [["identity", "list", "--query", "[?clientId=='cid-2222'].principalId | [0]", "-o", "tsv"],
                         ["aks", "list", "--query", "[?name=='aks-wus3-long'].id | [0]", "-o", "tsv"],
                         _assignment_call("principal-from-az", "/subscriptions/sub-9/aks-from-az")]


# --- the Blob CSI provisioner roles ------------------------------------------------------------

ACCOUNT_ID = "/subscriptions/sub-1/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/rayeus2"
EAST_ROLE = StorageRole("eastus2", "aks-eus2", "rg-eus2", "rayeus2", ACCOUNT_ID)
WEST_ROLE = StorageRole("westus3", "aks-wus3", None, "raywus3", None)


def test_role_json():
    assert role_to_dict(EAST_ROLE) == {
        "region": "eastus2", "role": "Storage Account Contributor", "roleDefinitionId": STORAGE_ACCOUNT_CONTRIBUTOR,
        "assignee": "control-plane identity of rg-eus2/aks-eus2", "scope": ACCOUNT_ID, "storageAccount": "rayeus2",
        "reason": "dynamic provisioning: the Blob CSI controller creates the container through ARM with the "
                  "cluster's control-plane identity"}
    assert role_to_dict(WEST_ROLE)["scope"] is None


def test_role_lines():
    assert format_role_lines([]) == ""
    assert format_role_lines([EAST_ROLE, WEST_ROLE]) == (
        "\nRole assignments (dynamic blob provisioning; static PersistentVolumes need none):\n"
        f"eastus2: Storage Account Contributor for the control-plane identity of AKS cluster aks-eus2 on storage "
        f"account {ACCOUNT_ID}\n"
        "westus3: Storage Account Contributor for the control-plane identity of AKS cluster aks-wus3 on storage "
        "account raywus3\n")


def test_role_commands_run_in_a_shell(tmp_path):
    assert az_role_commands([]) == ""
    script = az_role_commands([EAST_ROLE, WEST_ROLE])
    lines = script.splitlines()
    assert lines[0] == ("# Role assignments: the Blob CSI controller creates containers with the AKS control-plane "
                        "identity.")
    assert "# eastus2: Storage Account Contributor on rayeus2" in lines
    assert "# westus3: Storage Account Contributor on raywus3" in lines
    assert lines[lines.index("# westus3: Storage Account Contributor on raywus3") - 1] == ""  # commands set apart
    query = "identity.principalId || values(identity.userAssignedIdentities)[0].principalId"

    def assign(scope: str) -> list[str]:
        return ["role", "assignment", "create", "--role", "Storage Account Contributor", "--assignee-object-id",
                "control-plane-principal", "--assignee-principal-type", "ServicePrincipal", "--scope", scope]

    assert run_script(script, tmp_path) == [
        ["aks", "show", "--resource-group", "rg-eus2", "--name", "aks-eus2", "--query", query, "-o", "tsv"],
        assign(ACCOUNT_ID),
        ["aks", "show", "--resource-group", "<cluster-rg>", "--name", "aks-wus3", "--query", query, "-o", "tsv"],
        ["storage", "account", "show", "--name", "raywus3", "--query", "id", "-o", "tsv"],
        assign("/subscriptions/sub-9/account-from-az"),
    ]
