"""`rayfleet identity check --live`: the real azure-identity credential, azure-core pipeline and
``rayfleet.azure.arm.ArmClient`` against a fake Entra ID and ARM on 127.0.0.1 (HTTPS, trustme CA).

The example fleet is rendered for real; the fake answers as ARM's managedClusters and
federatedIdentityCredentials APIs do (shapes in ``fake_identity``). TLS trust comes from
``REQUESTS_CA_BUNDLE``, as for any requests client; nothing in the libraries is patched.
"""

from __future__ import annotations

import functools
import json
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.azure.arm import ArmClient
from rayfleet.cli.identity import identity
from rayfleet.commands.identity import check_identity_live, run_identity_check
from rayfleet.errors import LiveCheckError
from rayfleet.fleet import load_fleet
from rayfleet.identity import plan_credentials
from rayfleet.pipeline import render_fleet

from tests.azure.fake_identity import FakeIdentityAzure, make_jwt
from tests.support.https_server import HttpsServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"
TENANT = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
SUB = "6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
CI_CLIENT = "99999999-8888-4777-8666-555555555555"
CI_ISSUER = "https://token.actions.githubusercontent.com"
CI_SUBJECT = "repo:example/platform:environment:prod"
MANAGER = ("aks-ray-manager", "rg-ray-manager", "id-ray-kueue-manager", "7e3f9a2b-6c4d-4e8f-a1b2-c3d4e5f60718",
           "https://centralus.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
           "1e3a5c7d-9f2b-4d6e-8a1c-3e5f7a9b1d54/")  # the MultiKueue manager in examples/fleet.yaml
MANAGER_PRINCIPAL = "2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34"
REGIONS = {  # region: (cluster, group, identity, client ID, issuer) as in examples/fleet.yaml
    "eastus2": ("rayfleet-eus2", "rg-rayfleet-eus2", "id-rayfleet-eus2", "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61",
                "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
                "5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/"),
    "swedencentral": ("rayfleet-sdc", "rg-rayfleet-sdc", "id-rayfleet-sdc", "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12",
                      "https://swedencentral.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
                      "9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32/"),
    "westus3": ("rayfleet-wus3", "rg-rayfleet-wus3", "id-rayfleet-wus3", "c5b7d9e1-2f4a-4b6c-9d8e-0f1a2b3c4d73",
                "https://westus3.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
                "4d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b43/"),
}


STORAGE = {"eastus2": "rayfleeteus2data", "swedencentral": "rayfleetsdcdata", "westus3": "rayfleetwus3data"}
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"


@functools.cache
def example():
    fleet = load_fleet(EXAMPLE)
    return fleet, {name: r.release for name, r in render_fleet(fleet).items()}


@pytest.fixture
def azure(tmp_path, monkeypatch):
    """A correctly wired fleet, and the CI identity rayfleet itself signs in with."""
    with HttpsServer() as server:
        fake = FakeIdentityAzure(server, tenant=TENANT, ci_client=CI_CLIENT, page_size=2)
        for region, (cluster, group, name, client, issuer) in REGIONS.items():
            aks = fake.cluster(SUB, group, cluster, region, issuer)
            uami = fake.identity(SUB, group, name, client)
            for sa in ("ray", "ray-worker"):  # head and workers: one credential each
                uami.add(f"{region}-ray-{sa}", issuer, f"system:serviceaccount:ray:{sa}")
            # the example's dynamic StorageClass: the control-plane identity may create containers
            account = fake.storage_account(SUB, group, STORAGE[region])
            fake.assign(account, aks.principal_id, STORAGE_ACCOUNT_CONTRIBUTOR)
        # the MultiKueue manager: its Kueue controller's credential, and its role on every worker cluster
        cluster, group, name, client, issuer = MANAGER
        fake.cluster(SUB, group, cluster, "centralus", issuer)
        fake.identity(SUB, group, name, client).add("manager-ray-kueue-controller-manager", issuer,
                                                    "system:serviceaccount:ray:kueue-controller-manager")
        role = fake.role_definition(SUB, "rayfleet MultiKueue manager", [
            f"Microsoft.ContainerService/managedClusters/customresources/{v}" for v in ("read", "write", "delete")])
        for cluster, group, *_ in REGIONS.values():
            fake.grant(MANAGER_PRINCIPAL, f"/subscriptions/{SUB}/resourceGroups/{group}/providers/"
                                          f"Microsoft.ContainerService/managedClusters/{cluster}", role)
        ci = fake.identity(SUB, "rg-platform", "id-platform-ci", CI_CLIENT)
        ci.add("github-prod", CI_ISSUER, CI_SUBJECT)
        token = tmp_path / "ci-token"
        token.write_text(_ci_token())
        for key, value in {"AZURE_TOKEN_CREDENTIALS": "WorkloadIdentityCredential", "AZURE_TENANT_ID": TENANT,
                           "AZURE_CLIENT_ID": CI_CLIENT, "AZURE_FEDERATED_TOKEN_FILE": str(token),
                           "AZURE_AUTHORITY_HOST": server.url + "/", "REQUESTS_CA_BUNDLE": server.ca_path}.items():
            monkeypatch.setenv(key, value)
        for key in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"):
            monkeypatch.delenv(key, raising=False)
        fake.token_file = token
        yield fake


