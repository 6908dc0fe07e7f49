"""Every line the identity plan renderers write (table, JSON, az script, Bicep), compared whole
against expectations written out by hand for a small plan: identities named and unnamed, a
client ID in two spellings, a region without an issuer (and one whose cluster has no resource
group), the same resource group in three subscriptions, Bicep symbols that clash three times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rayfleet.findings import SourceLocation
from rayfleet.fleet import load_fleet
from rayfleet.identity import IdentityPlan, PlannedCredential
from rayfleet.report.identity import az_commands, bicep, bicep_files, format_json, format_table, plan_to_dict

ISS = "https://oidc.example/r1/"
AUD = "api://AzureADTokenExchange"
MSI = "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31"
FIC = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31"

FLEET = """apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {name: ray, namespace: ray}
tenantId: 0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01
subscriptionId: 11111111-1111-4111-8111-111111111111
regions:
  - name: r1
    location: eastus2
    cluster: {name: c1, resourceGroup: rg-c1, kubernetesVersion: "1.33"}
    valuesFiles: []
    manifests: m
  - name: r2
    location: westus3
    cluster: {name: c2, resourceGroup: rg-c2, kubernetesVersion: "1.33"}
    valuesFiles: []
    manifests: m
  - name: r3
    location: westus
    cluster: {name: c3, kubernetesVersion: "1.33"}
    valuesFiles: []
    manifests: m
