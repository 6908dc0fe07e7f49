"""`rayfleet identity probe`: the real azure-identity and HTTP clients against a fake Entra ID and
Blob endpoint on 127.0.0.1 (HTTPS, trustme CA)."""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest
from rayfleet.azure.probe import blob_list_url, decode_jwt_claims, explain_entra_error, run_probe

from tests.azure.fake_identity import FakeIdentityAzure, make_jwt, sa_token
from tests.support.https_server import HttpsServer

TENANT = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
CLIENT = "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"
ISSUER = "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/11111111-2222-3333-4444-555555555555/"
SUB = "00000000-0000-0000-0000-00000000aaaa"


@pytest.fixture
def azure():
    with HttpsServer() as server:
        fake = FakeIdentityAzure(server, tenant=TENANT)
        identity = fake.identity(SUB, "rg-ray", "id-ray-eus2", CLIENT)
        identity.add("eastus2-ray-ray", ISSUER, "system:serviceaccount:ray:ray")
        fake.blob_containers["ray-data"] = ["checkpoints/epoch-1.pt", "data/part-0000.parquet"]
        fake.blob_readers.add(CLIENT)
        yield fake


def pod_env(azure, token_file, **overrides):
    env = {"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
           "AZURE_AUTHORITY_HOST": azure.authority + "/"}
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "azure-identity-token"
    path.write_text(sa_token(ISSUER, "ray", "ray"))
    return path


def probe(azure, env, **kwargs):
    kwargs.setdefault("retries", 0)
    return run_probe(env, connection_verify=azure.server.ca_path, **kwargs)


def statuses(result):
    return {s.name: s.status for s in result.steps}


def test_every_step_passes_with_a_matching_federated_credential(azure, token_file):
    result = probe(azure, pod_env(azure, token_file), account="rayfleeteus2data", container="ray-data",
                   blob_endpoint=azure.server.url)
    assert statuses(result) == {"environment": "ok", "token file": "ok", "token exchange": "ok", "blob list": "ok"}
    assert result.ok and result.exit_code == 0
    assert result.claims["iss"] == ISSUER and result.claims["sub"] == "system:serviceaccount:ray:ray"
    assert result.claims["aud"] == ["api://AzureADTokenExchange"]
    assert "listed 1 blob(s)" in result.steps[3].detail  # maxresults=1
    token_request = next(r for r in azure.server.requests if r.method == "POST")
    assert token_request.path == f"/{TENANT}/oauth2/v2.0/token"
    assert token_request.form()["scope"] == "https://storage.azure.com/.default"
    blob_request = next(r for r in azure.server.requests if r.path == "/ray-data")
    assert blob_request.query == {"restype": ["container"], "comp": ["list"], "maxresults": ["1"]}
    assert blob_request.headers["x-ms-version"]
    assert blob_request.headers["authorization"].startswith("Bearer ey")


def test_blob_list_is_skipped_when_not_requested(azure, token_file):
    result = probe(azure, pod_env(azure, token_file))
    assert statuses(result)["blob list"] == "skip"
    assert result.ok


def test_aadsts70021_names_the_token_subject_and_issuer(azure, tmp_path):
    token = tmp_path / "token"
    token.write_text(sa_token(ISSUER, "ray", "ray-worker"))  # no credential for this subject
    result = probe(azure, pod_env(azure, token), account="a", container="ray-data", blob_endpoint=azure.server.url)
    assert statuses(result) == {"environment": "ok", "token file": "ok", "token exchange": "fail",
                                "blob list": "skip"}
    step = result.steps[2]
    assert "AADSTS70021" in step.detail
    assert "system:serviceaccount:ray:ray-worker" in step.cause and ISSUER in step.cause
    assert "issuer or subject" in step.cause
    assert result.exit_code == 1


def test_issuer_without_trailing_slash_is_a_mismatch(azure, tmp_path):
    token = tmp_path / "token"
    token.write_text(sa_token(ISSUER.rstrip("/"), "ray", "ray"))
    result = probe(azure, pod_env(azure, token))
    assert statuses(result)["token exchange"] == "fail"
    assert ISSUER.rstrip("/") + "'" in result.steps[2].cause


def test_audience_mismatch_is_named(azure, tmp_path):
    identity = azure.identities[0]
    identity.add("eastus2-ray-ray", ISSUER, "system:serviceaccount:ray:ray", ["api://AKSIdentityBinding"])
    token = tmp_path / "token"
    token.write_text(sa_token(ISSUER, "ray", "ray"))
    result = probe(azure, pod_env(azure, token))
    step = result.steps[2]
    assert step.status == "fail" and "AADSTS700212" in step.detail
    assert step.cause.startswith("audience mismatch")


def test_token_audience_other_than_token_exchange_fails_the_token_file_step(azure, tmp_path):
    token = tmp_path / "token"
    token.write_text(sa_token(ISSUER, "ray", "ray", audience="api://AKSIdentityBinding"))
    result = probe(azure, pod_env(azure, token))
    assert statuses(result) == {"environment": "ok", "token file": "fail", "token exchange": "skip"}
    assert "AADSTS700212" in result.steps[1].cause


def test_issuer_unreachable_aadsts90061(azure, token_file):
    azure.forced_error = (90061, "Request to External OIDC endpoint failed.")
    result = probe(azure, pod_env(azure, token_file))
    step = result.steps[2]
    assert step.status == "fail" and "AADSTS90061" in step.detail
    assert "OIDC" in step.cause and ISSUER in step.cause


