"""`rayfleet identity plan`: the federated credential every annotated ServiceAccount needs, and
the plan as a table, JSON, a serial `az` script and Bicep."""

from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.cli.identity import identity
from rayfleet.fleet import load_fleet
from rayfleet.identity import AUDIENCE, IdentityPlan, PlannedCredential, credential_name, plan_credentials
from rayfleet.pipeline import render_fleet
from rayfleet.report.identity import az_commands, bicep, bicep_files, format_table, plan_to_dict

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"
DATA = Path(__file__).parent / "data" / "fleet.yaml"
LIMIT_FAIL = REPO / "tests" / "policies" / "fixtures" / "federated-credential-limit" / "fail" / "fleet.yaml"
TENANT = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
EXAMPLE_SUB = "6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


def plan_of(path: Path):
    fleet = load_fleet(path)
    return fleet, plan_credentials(fleet, {n: r.release for n, r in render_fleet(fleet).items()})


@pytest.fixture(scope="module")
def example_plan():
    return plan_of(EXAMPLE)


@pytest.fixture(scope="module")
def data_plan():
    return plan_of(DATA)


def test_example_fleet_plan_object_by_object(example_plan):
    _, plan = example_plan

    def expected(region, identity, client, group, issuer, sa, location=None):
        return PlannedCredential(
            region=region, client_id=client, identity_name=identity, resource_id=None, resource_group=group,
            subscription_id=EXAMPLE_SUB,
            issuer=f"https://{location or region}.oic.prod-aks.azure.com/{TENANT}/{issuer}/",
            namespace="ray", service_account=sa, name=f"{region}-ray-{sa}", audience=AUDIENCE)

    # Head (ray) and workers (ray-worker) have their own ServiceAccount on the same identity: two
    # credentials per region.
    assert list(plan.credentials) == [
        expected(region, identity, client, group, issuer, sa)
        for region, identity, client, group, issuer in (
            ("eastus2", "id-rayfleet-eus2", "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61", "rg-rayfleet-eus2",
             "5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21"),
            ("swedencentral", "id-rayfleet-sdc", "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12", "rg-rayfleet-sdc",
             "9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32"),
            ("westus3", "id-rayfleet-wus3", "c5b7d9e1-2f4a-4b6c-9d8e-0f1a2b3c4d73", "rg-rayfleet-wus3",
             "4d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b43"))
        for sa in ("ray", "ray-worker")
    ] + [  # the MultiKueue manager's Kueue controller (Kueue runs in the release namespace)
        expected("manager", "id-ray-kueue-manager", "7e3f9a2b-6c4d-4e8f-a1b2-c3d4e5f60718", "rg-ray-manager",
                 "1e3a5c7d-9f2b-4d6e-8a1c-3e5f7a9b1d54", "kueue-controller-manager", location="centralus"),
    ]
    assert {c.subject for c in plan.credentials[:-1]} == {"system:serviceaccount:ray:ray",
                                                          "system:serviceaccount:ray:ray-worker"}
    for cred in plan.credentials[:-1]:
        assert cred.issuer.endswith("/")  # kept as AKS gives it
        assert cred.source.file.endswith("workload-identity/templates/service-account.yaml")
    assert plan.notes == ()
    assert plan.over_limit() == {}


def test_example_plan_as_json(example_plan):
    _, plan = example_plan
    record = plan_to_dict(plan)["credentials"][0]
    assert record.pop("source").startswith("charts/ray-aks/charts/workload-identity/templates/service-account.yaml")
    assert record == {
        "region": "eastus2", "identityName": "id-rayfleet-eus2", "clientId": "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61",
        "resourceId": None, "resourceGroup": "rg-rayfleet-eus2", "subscriptionId": EXAMPLE_SUB,
        "name": "eastus2-ray-ray",
        "issuer": f"https://eastus2.oic.prod-aks.azure.com/{TENANT}/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/",
        "subject": "system:serviceaccount:ray:ray", "audiences": ["api://AzureADTokenExchange"],
        "namespace": "ray", "serviceAccount": "ray",
    }