def _ci_token(subject: str = CI_SUBJECT) -> str:
    return make_jwt({"iss": CI_ISSUER, "sub": subject, "aud": "api://AzureADTokenExchange", "exp": 4102444800})


def identity_of(fake, region):
    return next(i for i in fake.identities if i.name == REGIONS[region][2])


def cluster_of(fake, region):
    return next(c for c in fake.clusters if c.name == REGIONS[region][0])


def live(fake, regions=None, fleet=None, releases=None):
    loaded, rendered = example()
    fleet = fleet or loaded
    plan = plan_credentials(fleet, releases or rendered)
    with ArmClient.for_fleet(fleet, endpoint=fake.server.url, retries=0) as arm:
        return check_identity_live(fleet, plan, arm, regions=regions)


def by_policy(findings):
    out = {}
    for f in findings:
        out.setdefault(f.policy, []).append(f)
    return out


def cli(fake, *args):
    return CliRunner().invoke(identity, ["check", str(EXAMPLE), "--live", "--arm-endpoint", fake.server.url, *args])


def test_correct_fleet_has_no_findings(azure):
    result = live(azure)
    assert result.findings == []
    assert set(result.clusters) == {*REGIONS, "manager"}
    assert all(c.oidc_enabled and c.workload_identity and c.blob_driver for c in result.clusters.values())
    # the CI identity signed in with its own federated credential, and ARM got its token
    token_posts = [r for r in azure.server.requests if r.method == "POST"]
    assert token_posts and token_posts[0].form()["scope"] == "https://management.azure.com/.default"
    cluster_get = next(r for r in azure.server.requests if "managedClusters" in r.path)
    assert cluster_get.query["api-version"] == ["2024-09-01"]
    assert cluster_get.headers["authorization"].startswith("Bearer ")


def test_correct_fleet_through_the_cli_exits_0(azure):
    outcome = cli(azure, "--report", "json")
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.output)
    assert report["findings"] == []
    assert {c["name"] for c in report["data"]["identityPlan"]["credentials"]} == {
        f"{r}-ray-{sa}" for r in REGIONS for sa in ("ray", "ray-worker")} | {"manager-ray-kueue-controller-manager"}
    assert len(report["data"]["identityPlan"]["roleAssignments"]) == 3
    assert report["data"]["clusters"]["eastus2"]["issuer"] == REGIONS["eastus2"][4]


def test_missing_credential(azure):
    identity_of(azure, "swedencentral").credentials.clear()
    findings = live(azure).findings
    # head and workers each lack their credential
    assert [f.policy for f in findings] == ["federated-credential-missing"] * 2
    assert [str(f.obj) for f in findings] == ["ServiceAccount/ray/ray", "ServiceAccount/ray/ray-worker"]
    finding = findings[0]
    assert finding.region == "swedencentral"
    assert REGIONS["swedencentral"][4] in finding.message and "system:serviceaccount:ray:ray" in finding.message
    assert finding.source.file.endswith("fleet.yaml") and finding.source.line
    outcome = cli(azure)
    assert outcome.exit_code == 1
    assert "federated-credential-missing" in outcome.output


def test_wrong_issuer_without_trailing_slash(azure):
    issuer = REGIONS["eastus2"][4]
    identity_of(azure, "eastus2").add("eastus2-ray-ray", issuer.rstrip("/"), "system:serviceaccount:ray:ray")
    findings = live(azure).findings
    assert [f.policy for f in findings] == ["federated-credential-mismatch"]
    assert "(trailing slash)" in findings[0].message
    assert findings[0].region == "eastus2"


