"""`rayfleet identity check --live`, storage side: the Blob CSI controller's role on the storage
account (dynamic provisioning) and ADLS Gen2 against the account's hierarchical namespace. Real
azure-identity and azure-core against the fake ARM (``fake_identity``)."""

from __future__ import annotations

import shutil

import pytest
from rayfleet.azure.arm import ArmClient
from rayfleet.commands.identity import run_identity_check
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import render_fleet

from tests.azure.test_identity_live import REGIONS, REPO, STORAGE, SUB, cli, cluster_of, example

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def check(fake, fleet=None, releases=None, regions=None):
    loaded, rendered = example()
    fleet = fleet or loaded
    with ArmClient.for_fleet(fleet, endpoint=fake.server.url, retries=0) as arm:
        return run_identity_check(fleet, releases or rendered, arm=arm, regions=regions)


def storage_findings(result):
    return [f for f in result.findings if f.policy in ("blob-provisioner-role", "blob-adls-matches-account")]


def account_id(region):
    return (f"/subscriptions/{SUB}/resourceGroups/{REGIONS[region][1]}/providers/Microsoft.Storage/"
            f"storageAccounts/{STORAGE[region]}")


def fleet_with(tmp_path, values: str):
    """The example fleet with one more override file (``values``, YAML text)."""
    target = tmp_path / "fleet"
    shutil.copytree(REPO / "examples", target)
    (target / "values" / "overrides" / "extra.yaml").write_text(values)
    text = (target / "fleet.yaml").read_text().replace("chart: ../charts/ray-aks",
                                                       f"chart: {REPO / 'charts' / 'ray-aks'}")
    text = text.replace("  - values/overrides/platform-team.yaml\n",
                        "  - values/overrides/platform-team.yaml\n  - values/overrides/extra.yaml\n")
    (target / "fleet.yaml").write_text(text)
    fleet = load_fleet(target / "fleet.yaml")
    return fleet, {n: r.release for n, r in render_fleet(fleet).items()}


def test_granted_role_and_flat_accounts_pass(azure):
    result = check(azure)
    assert storage_findings(result) == []
    assert {"blob-provisioner-role", "blob-adls-matches-account"} <= {p.id for p in result.policies}
    accounts = result.storage_accounts
    assert set(accounts) == {account_id(r) for r in REGIONS}
    assert all(a["dynamic"] and a["isHnsEnabled"] is False for a in accounts.values())
    # One listing per storage account (the others are the MultiKueue manager's, on each worker cluster).
    listing = [r for r in azure.server.requests if "/storageAccounts/" in r.path
               and r.path.endswith("/providers/Microsoft.Authorization/roleAssignments")]
    assert len(listing) == 3 and all(r.query["$filter"] == ["atScope()"] for r in listing)


def test_missing_provisioner_role(azure):
    azure.role_assignments = [a for a in azure.role_assignments if STORAGE["swedencentral"] not in a[0]]
    (finding,) = storage_findings(check(azure))
    assert finding.policy == "blob-provisioner-role" and finding.region == "swedencentral"
    assert cluster_of(azure, "swedencentral").principal_id in finding.message
    assert "rayfleetsdcdata" in finding.message and "Pending" in finding.message
    assert finding.source.file.endswith("fleet.yaml") and finding.source.line
    outcome = cli(azure, "--region", "swedencentral")
    assert outcome.exit_code == 1 and "blob-provisioner-role" in outcome.output


def test_only_a_data_role_is_not_enough(azure):
    sdc = cluster_of(azure, "swedencentral")
    azure.role_assignments = [a for a in azure.role_assignments if STORAGE["swedencentral"] not in a[0]]
    azure.assign(account_id("swedencentral"), sdc.principal_id, BLOB_DATA_READER)
    (finding,) = storage_findings(check(azure, regions=["swedencentral"]))
    assert BLOB_DATA_READER in finding.message


def test_role_inherited_from_the_resource_group_counts(azure):
    sdc = cluster_of(azure, "swedencentral")
    azure.role_assignments = [a for a in azure.role_assignments if STORAGE["swedencentral"] not in a[0]]
    azure.assign(f"/subscriptions/{SUB}/resourceGroups/{REGIONS['swedencentral'][1]}", sdc.principal_id, CONTRIBUTOR)
    assert storage_findings(check(azure, regions=["swedencentral"])) == []


def test_user_assigned_control_plane_identity(azure):
    cluster_of(azure, "westus3").user_assigned = True  # same principal, reported under userAssignedIdentities
    assert storage_findings(check(azure, regions=["westus3"])) == []
    azure.role_assignments = [a for a in azure.role_assignments if STORAGE["westus3"] not in a[0]]
    assert [f.policy for f in storage_findings(check(azure, regions=["westus3"]))] == ["blob-provisioner-role"]


def test_static_volumes_need_no_provisioner_role(azure, tmp_path):
    fleet, releases = fleet_with(tmp_path, "blob-storage:\n  mode: static\n")
    azure.role_assignments = []
    result = check(azure, fleet, releases)
    assert storage_findings(result) == []
    assert not [r for r in azure.server.requests if "/storageAccounts/" in r.path and "roleAssignments" in r.path]
    assert all(a["dynamic"] is False for a in result.storage_accounts.values())


@pytest.mark.parametrize(("adls", "hns", "fires"), [(False, True, True), (True, False, True), (True, True, False)])
def test_adls_must_match_the_accounts_hierarchical_namespace(azure, tmp_path, adls, hns, fires):
    azure.storage_accounts[(SUB, REGIONS["eastus2"][1].lower(), STORAGE["eastus2"])] = hns
    fleet, releases = (fleet_with(tmp_path, "blob-storage:\n  adls: true\n") if adls else example())
    findings = [f for f in storage_findings(check(azure, fleet, releases, regions=["eastus2"]))
                if f.policy == "blob-adls-matches-account"]
    if not fires:
        assert findings == []
        return
    (finding,) = findings
    assert finding.region == "eastus2" and finding.obj.kind == "StorageClass"
    assert ("has a hierarchical namespace" if hns else "has no hierarchical namespace") in finding.message
