"""Arc members live: the connectedCluster's OIDC issuer read from ARM and used for the federated credentials,
and preflight of what AKS would have provided. The real azure-identity / kubernetes clients against fakes on
127.0.0.1 (``tests.azure.fake_identity``, ``tests.kube.fake_kube``)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from rayfleet.azure.arm import ArmClient
from rayfleet.commands.identity import check_identity_live, run_identity_check
from rayfleet.commands.preflight import preflight_region
from rayfleet.fleet import load_fleet
from rayfleet.identity import plan_credentials
from rayfleet.pipeline import render_fleet

from tests.azure.fake_identity import FakeIdentityAzure, make_jwt
from tests.kube.fake_kube import GPU_TAINT, FakeCluster, aks_node, other_webhook, write_kubeconfig
from tests.support.https_server import HttpsServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hybrid" / "fleet.yaml"
TENANT = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
SUB = "6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
CI_CLIENT = "99999999-8888-4777-8666-555555555555"
CI_ISSUER = "https://token.actions.githubusercontent.com"
AKS_ISSUER = ("https://swedencentral.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
              "9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32/")
ARC_ISSUER = ("https://oidcdiscovery-westeurope-endpoint.azurefd.net/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
              "6c8e0a2b-4d6f-4a8c-9e0b-2d4f6a8c0e15/")
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
OPERATOR_SUBJECT = "system:serviceaccount:anyscale:anyscale-operator"


@functools.cache
def hybrid():
    fleet = load_fleet(EXAMPLE)
    return fleet, {name: r.release for name, r in render_fleet(fleet).items()}


@pytest.fixture
def azure(tmp_path, monkeypatch):
    """The hybrid example wired right: the AKS region, the Arc member, their identities and credentials."""
    with HttpsServer() as server:
        fake = FakeIdentityAzure(server, tenant=TENANT, ci_client=CI_CLIENT, page_size=2)
        aks = fake.cluster(SUB, "rg-rayfleet-sdc", "rayfleet-sdc", "swedencentral", AKS_ISSUER)
        ray = fake.identity(SUB, "rg-rayfleet-sdc", "id-rayfleet-sdc", "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12")
        operator = fake.identity(SUB, "rg-rayfleet-sdc", "id-anyscale-operator-sdc",
                                 "2b4d6f80-9a1c-4e3b-8d5f-7a9c1e3b5d70")
        for sa in ("ray", "ray-worker"):
            ray.add(f"swedencentral-ray-{sa}", AKS_ISSUER, f"system:serviceaccount:ray:{sa}")
        operator.add("swedencentral-anyscale-operator", AKS_ISSUER, OPERATOR_SUBJECT)
        fake.assign(fake.storage_account(SUB, "rg-rayfleet-sdc", "rayfleetsdcdata"), aks.principal_id,
                    STORAGE_ACCOUNT_CONTRIBUTOR)
        fake.connected_cluster(SUB, "rg-rayfleet-arc", "rayfleet-ams-dc1", "westeurope", ARC_ISSUER)
        arc = fake.identity(SUB, "rg-rayfleet-arc", "id-rayfleet-ams", "5e7a9c1b-3d5f-4b7d-9f1a-3c5e7a9b1d26")
        for sa in ("ray", "ray-worker"):
            arc.add(f"amsdc1-ray-{sa}", ARC_ISSUER, f"system:serviceaccount:ray:{sa}")
        fake.storage_account(SUB, "rg-rayfleet-arc", "rayfleetamsdata")
        token = tmp_path / "ci-token"
        token.write_text(make_jwt({"iss": CI_ISSUER, "sub": "repo:example/platform:environment:prod",
                                   "aud": "api://AzureADTokenExchange", "exp": 4102444800}))
        ci = fake.identity(SUB, "rg-platform", "id-platform-ci", CI_CLIENT)
        ci.add("github-prod", CI_ISSUER, "repo:example/platform:environment:prod")
        for key, value in {"AZURE_TOKEN_CREDENTIALS": "WorkloadIdentityCredential", "AZURE_TENANT_ID": TENANT,
                           "AZURE_CLIENT_ID": CI_CLIENT, "AZURE_FEDERATED_TOKEN_FILE": str(token),
                           "AZURE_AUTHORITY_HOST": server.url + "/", "REQUESTS_CA_BUNDLE": server.ca_path}.items():
            monkeypatch.setenv(key, value)
        for key in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"):
            monkeypatch.delenv(key, raising=False)
        yield fake


def _live(fake, fleet=None):
    loaded, releases = hybrid()
    fleet = fleet or loaded
    with ArmClient.for_fleet(fleet, endpoint=fake.server.url, retries=0) as arm:
        return check_identity_live(fleet, plan_credentials(fleet, releases), arm)


def _without_arc_issuer(tmp_path: Path):
    """The hybrid fleet file with the Arc member's oidcIssuerUrl removed (paths kept absolute)."""
    text = EXAMPLE.read_text()
    line = f"      oidcIssuerUrl: {ARC_ISSUER}\n"
    assert line in text
    text = text.replace(line, "").replace("chart: ../../charts/ray-aks", f"chart: {REPO / 'charts' / 'ray-aks'}")
    text = text.replace("../values/platform.yaml", str(REPO / "examples" / "values" / "platform.yaml"))
    for rel in ("values/regions/swedencentral.yaml", "values/regions/amsdc1.yaml", "charts/anyscale-operator",
                "values/anyscale/swedencentral.yaml"):
        text = text.replace(rel, str(EXAMPLE.parent / rel))
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return load_fleet(path)