"""


def _cred(region: str, client: str, name: str, *, identity: str | None = None, group: str | None = None,
          sub: str | None = None, issuer: str | None = None, ns: str = "ray", sa: str = "ray",
          source: SourceLocation | None = None) -> PlannedCredential:
    return PlannedCredential(region=region, client_id=client, identity_name=identity, resource_id=None,
                             resource_group=group, subscription_id=sub, issuer=issuer, namespace=ns,
                             service_account=sa, name=name, source=source)


C1 = _cred("r1", "aaaa-1", "r1-ray.ray", identity="id-a", group="rg-ids", sub="sub-one-1111", issuer=ISS,
           source=SourceLocation("m/sa.yaml", 3))
C2 = _cred("r1", "AAAA-1", "r1-ray_ray", identity="id-a", group="rg-ids", sub="sub-one-1111", issuer=ISS,
           ns="jobs", sa="worker")
C7 = _cred("r1", "eeee-5", "r1-ray-ray", identity="id.a", group="rg-ids", sub="sub-one-1111")
C3 = _cred("r2", "bbbb-2", "r2-ray-ray")
C4 = _cred("r2", "bbbb-2", "r2-ray-head", sa="head")
C5 = _cred("r1", "cccc-3", "r1-ray-ray", identity="id-c", group="rg-ids", sub="sub-two-2222", issuer=ISS)
C6 = _cred("r1", "dddd-4", "r1-ray-d", identity="id-d", group="rg-ids", issuer=ISS, sa="d")


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "m").mkdir()
    (tmp_path / "fleet.yaml").write_text(FLEET)
    monkeypatch.chdir(tmp_path)  # the scripts name the fleet file relative to the current folder
    return load_fleet(tmp_path / "fleet.yaml")


def test_table_columns_counts_and_notes():
    plan = IdentityPlan((C1, C2, C3), ("n1", "n2"))
    # columns as wide as their widest cell, two spaces apart: SUBJECT is 33 wide (the jobs one),
    # ISSUER 24 (the URL); the last column is not padded
    assert format_table(plan) == (
        "REGION  IDENTITY  SUBJECT" + " " * 28 + "ISSUER" + " " * 20 + "NAME\n"
        "r1      id-a      system:serviceaccount:ray:ray      https://oidc.example/r1/  r1-ray.ray\n"
        "r1      id-a      system:serviceaccount:jobs:worker  https://oidc.example/r1/  r1-ray_ray\n"
        "r2      bbbb-2    system:serviceaccount:ray:ray      (unknown)                 r2-ray-ray\n"
        "\n"
        "id-a (aaaa-1): 2 of 20 federated credentials\n"  # named after the identity's first credential
        "bbbb-2: 1 of 20 federated credentials\n"
        "note: n1\n"
        "note: n2\n"
    )


def test_table_of_an_empty_plan():
    assert format_table(IdentityPlan((), ("nothing annotated",))) == (
        "REGION  IDENTITY  SUBJECT  ISSUER  NAME\n"
        "(no ServiceAccount carries an azure.workload.identity/client-id annotation)\n"
        "note: nothing annotated\n")
    assert format_table(IdentityPlan((), ())).splitlines()[-1].startswith("(no ServiceAccount")


def test_json_every_field():
    plan = IdentityPlan((C1, C3), ("n1",))
    expected = {"credentials": [
        {"region": "r1", "identityName": "id-a", "clientId": "aaaa-1", "resourceId": None, "resourceGroup": "rg-ids",
         "subscriptionId": "sub-one-1111", "name": "r1-ray.ray", "issuer": ISS,
         "subject": "system:serviceaccount:ray:ray", "audiences": [AUD], "namespace": "ray",
         "serviceAccount": "ray", "source": "m/sa.yaml:3"},
        {"region": "r2", "identityName": None, "clientId": "bbbb-2", "resourceId": None, "resourceGroup": None,
         "subscriptionId": None, "name": "r2-ray-ray", "issuer": None,
         "subject": "system:serviceaccount:ray:ray", "audiences": [AUD], "namespace": "ray",
         "serviceAccount": "ray", "source": None},
    ], "notes": ["n1"]}
    assert plan_to_dict(plan) == expected
    text = format_json(plan)
    assert json.loads(text) == expected
    assert text.startswith('{\n  "credentials": [\n    {\n      "region": "r1",') and text.endswith("}\n")


def test_az_script_line_by_line(fleet):
    plan = IdentityPlan((C1, C3, _cred("r3", "ffff-6", "r3-ray-ray")), ())
    query = "'[?clientId=='\"'\"'{}'\"'\"'].{} | [0]'"
    assert az_commands(plan, fleet).splitlines() == [
        "#!/usr/bin/env bash",
        "# Federated identity credentials for the rayfleet fleet fleet.yaml (rayfleet identity plan --format az).",
        "# One command at a time: concurrent writes to one managed identity fail with 409 Conflict.",
        "# Creating a credential that exists updates it (same name).",
        "set -euo pipefail",
        "",
        "# r1: system:serviceaccount:ray:ray -> id-a (aaaa-1)",
        "az identity federated-credential create \\",
        "  --name r1-ray.ray \\",
        "  --identity-name id-a \\",
        "  --resource-group rg-ids \\",
        "  --subscription sub-one-1111 \\",
        f"  --issuer {ISS} \\",
        "  --subject system:serviceaccount:ray:ray \\",
        f"  --audiences {AUD}",
        "",
        "# r2: system:serviceaccount:ray:ray -> bbbb-2",
        "az identity federated-credential create \\",
        "  --name r2-ray-ray \\",
        f'  --identity-name "$(az identity list --query {query.format("bbbb-2", "name")} -o tsv)" \\',
        f'  --resource-group "$(az identity list --query {query.format("bbbb-2", "resourceGroup")} -o tsv)" \\',
        '  --issuer "$(az aks show --resource-group rg-c2 --name c2 --query oidcIssuerProfile.issuerUrl -o tsv)" \\',
        "  --subject system:serviceaccount:ray:ray \\",
        f"  --audiences {AUD}",
        "",
        "# r3: system:serviceaccount:ray:ray -> ffff-6",
        "az identity federated-credential create \\",
        "  --name r3-ray-ray \\",
        f'  --identity-name "$(az identity list --query {query.format("ffff-6", "name")} -o tsv)" \\',
        f'  --resource-group "$(az identity list --query {query.format("ffff-6", "resourceGroup")} -o tsv)" \\',
        # the cluster's resource group is not in the fleet file: a placeholder the user must fill
        "  --issuer \"$(az aks show --resource-group '<cluster-rg>' --name c3 "
        "--query oidcIssuerProfile.issuerUrl -o tsv)\" \\",
        "  --subject system:serviceaccount:ray:ray \\",
        f"  --audiences {AUD}",
        "",
        "# Entra ID takes from a few seconds to several minutes to propagate new credentials;",
        "# until then token exchanges fail with AADSTS70021. Verify with: rayfleet identity check --live",
    ]


def _fic(symbol: str, parent: str, name: str, issuer: str, subject: str, after: str | None) -> str:
    depends = f"  dependsOn: [\n    {after}\n  ]\n" if after else ""
    return (f"resource {symbol} '{FIC}' = {{\n  parent: {parent}\n  name: '{name}'\n  properties: {{\n"
            f"    issuer: {issuer}\n    subject: '{subject}'\n    audiences: [\n      '{AUD}'\n    ]\n  }}\n"
            f"{depends}}}\n")


def _header(file: str, deploy: str) -> str:
    return (f"// ---- {file} (rayfleet identity plan --format bicep, fleet fleet.yaml)\n"
            f"// Deploy with: az deployment group create {deploy}--template-file <this file>\n"
            "// Writes to one managed identity must be serial (409 Conflict otherwise): every credential\n"
            "// depends on the one before it.\n")


def test_bicep_files_whole(fleet):
    plan = IdentityPlan((C1, C2, C7, C3, C4, C5, C6), ())
    ray, jobs, head = ("system:serviceaccount:ray:ray", "system:serviceaccount:jobs:worker",
                       "system:serviceaccount:ray:head")
    issuer_param = ("@description('OIDC issuer URL of the AKS cluster of region {} (with the trailing slash)')\n"
                    "param issuer_{} string\n")
    expected = {
        "federated-credentials-rg-ids.bicep": "\n".join([
            _header("federated-credentials-rg-ids.bicep", "--subscription sub-one-1111 --resource-group rg-ids "),
            issuer_param.format("r1", "r1"),
            # aaaa-1 and AAAA-1 are one identity: declared once; id.a clashes with id-a
            f"resource identity_id_a '{MSI}' existing = {{\n  name: 'id-a'\n}}\n",
            f"resource identity_id_a_2 '{MSI}' existing = {{\n  name: 'id.a'\n}}\n",
            # three names that all clean up to fic_r1_ray_ray
            _fic("fic_r1_ray_ray", "identity_id_a", "r1-ray.ray", f"'{ISS}'", ray, None),
            _fic("fic_r1_ray_ray_2", "identity_id_a", "r1-ray_ray", f"'{ISS}'", jobs, "fic_r1_ray_ray"),
            _fic("fic_r1_ray_ray_3", "identity_id_a_2", "r1-ray-ray", "issuer_r1", ray, "fic_r1_ray_ray_2"),
        ]),
        "federated-credentials-UNKNOWN-GROUP.bicep": "\n".join([
            _header("federated-credentials-UNKNOWN-GROUP.bicep", "--resource-group <identity-resource-group> "),
            "@description('Name of the managed identity with client ID bbbb-2')\nparam identityName_bbbb_2 string\n",
            issuer_param.format("r2", "r2"),  # one parameter for both credentials of the region
            f"resource identity_bbbb_2 '{MSI}' existing = {{\n  name: identityName_bbbb_2\n}}\n",
            _fic("fic_r2_ray_ray", "identity_bbbb_2", "r2-ray-ray", "issuer_r2", ray, None),
            _fic("fic_r2_ray_head", "identity_bbbb_2", "r2-ray-head", "issuer_r2", head, "fic_r2_ray_ray"),
        ]),
        # rg-ids again, in another subscription: the subscription's first 8 characters tell them apart
        "federated-credentials-rg-ids-sub-two-.bicep": "\n".join([
            _header("federated-credentials-rg-ids-sub-two-.bicep",
                    "--subscription sub-two-2222 --resource-group rg-ids "),
            f"resource identity_id_c '{MSI}' existing = {{\n  name: 'id-c'\n}}\n",
            _fic("fic_r1_ray_ray", "identity_id_c", "r1-ray-ray", f"'{ISS}'", ray, None),
        ]),
        "federated-credentials-rg-ids-default.bicep": "\n".join([
            _header("federated-credentials-rg-ids-default.bicep", "--resource-group rg-ids "),
            f"resource identity_id_d '{MSI}' existing = {{\n  name: 'id-d'\n}}\n",
            _fic("fic_r1_ray_d", "identity_id_d", "r1-ray-d", f"'{ISS}'", "system:serviceaccount:ray:d", None),
        ]),
    }
    files = bicep_files(plan, fleet)
    assert list(files) == list(expected)
    for name, text in expected.items():
        assert files[name] == text, name
    assert bicep(plan, fleet) == "\n".join(expected.values())


def test_bicep_of_an_empty_plan(fleet):
    assert bicep_files(IdentityPlan((), ()), fleet) == {}
    assert bicep(IdentityPlan((), ()), fleet) == (
        "// No ServiceAccount carries an azure.workload.identity/client-id annotation: nothing to create.\n")


def test_bicep_strings_are_escaped(fleet):
    quirky = _cred("r1", "q", "r1-q", identity="it's", issuer="https://x/${a}\\b/")
    text = bicep(IdentityPlan((quirky,), ()), fleet)
    assert "  name: 'it\\'s'\n" in text and "    issuer: 'https://x/\\${a}\\\\b/'\n" in text
