"""The MultiKueue manager identity's role on each worker: planned by `rayfleet identity plan`,
verified by `rayfleet identity check --live` with the real azure-identity credential and
azure-core pipeline against a fake Entra ID and ARM on 127.0.0.1 (``fake_identity``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.cli.identity import identity

from tests.azure.fake_azure import workload_identity_env
from tests.azure.fake_identity import FakeIdentityAzure
from tests.support.https_server import HttpsServer

TENANT = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
SUB = "6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
CI_CLIENT = "99999999-8888-4777-8666-555555555555"
MANAGER_CLIENT = "7e3f9a2b-6c4d-4e8f-a1b2-c3d4e5f60718"
MANAGER_PRINCIPAL = "2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34"
CUSTOM_RESOURCES = [f"Microsoft.ContainerService/managedClusters/customresources/{v}" for v in ("read", "write",
                                                                                                 "delete")]
REGIONS = {  # region: (role, cluster, group, identity, client ID, issuer)
    "manager": ("manager", "aks-ray-manager", "rg-ray-manager", "id-ray-kueue-manager", MANAGER_CLIENT,
                "https://centralus.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/0f1e2d3c/"),
    "eastus2": ("worker", "rayfleet-eus2", "rg-rayfleet-eus2", "id-rayfleet-eus2",
                "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61",
                "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/5c1e9f0a/"),
    "westus3": ("worker", "rayfleet-wus3", "rg-rayfleet-wus3", "id-rayfleet-wus3",
                "c5b7d9e1-2f4a-4b6c-9d8e-0f1a2b3c4d73",
                "https://westus3.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/4d6f8a0b/"),
}
SA = {"manager": ("ray", "kueue-controller-manager"), "eastus2": ("ray", "ray"), "westus3": ("ray", "ray")}


def cluster_scope(region: str) -> str:
    _, cluster, group, *_ = REGIONS[region]
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{cluster}"


def write_fleet(folder: Path, *, principal: bool = True, annotate_kueue: bool = True) -> Path:
    """``annotate_kueue=False``: the manager's Kueue ServiceAccount as the upstream chart renders it,
    without the client-ID annotation (kubelogin gets the client ID from Kueue's exec config)."""
    regions = []
    for name, (role, cluster, group, ident, client, issuer) in REGIONS.items():
        namespace, account = SA[name]
        annotations = {"azure.workload.identity/client-id": client}
        if name == "manager" and not annotate_kueue:
            annotations = {}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": account, "namespace": namespace, "annotations": annotations}}))
        identity_entry = {"name": ident, "clientId": client, "resourceGroup": group}
        if name == "manager" and principal:
            identity_entry["principalId"] = MANAGER_PRINCIPAL
        regions.append({"name": name, "location": "centralus" if name == "manager" else name, "role": role,
                        "cluster": {"name": cluster, "resourceGroup": group, "kubernetesVersion": "1.33",
                                    "oidcIssuerUrl": issuer},
                        "identities": [identity_entry], "valuesFiles": [], "manifests": f"{name}.yaml"})
    fleet = {"apiVersion": "rayfleet.dev/v1", "chart": "chart", "release": {"name": "ray", "namespace": "ray"},
             "tenantId": TENANT, "subscriptionId": SUB,
             "scheduling": {"engine": "multikueue", "queues": [{"name": "gpu-batch", "namespace": "ray"}]},
             "regions": regions}
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet, sort_keys=False))
    return path


@pytest.fixture
def azure(tmp_path, monkeypatch):
    """A correctly wired fleet: FICs for every ServiceAccount and the manager's role on each worker."""
    with HttpsServer() as server:
        fake = FakeIdentityAzure(server, tenant=TENANT, ci_client=CI_CLIENT, page_size=2)
        for name, (_, cluster, group, ident, client, issuer) in REGIONS.items():
            fake.cluster(SUB, group, cluster, name, issuer)
            namespace, account = SA[name]
            fake.identity(SUB, group, ident, client).add(f"{name}-{namespace}-{account}", issuer,
                                                         f"system:serviceaccount:{namespace}:{account}")
        fake.role_id = fake.role_definition(SUB, "rayfleet MultiKueue manager", CUSTOM_RESOURCES)
        for worker in ("eastus2", "westus3"):
            fake.grant(MANAGER_PRINCIPAL, cluster_scope(worker), fake.role_id,
                       condition="@Request[...customResources:group] StringEqualsIgnoreCase 'ray.io' OR "
                                 "@Request[...customResources:group] StringEqualsIgnoreCase 'kueue.x-k8s.io'")
        workload_identity_env(monkeypatch, fake, tmp_path, client_id=CI_CLIENT, tenant=TENANT)  # rayfleet in CI
        fake.fleet = write_fleet(tmp_path)
        yield fake


def revoke(fake, cluster: str) -> None:
    """Remove every role assignment at ``cluster``."""
    fake.cluster_role_assignments = [a for a in fake.cluster_role_assignments
                                     if not a["properties"]["scope"].endswith(f"/managedClusters/{cluster}")]


def check(fake, *args: str):
    outcome = CliRunner().invoke(identity, ["check", str(fake.fleet), "--live", "--arm-endpoint", fake.server.url,
                                            "--report", "json", *args])
    return outcome, (json.loads(outcome.output) if outcome.exit_code in (0, 1) else None)


