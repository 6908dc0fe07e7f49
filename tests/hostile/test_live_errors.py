"""Live commands against faulty servers, with the real azure-identity and kubernetes clients and the
loopback fakes: a hanging token endpoint, azure-identity's own log lines, a 404 where the node
list should be, a silent watch (issue #12, items 11-13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.errors import LiveCheckError
from rayfleet.kube.client import KubeApi
from rayfleet.kube.readiness import wait_for_raycluster

from tests.azure.fake_azure import FakeAzure, entra_error, workload_identity_env
from tests.azure.fake_identity import FakeIdentityAzure, sa_token
from tests.azure.test_probe import CLIENT, ISSUER, SUB, TENANT, pod_env
from tests.azure.test_quota_live import SUB as QUOTA_SUB
from tests.azure.test_quota_live import fleet_file
from tests.kube.conftest import REPO
from tests.kube.fake_kube import raycluster
from tests.support.https_server import HttpsServer

FLEET = str(REPO / "examples" / "fleet.yaml")


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


# --- item 11: a token endpoint that never answers ---------------------------------------------

def test_identity_probe_with_a_hanging_token_endpoint_is_one_line(tmp_path: Path):
    with HttpsServer() as server:
        azure = FakeIdentityAzure(server, tenant=TENANT)
        azure.identity(SUB, "rg-ray", "id-ray-eus2", CLIENT).add("x", ISSUER, "system:serviceaccount:ray:ray")
        azure.entra.stall = 30
        token = tmp_path / "token"
        token.write_text(sa_token(ISSUER, "ray", "ray"))
        env = {**pod_env(azure, token), "REQUESTS_CA_BUNDLE": server.ca_path}
        started = time.monotonic()
        result = CliRunner(env=env).invoke(main, ["identity", "probe", "--timeout", "1"])
        elapsed = time.monotonic() - started
    line = _one_error_line(result)
    assert "token exchange" in line and "no answer within 1 s" in line
    assert elapsed < 10  # 1 s per attempt and azure-identity's few retries, never the 30 s stall


# --- item 12: azure-identity's own logging ------------------------------------------------------

@pytest.fixture
def refusing_azure(monkeypatch, tmp_path):
    with HttpsServer() as server:
        fake = FakeAzure(server)
        fake.arm.subscription(QUOTA_SUB)
        workload_identity_env(monkeypatch, fake, tmp_path)
        fake.entra.fail_with = entra_error(
            401, "invalid_client", 70021, "No matching federated identity record found for presented assertion. "
            "Assertion Issuer: 'https://oidc.example/issuer/'. Assertion Subject: 'system:serviceaccount:ci:rayfleet'.")
        yield fake


def test_live_errors_are_one_line_without_verbose(refusing_azure, tmp_path: Path):
    # a real process: pytest's own log handlers would hide what Python's last-resort handler prints
    args = ["quota", str(fleet_file(tmp_path)), "--live", "--arm-endpoint", refusing_azure.url]
    done = subprocess.run([sys.executable, "-c", "from rayfleet.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), done.stderr
    assert "AADSTS70021" in lines[0] and done.stdout == ""


def test_verbose_shows_the_client_libraries_detail(refusing_azure, tmp_path: Path):
    args = ["--verbose", "quota", str(fleet_file(tmp_path)), "--live", "--arm-endpoint", refusing_azure.url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) > 1 and lines[-1].startswith("rayfleet: error: ")
    assert any(line.startswith("azure.identity") for line in lines[:-1]), lines
    # and the next run in the same process is quiet again
    result = CliRunner().invoke(main, args[1:])
    assert len(result.stderr.strip().splitlines()) == 1


# --- item 13: Kubernetes --------------------------------------------------------------------------

def test_a_404_on_the_node_list_is_cluster_unreadable(fake_aks):
    fake_aks.clusters["eastus2"].nodes = None
    result = CliRunner().invoke(main, ["preflight", FLEET, "--region", "eastus2", "--kubeconfig",
                                       str(fake_aks.kubeconfig)])
    line = _one_error_line(result)
    assert "region eastus2" in line and "cluster unreadable" in line and "404" in line and "nodes" in line


def test_a_silent_watch_ends_at_the_deadline_as_a_readiness_timeout(fake_aks, example):
    name = "ray-ray-cluster"
    fake_aks.cluster.set_raycluster(raycluster(name, head_ready="False", provisioned="False"))
    fake_aks.cluster.watch_delay = 60  # the server accepts the watch and never answers
    started = time.monotonic()
    with KubeApi.connect(example.region("eastus2"), fake_aks.kubeconfig) as api:
        readiness = wait_for_raycluster(api, "ray", name, timeout=2.0, poll_interval=0.05)
    elapsed = time.monotonic() - started
    assert not readiness.ready and readiness.reason.startswith("not ready after 2s")
    assert elapsed < 2.0 + 4.0, elapsed  # the watch's grace, not 30 s of read timeout retried


def test_a_dropped_cluster_during_the_watch_is_still_unreachable(tmp_path, example):
    import socket

    from tests.kube.fake_kube import write_kubeconfig

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with HttpsServer() as server:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"rayfleet-eus2": (f"https://127.0.0.1:{port}",
                                                                          server.ca_path)})
        with KubeApi.connect(example.region("eastus2"), kubeconfig) as api, \
                pytest.raises(LiveCheckError, match="cannot reach"):
            list(api.watch_raycluster("ray", "x", None, 1))


FAKE_HELM = """#!{python}
import json, sys
if sys.argv[1:2] == ["version"]:
    sys.stdout.write("v3.17.0")
    sys.exit(0)
print(json.dumps({{"name": "ray", "version": 1, "info": {{"status": "deployed", "description": "Install complete"}}}}))
"""


def test_rollout_with_a_silent_watch_is_a_readiness_failure_within_its_timeout(fake_aks, tmp_path: Path):
    fake_aks.clusters["westus3"].git_version = "v1.32.6"
    name = "ray-ray-cluster"
    fake_aks.cluster.set_raycluster(raycluster(name, head_ready="False", provisioned="False"))
    fake_aks.cluster.watch_delay = 60
    helm = tmp_path / "helm"
    helm.write_text(FAKE_HELM.format(python=sys.executable))
    helm.chmod(0o755)
    report = tmp_path / "rollout.json"
    started = time.monotonic()
    result = CliRunner().invoke(main, ["rollout", FLEET, "--region", "eastus2", "--kubeconfig",
                                       str(fake_aks.kubeconfig), "--helm-binary", str(helm), "--timeout", "2",
                                       "--report", f"json={report}", "--no-color"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    region = json.loads(report.read_text())["data"]["rollout"]["regions"][0]
    assert region["status"] == "failed" and "not ready after 2s" in region["message"], region
    assert elapsed < 20, elapsed
