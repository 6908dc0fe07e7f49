"""The MultiKueue manager's Azure RBAC plan (identity_rbac.py) worked out by hand: which identity
the Kueue controller runs as, one assignment per worker at its cluster's scope, the ABAC condition,
and what an existing assignment lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.identity_rbac import (
    ExistingAssignment,
    PlannedRoleAssignment,
    RbacPlan,
    abac_condition,
    manager_identity,
    plan_role_assignments,
)
from rayfleet.pipeline import render_fleet

CLIENT_M = "1e3a5c7d-9f2b-4d6e-8a1c-3e5f7a9b1d54"
CLIENT_M2 = "2f4b6d8e-0a3c-4e7f-9b2d-4f6a8b0c2e65"
PRINCIPAL = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SUB = "11111111-1111-4111-8111-111111111111"
SUB_W2 = "22222222-2222-4222-8222-222222222222"
KUEUE = "kueue-controller-manager"
CR = "Microsoft.ContainerService/managedClusters/customresources"

ID_M = f"      - {{name: id-m, clientId: {CLIENT_M}, resourceGroup: rg-ids, principalId: {PRINCIPAL}}}"
ID_M_NO_PRINCIPAL = f"      - {{name: id-m, clientId: {CLIENT_M}, resourceGroup: rg-ids}}"
ID_M2 = f"      - {{name: id-m2, clientId: {CLIENT_M2}, resourceGroup: rg-ids}}"


def _fleet(identities: str, *, scheduling: bool = True) -> str:
    sched = "scheduling:\n  engine: multikueue\n  queues: [{name: gpu-batch, namespace: ray}]\n" if scheduling else ""
    role = "    role: manager\n" if scheduling else ""
    return f"""apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {{name: ray, namespace: ray}}
subscriptionId: {SUB}
{sched}regions:
  - name: manager
    location: centralus
{role}    cluster: {{name: aks-m, resourceGroup: rg-m, kubernetesVersion: "1.33"}}
    identities:
{identities}
    valuesFiles: []
    manifests: m
  - name: eastus2
    location: eastus2
    cluster: {{name: aks-e, resourceGroup: rg-e, kubernetesVersion: "1.33"}}
    valuesFiles: []
    manifests: w
  - name: westus3
    location: westus3
    subscriptionId: {SUB_W2}
    cluster: {{name: aks-w, kubernetesVersion: "1.33"}}
    valuesFiles: []
    manifests: w