def test_plan_has_the_manager_credential_and_a_role_assignment_per_worker(azure):
    outcome = CliRunner().invoke(identity, ["plan", str(azure.fleet), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    plan = json.loads(outcome.output)
    assert {(c["region"], c["subject"]) for c in plan["credentials"]} >= {
        ("manager", "system:serviceaccount:ray:kueue-controller-manager")}
    assignments = plan["azureRbac"]["roleAssignments"]
    assert [(a["worker"], a["scope"], a["principalId"]) for a in assignments] == [
        ("eastus2", cluster_scope("eastus2"), MANAGER_PRINCIPAL), ("westus3", cluster_scope("westus3"),
                                                                    MANAGER_PRINCIPAL)]
    assert plan["azureRbac"]["roleDefinition"]["dataActions"] == CUSTOM_RESOURCES
    assert "'ray.io'" in assignments[0]["condition"] and "'kueue.x-k8s.io'" in assignments[0]["condition"]


def test_plan_has_the_kueue_credential_when_the_chart_cannot_annotate(azure, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    outcome = CliRunner().invoke(identity, ["plan", str(write_fleet(folder, annotate_kueue=False)), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    manager = [c for c in json.loads(outcome.output)["credentials"] if c["region"] == "manager"]
    assert [(c["clientId"], c["subject"], c["issuer"]) for c in manager] == [
        (MANAGER_CLIENT, "system:serviceaccount:ray:kueue-controller-manager", REGIONS["manager"][5])]
    azure.fleet = folder / "fleet.yaml"
    checked, report = check(azure)  # the fake holds that credential: nothing missing
    assert checked.exit_code == 0, checked.output
    azure.identities[0].credentials.clear()
    _, report = check(azure)
    assert [(f["policy"], f["region"]) for f in report["findings"]] == [("federated-credential-missing", "manager")]


def test_plan_as_az_script_creates_the_role_then_one_assignment_per_worker(azure):
    outcome = CliRunner().invoke(identity, ["plan", str(azure.fleet), "--format", "az"])
    assert outcome.exit_code == 0, outcome.output
    script = outcome.output
    assert script.count("az role definition create") == 1
    assert script.count("az role assignment create") == 2
    assert f"MANAGER_PRINCIPAL_ID={MANAGER_PRINCIPAL}" in script
    assert f"--scope {cluster_scope('westus3')}" in script
    assert "--assignee-principal-type ServicePrincipal" in script and "--condition-version 2.0" in script
    assert "--subject system:serviceaccount:ray:kueue-controller-manager" in script


def test_correct_wiring_passes(azure):
    outcome, report = check(azure)
    assert outcome.exit_code == 0, outcome.output
    assert report["findings"] == []
    assert [a["worker"] for a in report["data"]["identityPlan"]["roleAssignments"]] == ["eastus2", "westus3"]
    lists = [r for r in azure.server.requests if r.path.endswith("/roleAssignments")]
    assert len(lists) == 2 and lists[0].query["$filter"] == [f"principalId eq '{MANAGER_PRINCIPAL}'"]


def test_missing_assignment_on_one_worker(azure):
    revoke(azure, "rayfleet-wus3")
    outcome, report = check(azure)
    assert outcome.exit_code == 1
    findings = report["findings"]
    assert [(f["policy"], f["region"]) for f in findings] == [("kueue-manager-role-assignment", "westus3")]
    assert "has no role assignment there" in findings[0]["message"]


def test_a_role_without_write_does_not_count(azure):
    reader = azure.role_definition(SUB, "AKS CRD Reader", CUSTOM_RESOURCES[:1])
    revoke(azure, "rayfleet-eus2")
    azure.grant(MANAGER_PRINCIPAL, cluster_scope("eastus2"), reader)
    _, report = check(azure)
    [finding] = report["findings"]
    assert finding["region"] == "eastus2"
    assert "AKS CRD Reader at " in finding["message"] and "lacks write, delete" in finding["message"]


def test_a_condition_for_other_groups_does_not_count(azure):
    revoke(azure, "rayfleet-eus2")
    azure.grant(MANAGER_PRINCIPAL, cluster_scope("eastus2"), azure.role_id,
                condition="@Request[...customResources:group] StringEqualsIgnoreCase 'secrets-store.csi.x-k8s.io'")
    _, report = check(azure)
    [finding] = report["findings"]
    assert "lacks group ray.io, group kueue.x-k8s.io" in finding["message"]


def test_an_assignment_at_the_resource_group_counts(azure):
    revoke(azure, "rayfleet-eus2")
    azure.grant(MANAGER_PRINCIPAL, f"/subscriptions/{SUB}/resourceGroups/rg-rayfleet-eus2",
                azure.role_definition(SUB, "Cluster Admin", ["Microsoft.ContainerService/managedClusters/*"]))
    outcome, _ = check(azure)
    assert outcome.exit_code == 0, outcome.output


def test_principal_looked_up_by_client_id_when_the_fleet_does_not_say(azure, tmp_path):
    import uuid

    manager = next(i for i in azure.identities if i.client_id == MANAGER_CLIENT)
    looked_up = str(uuid.uuid5(uuid.NAMESPACE_URL, manager.id))  # what the fake lists as principalId
    azure.cluster_role_assignments = []
    for worker in ("eastus2", "westus3"):
        azure.grant(looked_up, cluster_scope(worker), azure.role_id)
    folder = tmp_path / "no-principal"
    folder.mkdir()
    azure.fleet = write_fleet(folder, principal=False)
    outcome, report = check(azure)
    assert outcome.exit_code == 0, outcome.output
    assert report["findings"] == []
    assert any(r.path.endswith("/userAssignedIdentities") for r in azure.server.requests)  # the lookup


def test_forbidden_role_assignment_read_is_exit_2(azure):
    azure.arm.subscriptions[SUB].readers = ()
    outcome, _ = check(azure)
    assert outcome.exit_code == 2
    assert "rayfleet: error: region" in outcome.output and "Traceback" not in outcome.output
