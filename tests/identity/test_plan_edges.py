"""Identity plan edges the other plan tests do not reach: ServiceAccounts outside the release
namespace, the 120-character credential-name limit, the 20-credential limit per identity and
Bicep symbols that would clash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.identity import (
    CREDENTIAL_NAME_MAX,
    MAX_CREDENTIALS_PER_IDENTITY,
    IdentityPlan,
    PlannedCredential,
    credential_name,
    plan_credentials,
)
from rayfleet.pipeline import render_fleet
from rayfleet.report.identity import az_commands, bicep

ISSUER = "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/aaaaaaaa-0000-4000-8000-000000000001/"
CLIENT_A = "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"
CLIENT_B = "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12"

FLEET = f"""apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {{name: ray, namespace: ray}}
tenantId: 0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01
subscriptionId: 11111111-1111-4111-8111-111111111111
regions:
  - name: eastus2
    location: eastus2
    cluster: {{name: c1, resourceGroup: rg-c1, kubernetesVersion: "1.33", oidcIssuerUrl: "{ISSUER}"}}
    identities:
      - {{name: id-a, clientId: {CLIENT_A}, resourceGroup: rg-ids}}
      - {{name: id_a, clientId: {CLIENT_B}, resourceGroup: rg-ids}}
    valuesFiles: []
    manifests: m
"""


def _sa(name: str, client: str, namespace: str | None = None) -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return (f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}{ns}\n"
            f"  annotations: {{azure.workload.identity/client-id: {client}}}\n---\n")


@pytest.fixture
def plan_and_fleet(tmp_path: Path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "sa.yaml").write_text(
        _sa("jobs", CLIENT_A, "batch-jobs") + _sa("ray", CLIENT_A) + _sa("ray", CLIENT_B, "serve"))
    (tmp_path / "fleet.yaml").write_text(FLEET)
    fleet = load_fleet(tmp_path / "fleet.yaml")
    releases = {name: r.release for name, r in render_fleet(fleet).items()}
    return fleet, plan_credentials(fleet, releases)


def test_a_service_account_keeps_its_own_namespace_in_the_subject(plan_and_fleet):
    fleet, plan = plan_and_fleet
    got = [(c.namespace, c.service_account, c.subject, c.name, c.identity_name) for c in plan.credentials]
    assert got == [
        ("batch-jobs", "jobs", "system:serviceaccount:batch-jobs:jobs", "eastus2-batch-jobs-jobs", "id-a"),
        ("ray", "ray", "system:serviceaccount:ray:ray", "eastus2-ray-ray", "id-a"),  # no namespace: the release's
        ("serve", "ray", "system:serviceaccount:serve:ray", "eastus2-serve-ray", "id_a"),
    ]
    assert all(c.issuer == ISSUER and c.resource_group == "rg-ids" for c in plan.credentials)
    script = az_commands(plan, fleet)
    assert "--subject system:serviceaccount:batch-jobs:jobs" in script
    assert "--subject system:serviceaccount:serve:ray" in script


def test_bicep_symbols_that_would_clash_are_made_unique(plan_and_fleet):
    fleet, plan = plan_and_fleet
    text = bicep(plan, fleet)
    declared = re.findall(r"^resource (\w+) '", text, flags=re.M)
    # id-a and id_a both become identity_id_a; the second gets a suffix instead of a duplicate.
    assert declared[:2] == ["identity_id_a", "identity_id_a_2"]
    assert len(declared) == len(set(declared)) == 5
    assert "name: 'id-a'" in text and "name: 'id_a'" in text
    serve = text[text.index("resource fic_eastus2_serve_ray"):]
    assert "parent: identity_id_a_2" in serve.split("\n}")[0]
    assert "dependsOn: [\n    fic_eastus2_ray_ray\n  ]" in serve


def test_bicep_symbols_for_credentials_with_clashing_names():
    creds = tuple(PlannedCredential(
        region="r1", client_id=CLIENT_A, identity_name="id", resource_id=None, resource_group="rg",
        subscription_id=None, issuer=None, namespace=ns, service_account=sa, name=name)
        for ns, sa, name in (("a", "b-c", "r1-a-b-c"), ("a-b", "c", "r1-a-b-c-x"), ("a.b", "c", "r1_a_b_c")))
    fleet_text = bicep(IdentityPlan(creds, ()), _empty_fleet())
    declared = re.findall(r"^resource (\w+) '", fleet_text, flags=re.M)
    assert declared == ["identity_id", "fic_r1_a_b_c", "fic_r1_a_b_c_x", "fic_r1_a_b_c_2"]
    # one issuer parameter for the region, used by all three
    assert fleet_text.count("param issuer_r1 string") == 1 and fleet_text.count("issuer: issuer_r1") == 3


def _empty_fleet():
    import tempfile
    folder = Path(tempfile.mkdtemp())
    (folder / "m").mkdir()
    (folder / "fleet.yaml").write_text(FLEET)
    return load_fleet(folder / "fleet.yaml")


@pytest.mark.parametrize("length", [CREDENTIAL_NAME_MAX - 1, CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_MAX + 1])
def test_credential_name_limit(length: int):
    sa = "s" * (length - len("r1-ns-"))
    name = credential_name("r1", "ns", sa)
    if length <= CREDENTIAL_NAME_MAX:
        assert name == f"r1-ns-{sa}"  # fits: kept readable
    else:
        assert len(name) == CREDENTIAL_NAME_MAX and re.fullmatch(r"r1-ns-s+-[0-9a-f]{10}", name)
    assert CREDENTIAL_NAME_MAX == 120


def test_credential_name_cleaning():
    assert credential_name("r1", "ns", "a.b") != credential_name("r1", "ns", "a-b")
    assert re.fullmatch(r"r1-ns-a-b-[0-9a-f]{10}", credential_name("r1", "ns", "a.b"))
    long = credential_name("r1", "ns", "x" * 200 + ".y")
    assert len(long) <= CREDENTIAL_NAME_MAX and not long.startswith("-")


@pytest.mark.parametrize("count", [MAX_CREDENTIALS_PER_IDENTITY, MAX_CREDENTIALS_PER_IDENTITY + 1])
def test_over_limit_starts_above_twenty(count: int):
    creds = tuple(PlannedCredential(
        region="r1", client_id=CLIENT_A, identity_name="id", resource_id=None, resource_group="rg",
        subscription_id=None, issuer=ISSUER, namespace="ns", service_account=f"sa{i}", name=f"r1-ns-sa{i}")
        for i in range(count))
    over = IdentityPlan(creds, ()).over_limit()
    assert MAX_CREDENTIALS_PER_IDENTITY == 20
    assert (list(over) == [CLIENT_A.lower()] or list(over) == [CLIENT_A]) is (count > 20)
    assert (over == {}) is (count <= 20)


def test_plan_is_limited_to_the_selected_regions():
    from tests.identity.test_plan import DATA

    fleet = load_fleet(DATA)
    releases = {name: r.release for name, r in render_fleet(fleet).items()}
    assert {c.region for c in plan_credentials(fleet, releases, regions=["westus3"]).credentials} == {"westus3"}
    assert {c.region for c in plan_credentials(fleet, releases).credentials} == {"eastus2", "westus3"}
    assert plan_credentials(fleet, releases, regions=[]).credentials == ()
