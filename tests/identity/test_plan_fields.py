"""Every field of a planned credential and every note of the plan, on a small fleet written
here: identities named by resource ID, a region subscription, a region without an issuer, a
second region sharing an issuer, unknown client IDs, external ServiceAccounts, unrendered
regions."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.identity import AUDIENCE, plan_credentials
from rayfleet.pipeline import render_fleet

ISSUER = "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/aaaaaaaa-0000-4000-8000-000000000001/"
CLIENT_A = "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"
CLIENT_B = "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12"
CLIENT_X = "5c5c5c5c-5c5c-4c5c-8c5c-5c5c5c5c5c5c"  # annotated, but under no region's identities
CLIENT_EXT = "6d6d6d6d-6d6d-4d6d-8d6d-6d6d6d6d6d6d"
SUB = "11111111-1111-4111-8111-111111111111"
SUB_REGION = "22222222-2222-4222-8222-222222222222"
SUB_ID = "33333333-3333-4333-8333-333333333333"
RESOURCE_ID = (f"/subscriptions/{SUB_ID}/resourceGroups/rg-from-id/providers/"
               "Microsoft.ManagedIdentity/userAssignedIdentities/name-from-id")

FLEET = f"""apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {{name: ray, namespace: ray}}
tenantId: 0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01
subscriptionId: {SUB}
policy:
  externalServiceAccounts:
    - {{namespace: ops, name: ext, clientId: {CLIENT_EXT}}}
    - {{namespace: ops, name: no-client}}
    - {{namespace: ray, name: ray, clientId: {CLIENT_EXT}}}
regions:
  - name: eastus2
    location: eastus2
    cluster: {{name: c1, resourceGroup: rg-c1, kubernetesVersion: "1.33", oidcIssuerUrl: "{ISSUER}"}}
    identities:
      - {{name: ignored, clientId: {CLIENT_A}, resourceId: "{RESOURCE_ID}"}}
      - {{name: id-ext, clientId: {CLIENT_EXT}, resourceGroup: rg-ext}}
    valuesFiles: []
    manifests: m
  - name: westus3
    location: westus3
    subscriptionId: {SUB_REGION}
    cluster: {{name: c2, resourceGroup: rg-c2, kubernetesVersion: "1.33"}}
    identities:
      - {{name: id-b, clientId: {CLIENT_A.upper()}, resourceGroup: rg-b}}
    valuesFiles: []
    manifests: m
  - name: eastus2-copy
    location: eastus2
    cluster: {{name: c1, resourceGroup: rg-c1, kubernetesVersion: "1.33", oidcIssuerUrl: "{ISSUER}"}}
    identities:
      - {{name: ignored, clientId: {CLIENT_A}, resourceId: "{RESOURCE_ID}", resourceGroup: rg-given}}
    valuesFiles: []
    manifests: m
  - name: norender
    location: westus
    cluster: {{name: c4, resourceGroup: rg-c4, kubernetesVersion: "1.33", oidcIssuerUrl: "{ISSUER}x/"}}
    valuesFiles: []
    manifests: m
