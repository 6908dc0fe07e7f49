"""`rayfleet scheduling sync`: the real kubernetes client writes ClusterProfile status on a fake
manager API server (HTTPS on 127.0.0.1), through the status subresource, idempotently."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.errors import InputError, LiveCheckError
from rayfleet.fleet import load_fleet
from rayfleet.scheduling_sync import ACCESS_PROVIDER, sync_cluster_profiles

from tests.kube.fake_kube import TOKEN, FakeCluster, cluster_profile
from tests.support.https_server import HttpsServer

EASTUS2_CA = b"-----BEGIN CERTIFICATE-----\nZWFzdHVzMg==\n-----END CERTIFICATE-----\n"
WESTUS3_CA = b"-----BEGIN CERTIFICATE-----\nd2VzdHVzMw==\n-----END CERTIFICATE-----\n"
EASTUS2 = "https://rayfleet-eus2-dns-1a2b3c4d.hcp.eastus2.azmk8s.io:443"
WESTUS3 = "https://rayfleet-wus3-dns-5e6f7a8b.hcp.westus3.azmk8s.io:443"


def _fleet(tmp_path: Path) -> Path:
    def region(name: str, context: str, role: str = "worker") -> dict:
        return {"name": name, "location": name if role == "worker" else "centralus", "role": role,
                "cluster": {"name": f"aks-{name}", "kubernetesVersion": "1.33", "kubeContext": context},
                "valuesFiles": []}

    fleet = {"apiVersion": "rayfleet.dev/v1", "chart": "chart", "release": {"name": "ray", "namespace": "ray"},
             "scheduling": {"engine": "multikueue", "queues": [{"name": "gpu-batch", "namespace": "ray"}]},
             "regions": [region("manager", "rayfleet-manager", "manager"), region("eastus2", "rayfleet-eus2"),
                         region("westus3", "rayfleet-wus3")]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet, sort_keys=False))
    return path


def _kubeconfig(tmp_path: Path, server: HttpsServer) -> Path:
    """The manager with a token; the workers as AKS gives them: kubelogin exec users (a binary that
    does not exist here, so running it would fail the test), one CA inline, one in a file."""
    (tmp_path / "westus3-ca.crt").write_bytes(WESTUS3_CA)
    kubelogin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/nonexistent/kubelogin",
                          "args": ["get-token", "--login", "azurecli", "--server-id",
                                   "6dae42f8-4368-4678-94ff-3960e28e3630"]}}
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "rayfleet-eus2",
        "clusters": [
            {"name": "rayfleet-manager", "cluster": {"server": f"{server.url}/manager",
                                                     "certificate-authority": server.ca_path}},
            {"name": "rayfleet-eus2", "cluster": {"server": EASTUS2,
                                                  "certificate-authority-data": base64.b64encode(EASTUS2_CA).decode()}},
            {"name": "rayfleet-wus3", "cluster": {"server": WESTUS3, "certificate-authority": "westus3-ca.crt"}},
        ],
        "users": [{"name": "manager", "user": {"token": TOKEN}}, {"name": "aad", "user": kubelogin}],
        "contexts": [{"name": "rayfleet-manager", "context": {"cluster": "rayfleet-manager", "user": "manager"}},
                     {"name": "rayfleet-eus2", "context": {"cluster": "rayfleet-eus2", "user": "aad"}},
                     {"name": "rayfleet-wus3", "context": {"cluster": "rayfleet-wus3", "user": "aad"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def manager(tmp_path):
    with HttpsServer() as server:
        cluster = FakeCluster(prefix="/manager", cluster_profiles={
            ("kueue-system", "eastus2"): cluster_profile("eastus2"),
            ("kueue-system", "westus3"): cluster_profile("westus3")}).serve(server)
        yield cluster, load_fleet(_fleet(tmp_path)), _kubeconfig(tmp_path, server)


def _providers(cluster: FakeCluster, name: str) -> list:
    assert cluster.cluster_profiles is not None
    return cluster.cluster_profiles[("kueue-system", name)].get("status", {}).get("accessProviders")


def test_sync_writes_server_and_ca_through_the_status_subresource(manager) -> None:
    cluster, fleet, kubeconfig = manager
    actions = sync_cluster_profiles(fleet, kubeconfig=kubeconfig)
    assert [(a.region, a.profile, a.state) for a in actions] == [
        ("eastus2", "kueue-system/eastus2", "updated"), ("westus3", "kueue-system/westus3", "updated")]
    assert [kind for kind, _, _ in cluster.profile_writes] == ["status", "status"]
    assert _providers(cluster, "eastus2") == [{"name": ACCESS_PROVIDER, "cluster": {
        "server": EASTUS2, "certificate-authority-data": base64.b64encode(EASTUS2_CA).decode()}}]
    assert _providers(cluster, "westus3")[0]["cluster"]["certificate-authority-data"] == \
        base64.b64encode(WESTUS3_CA).decode()
    assert cluster.cluster_profiles[("kueue-system", "eastus2")]["spec"]["clusterManager"] == {"name": "rayfleet"}


def test_a_second_sync_writes_nothing(manager) -> None:
    cluster, fleet, kubeconfig = manager
    sync_cluster_profiles(fleet, kubeconfig=kubeconfig)
    writes = len(cluster.profile_writes)
    again = sync_cluster_profiles(fleet, kubeconfig=kubeconfig)
    assert [a.state for a in again] == ["unchanged", "unchanged"]
    assert len(cluster.profile_writes) == writes


def test_a_changed_server_is_rewritten_and_other_providers_are_kept(manager) -> None:
    cluster, fleet, kubeconfig = manager
    other = {"name": "kubefleet", "cluster": {"server": "https://hub.example"}}
    stale = {"name": ACCESS_PROVIDER,
             "cluster": {"server": "https://old.example", "certificate-authority-data": "eA=="}}
    cluster.cluster_profiles[("kueue-system", "eastus2")] = cluster_profile("eastus2", access_providers=[other, stale])
    actions = sync_cluster_profiles(fleet, kubeconfig=kubeconfig, regions=["eastus2"])
    assert [a.state for a in actions] == ["updated"]
    providers = _providers(cluster, "eastus2")
    assert providers[0] == other and providers[1]["cluster"]["server"] == EASTUS2


def test_dry_run_writes_nothing(manager) -> None:
    cluster, fleet, kubeconfig = manager
    result = CliRunner().invoke(main, ["scheduling", "sync", str(fleet.path), "--kubeconfig", str(kubeconfig),
                                       "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "eastus2: ClusterProfile kueue-system/eastus2 would update (server " + EASTUS2 + ")" in result.output
    assert cluster.profile_writes == []


def test_cli_reports_each_worker(manager) -> None:
    _, fleet, kubeconfig = manager
    result = CliRunner().invoke(main, ["scheduling", "sync", str(fleet.path), "--kubeconfig", str(kubeconfig)])
    assert result.exit_code == 0, result.output
    assert result.output.count(" updated ") == 2


def test_missing_cluster_profile_is_a_clear_error(manager) -> None:
    cluster, fleet, kubeconfig = manager
    del cluster.cluster_profiles[("kueue-system", "westus3")]
    result = CliRunner().invoke(main, ["scheduling", "sync", str(fleet.path), "--kubeconfig", str(kubeconfig)])
    assert result.exit_code == 2
    assert "no ClusterProfile labelled rayfleet.io/region=westus3 on the manager" in result.output
    assert "Traceback" not in result.output
    assert [name for _, name, _ in cluster.profile_writes] == ["eastus2"]


def test_missing_worker_context_fails_before_any_write(manager, tmp_path) -> None:
    cluster, fleet, kubeconfig = manager
    config = yaml.safe_load(kubeconfig.read_text())
    config["contexts"] = [c for c in config["contexts"] if c["name"] != "rayfleet-wus3"]
    kubeconfig.write_text(yaml.safe_dump(config))
    with pytest.raises(InputError, match="region westus3: no context 'rayfleet-wus3' in the kubeconfig"):
        sync_cluster_profiles(fleet, kubeconfig=kubeconfig)
    assert cluster.profile_writes == []


def test_forbidden_write_names_the_manager_and_the_profile(manager) -> None:
    cluster, fleet, kubeconfig = manager
    cluster.forbid_profile_writes = True
    with pytest.raises(LiveCheckError, match=r"region manager: .*forbidden to write the status of ClusterProfile "
                                             r"kueue-system/eastus2: .*clusterprofiles/status"):
        sync_cluster_profiles(fleet, kubeconfig=kubeconfig)


def test_no_cluster_profile_crd(manager) -> None:
    cluster, fleet, kubeconfig = manager
    cluster.cluster_profiles = None
    with pytest.raises(LiveCheckError, match=r"clusterprofiles\.multicluster\.x-k8s\.io is not served"):
        sync_cluster_profiles(fleet, kubeconfig=kubeconfig)


def test_a_fleet_without_scheduling_is_bad_input(tmp_path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "rayfleet.dev/v1", "chart": "c",
                                    "release": {"name": "ray", "namespace": "ray"},
                                    "regions": [{"name": "eastus2", "location": "eastus2", "valuesFiles": [],
                                                 "cluster": {"name": "a", "kubernetesVersion": "1.33"}}]}))
    result = CliRunner().invoke(main, ["scheduling", "sync", str(path)])
    assert result.exit_code == 2
    assert "no scheduling section" in result.output