"""


def _sa(name: str, annotations: str) -> str:
    return (f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: ray\n"
            f"  annotations: {annotations}\n")


def _load(tmp_path: Path, identities: str, manager_objects: str = "", *, scheduling: bool = True):
    (tmp_path / "m").mkdir()
    (tmp_path / "w").mkdir()
    (tmp_path / "m" / "objects.yaml").write_text(manager_objects)
    (tmp_path / "w" / "objects.yaml").write_text("")
    (tmp_path / "fleet.yaml").write_text(_fleet(identities, scheduling=scheduling))
    fleet = load_fleet(tmp_path / "fleet.yaml")
    return fleet, {name: r.release for name, r in render_fleet(fleet).items()}


def test_one_assignment_per_worker_at_its_cluster(tmp_path):
    fleet, releases = _load(tmp_path, ID_M)
    plan = plan_role_assignments(fleet, releases)
    assert plan.assignments == (
        PlannedRoleAssignment("eastus2", "aks-e", "rg-e", SUB, "id-m", CLIENT_M, PRINCIPAL),
        PlannedRoleAssignment("westus3", "aks-w", None, SUB_W2, "id-m", CLIENT_M, PRINCIPAL))
    assert plan.assignments[0].scope == (f"/subscriptions/{SUB}/resourceGroups/rg-e/providers/"
                                         "Microsoft.ContainerService/managedClusters/aks-e")
    assert plan.assignments[1].scope is None  # no resource group: the az script looks the cluster up
    assert plan.assignments[0].role == "rayfleet MultiKueue manager"
    assert plan.notes == ("region manager: no rendered kueue-controller-manager ServiceAccount names its client ID; "
                          "taking the manager's only identity id-m",
                          "region westus3: no cluster.resourceGroup; the az script looks the cluster up")


def test_a_manager_identity_without_principal_is_planned_with_a_note(tmp_path):
    fleet, releases = _load(tmp_path, ID_M_NO_PRINCIPAL, _sa(KUEUE, f"{{azure.workload.identity/client-id: "
                                                                      f"' {CLIENT_M.upper()} '}}"))
    plan = plan_role_assignments(fleet, releases)
    assert [(a.worker, a.principal_id, a.client_id) for a in plan.assignments] == [
        ("eastus2", None, CLIENT_M), ("westus3", None, CLIENT_M)]
    assert plan.notes == ("region manager: identity id-m has no principalId in the fleet file "
                          "(az identity show --query principalId); the az script looks it up",
                          "region westus3: no cluster.resourceGroup; the az script looks the cluster up")


def test_the_annotated_controller_names_the_identity(tmp_path):
    objects = (_sa(KUEUE, f"{{azure.workload.identity/client-id: {CLIENT_M2}}}")
               + "---\n" + _sa("other", f"{{azure.workload.identity/client-id: {CLIENT_M}}}"))
    fleet, releases = _load(tmp_path, ID_M + "\n" + ID_M2, objects)
    identity, note = manager_identity(fleet, releases)
    assert (identity.name if identity else None, note) == ("id-m2", None)


@pytest.mark.parametrize(("objects", "expected_note"), [
    (_sa(KUEUE, "{azure.workload.identity/client-id: 0000-unknown}"),
     "region manager: ServiceAccount kueue-controller-manager uses client ID 0000-unknown, which is not under "
     "the manager's identities in the fleet file"),
    (_sa(KUEUE, "{azure.workload.identity/client-id: '   '}"),  # blank: not a client ID, and two identities
     "region manager: cannot tell which identity the Kueue controller runs as (no rendered "
     "kueue-controller-manager ServiceAccount with a client ID, and not exactly one identity)"),
    (_sa("other", f"{{azure.workload.identity/client-id: {CLIENT_M}}}"),  # another ServiceAccount's annotation
     "region manager: cannot tell which identity the Kueue controller runs as (no rendered "
     "kueue-controller-manager ServiceAccount with a client ID, and not exactly one identity)"),
    (_sa(KUEUE, "[not, a, mapping]"),
     "region manager: cannot tell which identity the Kueue controller runs as (no rendered "
     "kueue-controller-manager ServiceAccount with a client ID, and not exactly one identity)"),
])
def test_no_assignment_when_the_identity_cannot_be_told(tmp_path, objects, expected_note):
    fleet, releases = _load(tmp_path, ID_M + "\n" + ID_M2, objects)
    assert manager_identity(fleet, releases) == (None, expected_note)
    assert plan_role_assignments(fleet, releases) == RbacPlan((), (expected_note,))


def test_without_a_manager_there_is_nothing_to_plan(tmp_path):
    fleet, releases = _load(tmp_path, ID_M, scheduling=False)
    assert manager_identity(fleet, releases) == (None, None)
    assert plan_role_assignments(fleet, releases) == RbacPlan()


def test_a_manager_release_that_was_not_rendered_takes_the_only_identity(tmp_path):
    fleet, releases = _load(tmp_path, ID_M)
    identity, note = manager_identity(fleet, {k: v for k, v in releases.items() if k != "manager"})
    assert identity is not None and identity.name == "id-m" and note is not None and "only identity id-m" in note


def test_the_abac_condition_by_hand():
    assert abac_condition() == (
        f"((!(ActionMatches{{'{CR}/read'}}) AND !(ActionMatches{{'{CR}/write'}}) AND "
        f"!(ActionMatches{{'{CR}/delete'}})) "
        "OR (@Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase "
        "'ray.io' OR @Request[Microsoft.ContainerService/managedClusters/customResources:group] "
        "StringEqualsIgnoreCase 'kueue.x-k8s.io'))")


@pytest.mark.parametrize(("actions", "not_actions", "condition", "missing"), [
    ((f"{CR}/*",), (), None, []),                                    # a wildcard grants all three
    ((f"{CR.upper()}/READ", f"{CR}/write", f"{CR}/delete"), (), None, []),  # case does not matter
    ((f"{CR}/read",), (), None, ["write", "delete"]),
    (("*",), (f"{CR}/delete",), None, ["delete"]),                   # denied by notDataActions
    ((f"{CR}/*",), (), "... 'RAY.IO' ... 'kueue.x-k8s.io' ...", []),  # both groups allowed
    ((f"{CR}/*",), (), "... 'ray.io' ...", ["group kueue.x-k8s.io"]),
    ((f"{CR}/read",), (), "... 'kueue.x-k8s.io' ...", ["write", "delete", "group ray.io"]),
])
def test_what_an_existing_assignment_lacks(actions, not_actions, condition, missing):
    assignment = ExistingAssignment("id", "/scope", "role", actions, not_actions, condition)
    assert assignment.missing() == missing


@pytest.mark.parametrize(("subscription", "group"), [(None, "rg"), (SUB, None), (None, None)])
def test_no_scope_without_subscription_and_resource_group(subscription, group):
    assert PlannedRoleAssignment("w", "c", group, subscription, "id", CLIENT_M, None).scope is None


def test_identity_check_keeps_the_role_assignments_of_the_selected_workers(tmp_path):
    from rayfleet.commands.identity import run_identity_check

    fleet, releases = _load(tmp_path, ID_M)
    result = run_identity_check(fleet, releases, regions=["manager", "westus3"])
    assert [a.worker for a in result.role_assignments] == ["westus3"]  # eastus2 is not selected
    # the Kueue controller's credential on the manager identity (no worker has an annotated ServiceAccount)
    assert [(c.region, c.service_account) for c in result.identity_plan.credentials] == [("manager", KUEUE)]
    assert [(r.name, r.objects, r.rendered) for r in result.regions] == [("manager", 0, True), ("westus3", 0, True)]


def test_a_role_assignment_finding_belongs_to_its_worker_region(tmp_path):
    from rayfleet.findings import Violation
    from rayfleet.identity_rbac import RoleAssignmentView

    fleet, releases = _load(tmp_path, ID_M)
    planned = plan_role_assignments(fleet, releases).assignments[0]
    view = RoleAssignmentView(fleet, planned, PRINCIPAL, "/scope")
    assert view.existing == []
    assert view.finding_context(Violation("missing", region="eastus2")).region == "eastus2"