"""


def _sa(name: str, annotations: str, namespace: str | None = None) -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}{ns}\n  annotations: {annotations}\n---\n"


@pytest.fixture(scope="module")
def fleet_and_releases(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("identity")
    (folder / "m").mkdir()
    (folder / "m" / "sa.yaml").write_text(
        _sa("ray", f"{{azure.workload.identity/client-id: ' {CLIENT_A} '}}")
        + _sa("stranger", f"{{azure.workload.identity/client-id: {CLIENT_X}}}", "jobs")
        + _sa("blank", "{azure.workload.identity/client-id: '  '}")
        + _sa("listed", "[not, a, mapping]")
        + _sa("numeric", "{azure.workload.identity/client-id: 7}"))
    (folder / "fleet.yaml").write_text(FLEET)
    fleet = load_fleet(folder / "fleet.yaml")
    releases = {name: r.release for name, r in render_fleet(fleet).items() if name != "norender"}
    return fleet, releases


def test_every_credential_field(fleet_and_releases):
    fleet, releases = fleet_and_releases
    plan = plan_credentials(fleet, releases)
    got = [(c.region, c.namespace, c.service_account, c.client_id, c.identity_name, c.resource_group,
            c.subscription_id, c.resource_id, c.issuer, c.name) for c in plan.credentials]
    assert got == [
        # the resource ID names the identity, its group and subscription
        ("eastus2", "ray", "ray", CLIENT_A, "name-from-id", "rg-from-id", SUB_ID, RESOURCE_ID, ISSUER,
         "eastus2-ray-ray"),
        ("eastus2", "jobs", "stranger", CLIENT_X, None, None, None, None, ISSUER, "eastus2-jobs-stranger"),
        ("eastus2", "ops", "ext", CLIENT_EXT, "id-ext", "rg-ext", SUB, None, ISSUER, "eastus2-ops-ext"),
        # client IDs match whatever their case; the region's subscription wins over the fleet's
        ("westus3", "ray", "ray", CLIENT_A, "id-b", "rg-b", SUB_REGION, None, None, "westus3-ray-ray"),
        ("westus3", "jobs", "stranger", CLIENT_X, None, None, None, None, None, "westus3-jobs-stranger"),
        ("westus3", "ops", "ext", CLIENT_EXT, None, None, None, None, None, "westus3-ops-ext"),
    ]
    assert [c.subject for c in plan.credentials][:3] == [
        "system:serviceaccount:ray:ray", "system:serviceaccount:jobs:stranger", "system:serviceaccount:ops:ext"]
    assert AUDIENCE == "api://AzureADTokenExchange"
    assert str(plan.credentials[2].source).startswith(str(fleet.path))  # external: the fleet file


def test_every_note(fleet_and_releases):
    fleet, releases = fleet_and_releases
    notes = plan_credentials(fleet, releases).notes
    assert notes == (
        f"region eastus2: ServiceAccount jobs/stranger uses client ID {CLIENT_X}, which is not under the region's "
        "identities in the fleet file",
        "region westus3: the fleet file has no cluster.oidcIssuerUrl; read it with `az aks show --query "
        "oidcIssuerProfile.issuerUrl` and add it",
        f"region westus3: ServiceAccount jobs/stranger uses client ID {CLIENT_X}, which is not under the region's "
        "identities in the fleet file",
        f"region westus3: ServiceAccount ops/ext uses client ID {CLIENT_EXT}, which is not under the region's "
        "identities in the fleet file",
        f"region eastus2-copy: system:serviceaccount:ray:ray on name-from-id ({CLIENT_A}) with issuer {ISSUER} "
        "is already planned for region eastus2",
        f"region eastus2-copy: ServiceAccount jobs/stranger uses client ID {CLIENT_X}, which is not under the "
        "region's identities in the fleet file",
        f"region eastus2-copy: system:serviceaccount:jobs:stranger on {CLIENT_X} with issuer {ISSUER} is already "
        "planned for region eastus2",
        f"region eastus2-copy: ServiceAccount ops/ext uses client ID {CLIENT_EXT}, which is not under the region's "
        "identities in the fleet file",
        f"region eastus2-copy: system:serviceaccount:ops:ext on {CLIENT_EXT} with issuer {ISSUER} is already "
        "planned for region eastus2",
        "region norender: not rendered, no credentials planned")


def test_selected_regions_only(fleet_and_releases):
    fleet, releases = fleet_and_releases
    plan = plan_credentials(fleet, releases, regions=["eastus2-copy"])
    # alone, the copy plans its own credentials: its given resource group beats the resource ID's
    assert [(c.region, c.service_account, c.resource_group) for c in plan.credentials] == [
        ("eastus2-copy", "ray", "rg-given"), ("eastus2-copy", "stranger", None), ("eastus2-copy", "ext", None)]
    assert not any("norender" in n for n in plan.notes)
    assert plan_credentials(fleet, releases, regions=[]).credentials == ()


def test_identity_check_without_live_keeps_the_selected_regions(fleet_and_releases):
    from rayfleet.commands.identity import run_identity_check

    fleet, releases = fleet_and_releases
    result = run_identity_check(fleet, releases, regions=["westus3", "norender"])
    assert result.command == "identity check"
    assert [p.id for p in result.policies] == ["federated-credential-limit"]
    assert [(r.name, r.objects, r.rendered) for r in result.regions] == [("westus3", 5, True), ("norender", 0, False)]
    plan = plan_credentials(fleet, releases)
    assert result.identity_plan.credentials == tuple(c for c in plan.credentials if c.region == "westus3")
    assert result.identity_plan.notes == plan.notes  # the plan's notes are the whole fleet's
    assert result.notes[:len(plan.notes)] == list(plan.notes)
    assert result.notes[-1].startswith("live checks skipped: add --live")
    assert result.findings == [] and result.role_assignments == () and result.clusters is None


def test_plan_table_json_and_az_for_what_the_fleet_file_does_not_say(fleet_and_releases):
    from rayfleet.report.identity import az_commands, credential_to_dict, format_table

    fleet, releases = fleet_and_releases
    plan = plan_credentials(fleet, releases, regions=["westus3"])
    lines = format_table(plan).splitlines()
    assert lines[0].split() == ["REGION", "IDENTITY", "SUBJECT", "ISSUER", "NAME"]
    assert lines[1].split() == ["westus3", "id-b", "system:serviceaccount:ray:ray", "(unknown)", "westus3-ray-ray"]
    assert lines[2].split() == ["westus3", CLIENT_X, "system:serviceaccount:jobs:stranger", "(unknown)",
                                "westus3-jobs-stranger"]
    # columns line up: each starts where its header starts
    assert lines[1].index("system:") == lines[0].index("SUBJECT") == lines[2].index("system:")
    assert lines[3].split()[:2] == ["westus3", CLIENT_EXT] and lines[4] == ""
    assert lines[5:8] == [f"id-b ({CLIENT_A}): 1 of 20 federated credentials",
                          f"{CLIENT_X}: 1 of 20 federated credentials",
                          f"{CLIENT_EXT}: 1 of 20 federated credentials"]
    assert lines[8:] == [f"note: {n}" for n in plan.notes]
    assert credential_to_dict(plan.credentials[1]) == {
        "region": "westus3", "identityName": None, "clientId": CLIENT_X, "resourceId": None, "resourceGroup": None,
        "subscriptionId": None, "name": "westus3-jobs-stranger", "issuer": None,
        "subject": "system:serviceaccount:jobs:stranger", "audiences": ["api://AzureADTokenExchange"],
        "namespace": "jobs", "serviceAccount": "stranger", "source": str(plan.credentials[1].source)}
    script = az_commands(plan, fleet)
    stranger = script[script.index("# westus3: system:serviceaccount:jobs:stranger"):].split("\n\n")[0]
    assert stranger.splitlines() == [
        f"# westus3: system:serviceaccount:jobs:stranger -> {CLIENT_X}",
        "az identity federated-credential create \\",
        "  --name westus3-jobs-stranger \\",
        f"  --identity-name \"$(az identity list --query '[?clientId=='\"'\"'{CLIENT_X}'\"'\"'].name | [0]' "
        "-o tsv)\" \\",
        f"  --resource-group \"$(az identity list --query '[?clientId=='\"'\"'{CLIENT_X}'\"'\"'].resourceGroup | [0]' "
        "-o tsv)\" \\",
        "  --issuer \"$(az aks show --resource-group rg-c2 --name c2 --query oidcIssuerProfile.issuerUrl -o tsv)\" \\",
        "  --subject system:serviceaccount:jobs:stranger \\",
        "  --audiences api://AzureADTokenExchange"]
    ray = script[script.index("# westus3: system:serviceaccount:ray:ray"):].split("\n\n")[0]
    assert f"--subscription {SUB_REGION}" in ray and "--identity-name id-b" in ray and "--resource-group rg-b" in ray
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script
    empty = format_table(plan_credentials(fleet, releases, regions=[])).splitlines()
    assert empty == ["REGION  IDENTITY  SUBJECT  ISSUER  NAME",
                     "(no ServiceAccount carries an azure.workload.identity/client-id annotation)"]