def test_pre_rendered_fleet_plan(data_plan):
    _, plan = data_plan
    got = {(c.region, c.namespace, c.service_account): c for c in plan.credentials}
    assert list(got) == [("eastus2", "ray", "ray"), ("eastus2", "ray", "ray.autoscaler"),
                         ("eastus2", "monitoring", "ray-exporter"), ("westus3", "ray-wus3", "ray"),
                         ("westus3", "ray-wus3", "batch"), ("westus3", "monitoring", "ray-exporter")]
    # the identity's resource ID wins over its name and gives group and subscription
    wus3 = got[("westus3", "ray-wus3", "ray")]
    assert (wus3.identity_name, wus3.resource_group, wus3.subscription_id) == (
        "id-ray-wus3", "rg-shared-ids", "33333333-3333-4333-8333-333333333333")
    assert wus3.issuer is None  # no oidcIssuerUrl for westus3
    # an identity the fleet file does not list: client ID only
    batch = got[("westus3", "ray-wus3", "batch")]
    assert (batch.identity_name, batch.resource_group, batch.subscription_id) == (None, None, None)
    assert batch.client_id == "9e9e9e9e-1111-4222-8333-444444444444"
    # external ServiceAccounts with a client ID are planned in every region
    exporter = got[("eastus2", "monitoring", "ray-exporter")]
    assert exporter.identity_name == "id-ray-eus2" and exporter.source.file.endswith("fleet.yaml")
    assert any("westus3: the fleet file has no cluster.oidcIssuerUrl" in n for n in plan.notes)
    assert any("9e9e9e9e-1111-4222-8333-444444444444, which is not under the region's identities" in n
               for n in plan.notes)
    assert all(NAME_RULE.match(c.name) for c in plan.credentials)
    dotted = got[("eastus2", "ray", "ray.autoscaler")].name
    assert dotted.startswith("eastus2-ray-ray-autoscaler-") and dotted != credential_name("eastus2", "ray",
                                                                                          "ray-autoscaler")


def test_credential_names_are_stable_short_and_distinct():
    assert credential_name("eastus2", "ray", "ray") == "eastus2-ray-ray"
    assert credential_name("eastus2", "ray", "ray.head") == credential_name("eastus2", "ray", "ray.head")
    assert credential_name("eastus2", "ray", "ray.head") != credential_name("eastus2", "ray", "ray-head")
    long_name = credential_name("a" * 63, "b" * 63, "c" * 253)
    assert len(long_name) <= 120 and NAME_RULE.match(long_name)
    assert long_name != credential_name("a" * 63, "b" * 63, "c" * 252 + "d")


def test_az_script_runs_commands_one_after_another(example_plan):
    fleet, plan = example_plan
    script = az_commands(plan, fleet)
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    commands = [c for c in script.replace("\\\n", " ").splitlines() if c.startswith("az identity federated")]
    assert len(commands) == 7  # two ServiceAccounts in each of three regions, the manager's Kueue controller
    assert not re.search(r"(?<![&|])&(?!&)", script), "no background jobs: writes to one identity must be serial"
    args = shlex.split(commands[0])
    assert args[:4] == ["az", "identity", "federated-credential", "create"]
    options = dict(zip(args[4::2], args[5::2], strict=True))
    assert options == {
        "--name": "eastus2-ray-ray", "--identity-name": "id-rayfleet-eus2", "--resource-group": "rg-rayfleet-eus2",
        "--subscription": EXAMPLE_SUB,
        "--issuer": f"https://eastus2.oic.prod-aks.azure.com/{TENANT}/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/",
        "--subject": "system:serviceaccount:ray:ray", "--audiences": "api://AzureADTokenExchange",
    }


def test_az_script_looks_up_what_the_fleet_file_does_not_say(data_plan):
    fleet, plan = data_plan
    script = az_commands(plan, fleet)
    assert "--issuer \"$(az aks show --resource-group rg-ray-wus3 --name ray-wus3 " \
           "--query oidcIssuerProfile.issuerUrl -o tsv)\"" in script
    assert "az identity list --query '[?clientId=='\"'\"'9e9e9e9e-1111-4222-8333-444444444444'\"'\"'].name | [0]'" \
        in script
    assert "--name 'ray.autoscaler'" not in script  # names are already shell-safe


def test_bicep_chains_credentials_and_groups_by_resource_group(data_plan):
    fleet, plan = data_plan
    text = bicep(plan, fleet)
    sections = text.split("// ---- ")[1:]
    assert [s.split(".bicep")[0] for s in sections] == [
        "federated-credentials-rg-identities", "federated-credentials-rg-shared-ids",
        "federated-credentials-UNKNOWN-GROUP"]
    first = sections[0]
    assert "resource identity_id_ray_eus2 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing" \
        in first
    fics = re.findall(r"resource (\w+) 'Microsoft\.ManagedIdentity/userAssignedIdentities/"
                      r"federatedIdentityCredentials@2023-01-31' = \{", first)
    assert len(fics) == 3
    for previous, current in itertools.pairwise(fics):
        block = first[first.index(f"resource {current} "):]
        block = block[:block.index("\n}\n")]
        assert f"dependsOn: [\n    {previous}\n  ]" in block
    assert "dependsOn" not in first[first.index(f"resource {fics[0]} "):first.index(f"resource {fics[1]} ")]
    assert "audiences: [\n      'api://AzureADTokenExchange'\n    ]" in first
    # an unknown issuer becomes a parameter; so does an unknown identity name
    assert "param issuer_westus3 string" in sections[1]
    assert "issuer: issuer_westus3" in sections[1]
    assert "param identityName_9e9e9e9e_1111_4222_8333_444444444444 string" in sections[2]