def test_unreachable_authority_host(token_file):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
           "AZURE_AUTHORITY_HOST": f"https://127.0.0.1:{port}/"}
    result = run_probe(env, retries=0, timeout=5)
    step = result.steps[2]
    assert step.status == "fail"
    assert f"127.0.0.1:{port}" in step.cause and "cannot reach" in step.cause


def test_unreachable_blob_endpoint(azure, token_file):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe(azure, pod_env(azure, token_file), account="a", container="ray-data",
                   blob_endpoint=f"https://127.0.0.1:{port}")
    assert statuses(result)["blob list"] == "fail"
    assert "cannot reach the storage account" in result.steps[3].cause


def test_missing_data_role_is_named(azure, token_file):
    azure.blob_readers.clear()
    result = probe(azure, pod_env(azure, token_file), account="a", container="ray-data",
                   blob_endpoint=azure.server.url)
    step = result.steps[3]
    assert step.status == "fail" and "403 AuthorizationPermissionMismatch" in step.detail
    assert "Storage Blob Data" in step.cause


def test_missing_container(azure, token_file):
    result = probe(azure, pod_env(azure, token_file), account="a", container="nope-data",
                   blob_endpoint=azure.server.url)
    assert "ContainerNotFound" in result.steps[3].detail


def test_missing_environment_points_at_the_pod_label(azure, tmp_path):
    result = run_probe({}, retries=0)
    assert statuses(result) == {"environment": "fail", "token file": "skip", "token exchange": "skip"}
    assert 'azure.workload.identity/use: "true"' in result.steps[0].cause
    assert azure.server.requests == []


def test_missing_client_id_points_at_the_service_account_annotation(azure, token_file):
    result = probe(azure, pod_env(azure, token_file, AZURE_CLIENT_ID=None))
    assert "azure.workload.identity/client-id annotation" in result.steps[0].cause
    assert result.steps[0].detail.startswith("missing AZURE_CLIENT_ID")


def test_missing_token_file(azure, tmp_path):
    result = probe(azure, pod_env(azure, tmp_path / "absent"))
    assert statuses(result)["token file"] == "fail"
    assert "not mounted" in result.steps[1].cause


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_token_file(azure, token_file):
    token_file.chmod(0)
    result = probe(azure, pod_env(azure, token_file))
    assert "fsGroup" in result.steps[1].cause
    token_file.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_token_file_that_is_not_a_jwt(azure, tmp_path):
    token = tmp_path / "token"
    token.write_text("not-a-token")
    result = probe(azure, pod_env(azure, token))
    assert "not a JWT" in result.steps[1].detail


def test_expired_token(azure, tmp_path):
    token = tmp_path / "token"
    token.write_text(sa_token(ISSUER, "ray", "ray", ttl=-60))
    result = probe(azure, pod_env(azure, token))
    assert "expired" in result.steps[1].detail


def test_decode_jwt_claims_does_not_verify():
    assert decode_jwt_claims(make_jwt({"iss": "x", "sub": "y"})) == {"iss": "x", "sub": "y"}
    with pytest.raises(ValueError, match="not a JWT"):
        decode_jwt_claims("a.b")


@pytest.mark.parametrize(("code", "expected"), [
    ("AADSTS70021", "issuer or subject"), ("AADSTS700211", "token's issuer"),
    ("AADSTS700213", "token's subject"), ("AADSTS700212", "audience mismatch"),
    ("AADSTS90061", "OIDC discovery"), ("AADSTS50005", "Conditional Access"),
])
def test_aadsts_codes_are_matched_exactly(code, expected):
    assert expected in explain_entra_error(f"Microsoft Entra ID error '(invalid_request) {code}: x'",
                                           {"iss": "i", "sub": "s", "aud": ["a"]})


def test_blob_url_follows_the_cloud():
    assert blob_list_url("acct", "c") == "https://acct.blob.core.windows.net/c?restype=container&comp=list&maxresults=1"
    assert blob_list_url("acct", "c", authority="https://login.microsoftonline.us/").startswith(
        "https://acct.blob.core.usgovcloudapi.net/c?")
    assert blob_list_url("acct", "c", blob_endpoint="https://127.0.0.1:9/").startswith("https://127.0.0.1:9/c?")


def test_cli_probe_reads_the_pod_environment(azure, token_file):
    from click.testing import CliRunner
    from rayfleet.cli.identity import identity

    env = {**pod_env(azure, token_file), "REQUESTS_CA_BUNDLE": azure.server.ca_path}
    args = ["probe", "--account", "rayfleeteus2data", "--container", "ray-data", "--blob-endpoint", azure.server.url]
    outcome = CliRunner(env=env).invoke(identity, args)
    assert outcome.exit_code == 0, outcome.output
    assert "[ok]   token file" in outcome.output and "sub=system:serviceaccount:ray:ray" in outcome.output
    assert outcome.output.rstrip().endswith("probe passed: workload identity works")

    token_file.write_text(sa_token(ISSUER, "ray", "ray-worker"))
    outcome = CliRunner(env=env).invoke(identity, [*args, "--format", "json"])
    assert outcome.exit_code == 1
    report = json.loads(outcome.output)
    assert report["ok"] is False and report["claims"]["sub"] == "system:serviceaccount:ray:ray-worker"
    assert [s["status"] for s in report["steps"]] == ["ok", "ok", "fail", "skip"]


def test_cli_probe_usage_errors_exit_2():
    from click.testing import CliRunner
    from rayfleet.cli.identity import identity

    outcome = CliRunner().invoke(identity, ["probe", "--account", "acct"])
    assert outcome.exit_code == 2 and "--account needs --container" in outcome.output
    assert CliRunner().invoke(identity, ["probe", "--nope"]).exit_code == 2