def test_correct_hybrid_fleet_has_no_live_findings(azure):
    result = _live(azure)
    assert result.findings == []
    assert result.clusters["amsdc1"].issuer == ARC_ISSUER and result.clusters["amsdc1"].workload_identity
    get = next(r for r in azure.server.requests if "connectedClusters" in r.path)
    assert get.query["api-version"] == ["2024-07-15-preview"]
    assert get.path.endswith("/resourceGroups/rg-rayfleet-arc/providers/Microsoft.Kubernetes/connectedClusters/"
                             "rayfleet-ams-dc1")
    assert not any("managedClusters/rayfleet-ams-dc1" in r.path for r in azure.server.requests)


def test_arc_issuer_disabled(azure):
    azure.connected_clusters[0].oidc_enabled = False
    findings = _live(azure).findings
    assert [(f.policy, f.region, f.severity.value) for f in findings] == [("arc-oidc-issuer", "amsdc1", "error")]
    assert "Arc-enabled cluster /subscriptions/" in findings[0].message and "disabled" in findings[0].message


def test_arc_issuer_differs_from_the_fleet_file(azure):
    azure.connected_clusters[0].issuer = ARC_ISSUER.replace("6c8e0a2b", "deadbeef")
    findings = _live(azure).findings
    assert [(f.policy, f.region) for f in findings] == [("arc-oidc-issuer", "amsdc1")]
    assert findings[0].obj.kind == "ConnectedCluster"


def test_issuer_read_live_is_used_for_the_credentials(azure, tmp_path):
    """No oidcIssuerUrl in the fleet file: the Arc member's issuer comes from ARM (self-hosted here), its
    credentials are checked against it and the plan in the report carries it."""
    azure.connected_clusters[0].self_hosted = True
    fleet = _without_arc_issuer(tmp_path)
    _, releases = hybrid()
    with ArmClient.for_fleet(fleet, endpoint=azure.server.url, retries=0) as arm:
        result = run_identity_check(fleet, releases, arm=arm)
    assert [(f.policy, f.region, f.severity.value) for f in result.findings] == [
        ("arc-oidc-issuer", "amsdc1", "warning")]
    assert result.identity_plan is not None
    planned = [c for c in result.identity_plan.credentials if c.region == "amsdc1"]
    assert planned and {c.issuer for c in planned} == {ARC_ISSUER}
    # and a wrong live credential on the Arc identity is found against the live issuer
    next(i for i in azure.identities if i.name == "id-rayfleet-ams").credentials.pop("amsdc1-ray-ray-worker")
    with ArmClient.for_fleet(fleet, endpoint=azure.server.url, retries=0) as arm:
        result = run_identity_check(fleet, releases, arm=arm)
    missing = [f for f in result.findings if f.policy == "federated-credential-missing"]
    assert [f.region for f in missing] == ["amsdc1"] and "system:serviceaccount:ray:ray-worker" in missing[0].message


def test_missing_operator_credential_is_found(azure):
    next(i for i in azure.identities if i.name == "id-anyscale-operator-sdc").credentials.clear()
    findings = _live(azure).findings
    assert [(f.policy, f.region) for f in findings] == [("federated-credential-missing", "swedencentral")]
    assert OPERATOR_SUBJECT in findings[0].message


# --- preflight: what AKS would have provided ------------------------------------------------------


def _arc_nodes() -> list[dict]:
    return [aks_node("dc1-cpu-0", "cpu", "Standard_D16ds_v5", region="westeurope"),
            aks_node("dc1-a100-0", "a100", "Standard_NC24ads_A100_v4", gpus=1, taints=[GPU_TAINT],
                     region="westeurope")]


@pytest.fixture
def arc_cluster(tmp_path):
    with HttpsServer() as server:
        cluster = FakeCluster(prefix="/amsdc1", git_version="v1.32.4", nodes=_arc_nodes()).serve(server)
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig",
                                      {"rayfleet-ams-dc1": (f"{server.url}/amsdc1", server.ca_path)})
        yield cluster, kubeconfig


def _preflight(arc_cluster):
    fleet, releases = hybrid()
    _, kubeconfig = arc_cluster
    return preflight_region(fleet.region("amsdc1"), fleet=fleet, release=releases["amsdc1"], kubeconfig=kubeconfig)


def test_arc_cluster_with_the_pieces_installed_passes_preflight(arc_cluster):
    assert [(f.policy, f.message) for f in _preflight(arc_cluster)] == []


def test_bare_arc_cluster_fails_preflight_for_what_aks_would_provide(arc_cluster):
    cluster, _ = arc_cluster
    cluster.csi_driver = None  # no Blob CSI driver
    cluster.webhooks = [other_webhook("cert-manager-webhook")]  # no workload identity webhook
    cluster.daemon_sets = [d for d in cluster.daemon_sets if "nvidia" not in d["metadata"]["name"]]
    found = {f.policy: f for f in _preflight(arc_cluster)}
    assert {"preflight-blob-csi-token", "preflight-workload-identity-webhook",
            "preflight-gpu-device-plugin"} <= set(found)
    # AKS installs the device plugin on its GPU pools (a warning there); on an Arc cluster nothing will.
    plugin = found["preflight-gpu-device-plugin"]
    assert plugin.severity.value == "error" and "Arc-enabled cluster" in plugin.message