def test_table_lists_every_credential_and_the_count_per_identity(example_plan):
    _, plan = example_plan
    table = format_table(plan)
    assert table.splitlines()[0].split() == ["REGION", "IDENTITY", "SUBJECT", "ISSUER", "NAME"]
    assert "id-rayfleet-sdc (8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12): 2 of 20 federated credentials" in table


@pytest.mark.parametrize("output", ["table", "json", "az", "bicep"])
def test_cli_plan_formats(output):
    outcome = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", output])
    assert outcome.exit_code == 0, outcome.output
    assert "westus3-ray-ray" in outcome.output


def test_cli_plan_bicep_out_writes_one_file_per_resource_group(tmp_path, data_plan):
    fleet, _ = data_plan
    out = tmp_path / "bicep" / "nested"
    outcome = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", "bicep", "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["federated-credentials-rg-ray-manager.bicep",  # the MultiKueue manager's Kueue controller
                     "federated-credentials-rg-rayfleet-eus2.bicep", "federated-credentials-rg-rayfleet-sdc.bicep",
                     "federated-credentials-rg-rayfleet-wus3.bicep"]
    assert all(f"{out / name}" in outcome.output for name in files)
    printed = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", "bicep"]).stdout  # stderr: role notes
    # The files hold exactly what the stream concatenates, one deployable template each.
    assert printed == "\n".join((out / name).read_text() for name in [
        "federated-credentials-rg-rayfleet-eus2.bicep", "federated-credentials-rg-rayfleet-sdc.bicep",
        "federated-credentials-rg-rayfleet-wus3.bicep", "federated-credentials-rg-ray-manager.bicep"])
    for name in files:
        text = (out / name).read_text()
        assert text.count("// ---- ") == 1 and "federatedIdentityCredentials@" in text
    # The same resource group name in two subscriptions does not overwrite a file.
    twin = [PlannedCredential("r", f"{n}aaaaaaa-1111-4222-8333-444444444444", "id", None, "rg-ids", sub, "https://i/",
                              "ray", "ray", f"fic-{n}") for n, sub in (("1", "sub-one-1234"), ("2", "sub-two-5678"))]
    assert list(bicep_files(IdentityPlan(tuple(twin)), fleet)) == [
        "federated-credentials-rg-ids.bicep", "federated-credentials-rg-ids-sub-two-.bicep"]
    wrong = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", "az", "--out", str(out)])
    assert wrong.exit_code == 2 and "--format bicep" in wrong.output


def test_cli_plan_region_filter():
    outcome = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--region", "westus3", "--format", "json"])
    assert [c["region"] for c in json.loads(outcome.output)["credentials"]] == ["westus3", "westus3"]
    bad = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--region", "mars"])
    assert bad.exit_code == 2 and "unknown region 'mars'" in bad.output


def test_cli_plan_over_the_limit_prints_the_plan_and_exits_1(tmp_path):
    target = tmp_path / "fleet"
    shutil.copytree(LIMIT_FAIL.parent, target)
    outcome = CliRunner().invoke(identity, ["plan", str(target / "fleet.yaml"), "--format", "az"])
    assert outcome.exit_code == 1
    assert outcome.output.count("az identity federated-credential create") == 22
    assert "id-ray-shared (3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61) would need 21 federated credentials" in outcome.output


def test_cli_check_without_live_reports_the_limit(tmp_path):
    target = tmp_path / "fleet"
    shutil.copytree(LIMIT_FAIL.parent, target)
    outcome = CliRunner().invoke(identity, ["check", str(target / "fleet.yaml"), "--report", "json"])
    assert outcome.exit_code == 1
    findings = json.loads(outcome.output)["findings"]
    assert [f["policy"] for f in findings] == ["federated-credential-limit"]
    assert "one managed identity per region" in findings[0]["message"]


def test_cli_plan_missing_fleet_file_exits_2(tmp_path):
    outcome = CliRunner().invoke(identity, ["plan", str(tmp_path / "nope.yaml")])
    assert outcome.exit_code == 2 and "fleet file not found" in outcome.output