def test_issuer_of_another_cluster_and_wrong_subject(azure):
    identity_of(azure, "westus3").credentials.pop("westus3-ray-ray")
    identity_of(azure, "westus3").add("westus3-ray-ray", REGIONS["eastus2"][4], "system:serviceaccount:ray:ray-old")
    (finding,) = live(azure).findings
    assert finding.policy == "federated-credential-mismatch"
    assert "issuer" in finding.message and "subject 'system:serviceaccount:ray:ray-old'" in finding.message
    # no credential carries the exact (issuer, subject) pair: Entra ID finds no matching record
    assert finding.message.endswith("fails with AADSTS70021")


def test_wrong_audience(azure):
    identity_of(azure, "eastus2").add("eastus2-ray-ray", REGIONS["eastus2"][4], "system:serviceaccount:ray:ray",
                                      ["api://AKSIdentityBinding"])
    (finding,) = live(azure).findings
    assert finding.policy == "federated-credential-mismatch" and "AADSTS700212" in finding.message
    # the (issuer, subject) pair is exact: only the audience is refused
    assert finding.message.endswith("fails with AADSTS700212")


def test_stale_credentials_across_pages(azure):
    identity = identity_of(azure, "eastus2")
    identity.add("old-cluster", "https://eastus2.oic.prod-aks.azure.com/x/old/", "system:serviceaccount:ray:ray")
    identity.add("renamed-sa", REGIONS["eastus2"][4], "system:serviceaccount:ray:ray-head")
    findings = by_policy(live(azure).findings)
    assert set(findings) == {"federated-credential-stale"}
    stale = {f.obj.name: f for f in findings["federated-credential-stale"]}
    assert set(stale) == {"old-cluster", "renamed-sa"}  # 4 credentials, page size 2: the second page was read
    assert "no cluster of this fleet" in stale["old-cluster"].message
    assert "region eastus2's cluster" in stale["renamed-sa"].message
    assert all(f.severity.value == "warning" for f in stale.values())
    pages = [r for r in azure.server.requests if r.path.endswith("/id-rayfleet-eus2/federatedIdentityCredentials")]
    assert len(pages) == 2 and pages[1].query["$skipToken"] == ["2"]


def test_stale_is_limited_to_the_selected_regions_issuers(azure):
    identity_of(azure, "eastus2").add("old-cluster", "https://other/", "system:serviceaccount:ray:ray")
    assert live(azure, regions=["eastus2"]).findings == []
    assert [f.policy for f in live(azure).findings] == ["federated-credential-stale"]


def test_disabled_oidc_issuer(azure):
    cluster_of(azure, "westus3").oidc_enabled = False
    findings = live(azure).findings
    assert [f.policy for f in findings] == ["aks-oidc-issuer"]
    assert "disabled" in findings[0].message and findings[0].region == "westus3"
    assert findings[0].path == "properties.oidcIssuerProfile.enabled"
    assert str(findings[0].obj) == "ManagedCluster/rayfleet-wus3"


def test_cluster_issuer_differs_from_the_fleet_file(azure):
    cluster_of(azure, "eastus2").issuer = "https://eastus2.oic.prod-aks.azure.com/tenant/recreated/"
    (finding,) = live(azure).findings
    assert finding.policy == "aks-oidc-issuer" and "recreated" in finding.message


def test_workload_identity_and_blob_driver_disabled(azure):
    cluster_of(azure, "swedencentral").workload_identity = False
    cluster_of(azure, "swedencentral").blob_driver = False
    assert sorted(f.policy for f in live(azure).findings) == ["aks-blob-csi-driver", "aks-workload-identity"]


