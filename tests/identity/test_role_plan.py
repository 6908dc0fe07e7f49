"""`rayfleet identity plan` lists the role the Blob CSI controller needs for dynamic provisioning."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner
from rayfleet.cli.identity import identity
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import render_fleet
from rayfleet.storage_roles import plan_role_assignments

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"
SUB = "6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"


def test_each_dynamic_region_needs_the_provisioner_role():
    fleet = load_fleet(EXAMPLE)
    planned = plan_role_assignments(fleet, {n: r.release for n, r in render_fleet(fleet).items()})
    assert [(a.region, a.role, a.cluster, a.scope) for a in planned] == [
        (region, "Storage Account Contributor", cluster,
         f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{account}")
        for region, cluster, group, account in (
            ("eastus2", "rayfleet-eus2", "rg-rayfleet-eus2", "rayfleeteus2data"),
            ("swedencentral", "rayfleet-sdc", "rg-rayfleet-sdc", "rayfleetsdcdata"),
            ("westus3", "rayfleet-wus3", "rg-rayfleet-wus3", "rayfleetwus3data"))]


def test_table_json_and_az_carry_the_role():
    table = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--region", "westus3"])
    assert table.exit_code == 0, table.output
    assert "westus3: Storage Account Contributor for the control-plane identity of AKS cluster rayfleet-wus3" \
        in table.output
    data = json.loads(CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", "json"]).output)
    assert [a["region"] for a in data["roleAssignments"]] == ["eastus2", "swedencentral", "westus3"]
    assert data["roleAssignments"][0]["roleDefinitionId"] == "17d1049b-9a84-46fb-8f53-869881c3d3ab"
    script = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", "az", "--region", "eastus2"]).output
    command = next(c for c in script.replace("\\\n", " ").splitlines() if c.startswith("az role assignment"))
    args = shlex.split(command, posix=True)
    options = dict(zip(args[4::2], args[5::2], strict=False))
    assert options["--role"] == "Storage Account Contributor"
    assert options["--scope"].endswith("/storageAccounts/rayfleeteus2data")
    assert "az aks show --resource-group rg-rayfleet-eus2 --name rayfleet-eus2" in options["--assignee-object-id"]
    bicep = CliRunner().invoke(identity, ["plan", str(EXAMPLE), "--format", "bicep", "--region", "eastus2"])
    assert "eastus2: Storage Account Contributor" in bicep.stderr  # stdout stays deployable Bicep
    assert "Storage Account Contributor" not in bicep.stdout


def test_static_volumes_need_no_role(tmp_path):
    target = tmp_path / "fleet"
    shutil.copytree(REPO / "examples", target)
    (target / "values" / "platform.yaml").write_text(
        (target / "values" / "platform.yaml").read_text().replace("  mode: dynamic", "  mode: static"))
    text = (target / "fleet.yaml").read_text().replace("chart: ../charts/ray-aks",
                                                       f"chart: {REPO / 'charts' / 'ray-aks'}")
    (target / "fleet.yaml").write_text(text)
    outcome = CliRunner().invoke(identity, ["plan", str(target / "fleet.yaml"), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.output)["roleAssignments"] == []
