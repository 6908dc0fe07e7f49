"""The hybrid example end to end: an Arc member and an Anyscale-operator region, wired right and wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.identity import plan_credentials
from rayfleet.pipeline import render_fleet

from tests.core.helpers import REPO, run_cli, snapshot

EXAMPLE = REPO / "examples" / "hybrid" / "fleet.yaml"
OPERATOR_CLIENT_ID = "2b4d6f80-9a1c-4e3b-8d5f-7a9c1e3b5d70"


@pytest.fixture
def hybrid(tmp_path: Path) -> Path:
    """A copy of the hybrid example (its values, its stand-in chart) pointing at the repo's umbrella chart
    and the shared values file."""
    target = tmp_path / "hybrid"
    shutil.copytree(REPO / "examples" / "hybrid", target)
    fleet = target / "fleet.yaml"
    text = fleet.read_text().replace("chart: ../../charts/ray-aks", f"chart: {REPO / 'charts' / 'ray-aks'}")
    fleet.write_text(text.replace("../values/platform.yaml", str(REPO / "examples" / "values" / "platform.yaml")))
    return fleet


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _validate(fleet: Path, crds_dir: Path) -> tuple[int, list[dict]]:
    result = run_cli("validate", fleet, "--crds", crds_dir, "--report", "json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)["findings"]


def _errors(findings: list[dict]) -> list[tuple[str, str]]:
    return [(f["policy"], f["region"]) for f in findings if f["severity"] == "error"]


def test_hybrid_example_validates_clean(crds_dir: Path):
    code, findings = _validate(EXAMPLE, crds_dir)
    assert code == 0
    assert [f for f in findings if f["severity"] in ("error", "warning")] == []


def test_operator_objects_join_the_region_release():
    renders = render_fleet(load_fleet(EXAMPLE))
    objects = {(o.kind, o.namespace, o.name) for o in renders["swedencentral"].release.objects}
    assert ("Deployment", "anyscale", "anyscale-operator") in objects
    assert ("ServiceAccount", "anyscale", "anyscale-operator") in objects
    assert renders["amsdc1"].release.anyscale is None


def test_identity_plan_includes_the_operator_service_account():
    fleet = load_fleet(EXAMPLE)
    renders = render_fleet(fleet)
    plan = plan_credentials(fleet, {name: r.release for name, r in renders.items()})
    operator = [c for c in plan.credentials if c.subject == "system:serviceaccount:anyscale:anyscale-operator"]
    assert [(c.region, c.client_id, c.identity_name) for c in operator] == [
        ("swedencentral", OPERATOR_CLIENT_ID, "id-anyscale-operator-sdc")]
    arc = [c for c in plan.credentials if c.region == "amsdc1"]
    assert arc and all(c.issuer == fleet.region("amsdc1").cluster.oidc_issuer_url for c in arc)


def test_cli_token_fails_with_clear_errors(hybrid: Path, crds_dir: Path):
    values = hybrid.parent / "values" / "anyscale" / "swedencentral.yaml"
    _edit(values, "    audience:", "    anyscaleCliToken: aph0_CkgwRgIhAexampleexampleexample\n    audience:")
    code, findings = _validate(hybrid, crds_dir)
    assert code == 1
    token = [f for f in findings if f["policy"] == "anyscale-no-cli-token"]
    assert {f["path"] for f in token} == {"global.auth.anyscaleCliToken", "metadata.name",
                                          "spec.template.spec.containers[0].env[0]"}
    values_finding = next(f for f in token if f["path"] == "global.auth.anyscaleCliToken")
    assert values_finding["source"]["file"].endswith("values/anyscale/swedencentral.yaml")
    # The Secret the chart creates is caught by the general no-secrets policy too.
    assert ("no-secret-objects", "swedencentral") in _errors(findings)


def test_wrong_client_id_fails_with_a_clear_error(hybrid: Path, crds_dir: Path):
    values = hybrid.parent / "values" / "anyscale" / "swedencentral.yaml"
    _edit(values, OPERATOR_CLIENT_ID, "5e7a9c1b-3d5f-4b7d-9f1a-3c5e7a9b1d26")  # amsdc1's identity
    code, findings = _validate(hybrid, crds_dir)
    assert code == 1
    # region-identity-match also sees another region's client ID in this region's release.
    assert sorted(_errors(findings)) == [("anyscale-iam-identity", "swedencentral"),
                                         ("region-identity-match", "swedencentral")]
    message = next(f["message"] for f in findings if f["policy"] == "anyscale-iam-identity")
    assert "'5e7a9c1b-3d5f-4b7d-9f1a-3c5e7a9b1d26', not the client ID of an identity declared for " \
           "region swedencentral" in message


def test_arc_member_without_inventory_fails_with_a_clear_error(hybrid: Path, crds_dir: Path):
    text = hybrid.read_text()
    start = text.index("    inventory:\n")
    end = text.index("    valuesFiles: [values/regions/amsdc1.yaml]")
    hybrid.write_text(text[:start] + text[end:])
    code, findings = _validate(hybrid, crds_dir)
    assert code == 1
    assert ("arc-gpu-inventory", "amsdc1") in _errors(findings)
    message = next(f["message"] for f in findings if f["policy"] == "arc-gpu-inventory")
    assert message.startswith("Arc member 'amsdc1' declares no GPU inventory")


def test_inventory_counts_in_quota_fit_and_failover(hybrid: Path, crds_dir: Path):
    _edit(hybrid, "{name: a100, vmSize: Standard_NC24ads_A100_v4, count: 12}",
          "{name: a100, vmSize: Standard_NC24ads_A100_v4, count: 5}")
    code, findings = _validate(hybrid, crds_dir)
    assert code == 1
    quota = [f for f in findings if f["policy"] == "gpu-quota-fit"]
    assert [f["region"] for f in quota] == ["amsdc1"]
    assert "exceed the quota of 120" in quota[0]["message"] and "(the declared Arc inventory)" in quota[0]["message"]
    # With 5 nodes nothing is spare on the Arc member, so swedencentral cannot fail over to it (n+1: an error).
    assert ("failover-headroom", "swedencentral") in _errors(findings)


def test_capacity_table_shows_the_inventory():
    from rayfleet.pipeline import validate_fleet
    from rayfleet.report.capacity import capacity_to_dict

    table = validate_fleet(EXAMPLE).capacity
    assert table is not None
    text = json.dumps(capacity_to_dict(table))
    assert "amsdc1" in text and "StandardNCADSA100v4Family" in text


@pytest.mark.parametrize(("old", "new", "needles"), [
    ("version: 1.8.0", "version: 1.7.0",
     ("is version 1.8.0, the fleet file pins 1.7.0", "regions[0].anyscale.version")),
    ("chart: charts/anyscale-operator", "chart: values",
     ("hybrid/values is not a Helm chart", "regions[0].anyscale.chart")),
    ("chart: charts/anyscale-operator", "chart: charts/missing",
     ("charts/missing is not found", "regions[0].anyscale.chart")),
    ("      kind: arc\n", "      kind: arc\n    quota: {regionalVCpus: 10}\n",
     ("an Arc member has no Azure quota", "regions[1].quota")),
    ("      resourceId: /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-arc/providers/"
     "Microsoft.Kubernetes/connectedClusters/rayfleet-ams-dc1\n", "",
     ("'resourceId' is a required property", "regions[1].cluster")),
])
def test_bad_arc_or_anyscale_declarations_exit_2(hybrid: Path, old: str, new: str, needles: tuple[str, ...]):
    text = hybrid.read_text()
    if "quota: {regionalVCpus" in new:  # a quota block belongs to the region, not the cluster
        text = text.replace("    inventory:\n", "    quota: {regionalVCpus: 10}\n    inventory:\n", 1)
    else:
        assert old in text
        text = text.replace(old, new, 1)
    hybrid.write_text(text)
    before = snapshot(hybrid.parent)
    result = run_cli("validate", hybrid)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert snapshot(hybrid.parent) == before