def test_waivers_suppress_live_findings(azure, tmp_path):
    target = tmp_path / "fleet"
    shutil.copytree(REPO / "examples", target)
    text = (target / "fleet.yaml").read_text().replace("chart: ../charts/ray-aks",
                                                       f"chart: {REPO / 'charts' / 'ray-aks'}")
    text += ("  - policy: federated-credential-stale\n"
             "    scope: {region: eastus2, kind: FederatedIdentityCredential, name: anyscale-operator}\n"
             "    reason: The Anyscale operator shares this identity in eastus2.\n"
             "    owner: platform-team@example.com\n"
             "    expires: \"2099-01-01\"\n")
    (target / "fleet.yaml").write_text(text)
    identity_of(azure, "eastus2").add("anyscale-operator", REGIONS["eastus2"][4],
                                      "system:serviceaccount:anyscale:anyscale-operator")
    fleet = load_fleet(target / "fleet.yaml")
    releases = {n: r.release for n, r in render_fleet(fleet).items()}
    with ArmClient.for_fleet(fleet, endpoint=azure.server.url, retries=0) as arm:
        result = run_identity_check(fleet, releases, arm=arm)
    (finding,) = result.findings  # the example fleet's other waiver is not called unmatched
    assert finding.policy == "federated-credential-stale" and finding.suppressed is not None
    assert result.exit_code(finding.severity) == 0


def test_identity_missing_from_the_fleet_file_is_found_by_client_id(azure, tmp_path):
    target = tmp_path / "fleet"
    shutil.copytree(REPO / "examples", target)
    text = (target / "fleet.yaml").read_text().replace("chart: ../charts/ray-aks",
                                                       f"chart: {REPO / 'charts' / 'ray-aks'}")
    text = text.replace("      - name: id-rayfleet-sdc\n        clientId: 8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12\n"
                        "        resourceGroup: rg-rayfleet-sdc\n", "      []\n").replace("identities:\n      []",
                                                                                       "identities: []")
    (target / "fleet.yaml").write_text(text)
    fleet = load_fleet(target / "fleet.yaml")
    assert fleet.region("swedencentral").identities == ()
    releases = {n: r.release for n, r in render_fleet(fleet).items()}
    plan = plan_credentials(fleet, releases)
    with ArmClient.for_fleet(fleet, endpoint=azure.server.url, retries=0) as arm:
        result = check_identity_live(fleet, plan, arm)
    assert result.findings == []
    assert any("found as rg-rayfleet-sdc/id-rayfleet-sdc" in n for n in result.notes)


def test_token_exchange_refused_with_aadsts70021_exits_2(azure):
    azure.token_file.write_text(_ci_token("repo:example/platform:ref:refs/heads/feature"))
    with pytest.raises(LiveCheckError) as caught:
        live(azure)
    message = str(caught.value)
    assert message.startswith("region eastus2: cannot get a token for https://management.azure.com/.default")
    assert "AADSTS70021" in message
    outcome = cli(azure)
    assert outcome.exit_code == 2
    assert "region eastus2" in outcome.output and "AADSTS70021" in outcome.output
    assert "Traceback" not in outcome.output


def test_unreachable_arm_endpoint_exits_2(azure):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fleet, releases = example()
    plan = plan_credentials(fleet, releases)
    with pytest.raises(LiveCheckError) as caught, \
            ArmClient.for_fleet(fleet, endpoint=f"https://127.0.0.1:{port}", retries=0) as arm:
        check_identity_live(fleet, plan, arm)
    assert str(caught.value).startswith("region eastus2: cannot reach https://127.0.0.1:")


def test_permission_denied_names_the_region_and_the_role(azure):
    azure.arm.subscriptions[SUB].readers.clear()
    with pytest.raises(LiveCheckError) as caught:
        live(azure)
    message = str(caught.value)
    assert message.startswith("region eastus2: permission denied: needs Reader on AKS cluster "
                              "rg-rayfleet-eus2/rayfleet-eus2")
    assert "AuthorizationFailed" in message


def test_throttling_is_retried(azure):
    azure.arm.throttle = 1
    azure.arm.retry_after = "0"
    fleet, releases = example()
    with ArmClient(azure.server.url, audience=fleet.arm_endpoint, retries=2, backoff=0) as arm:
        assert check_identity_live(fleet, plan_credentials(fleet, releases), arm).findings == []
    assert len([r for r in azure.arm.calls if "managedClusters/rayfleet-eus2" in r.path]) == 2  # 429, then 200


def test_cluster_not_found(azure):
    azure.clusters.remove(cluster_of(azure, "westus3"))
    with pytest.raises(LiveCheckError) as caught:
        live(azure)
    message = str(caught.value)
    assert message.startswith("region westus3: not found") and "rayfleet-wus3" in message


def test_without_live_only_the_limit_is_checked():
    outcome = CliRunner().invoke(identity, ["check", str(EXAMPLE)])
    assert outcome.exit_code == 0, outcome.output
    assert "live checks skipped" in outcome.output
