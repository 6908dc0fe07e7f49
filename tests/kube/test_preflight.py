"""Preflight against a fake AKS API server, through the real kubernetes client."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
import trustme
from rayfleet.commands.preflight import preflight_region, run_preflight
from rayfleet.errors import LiveCheckError
from rayfleet.findings import Severity
from rayfleet.nodes import tolerates

from tests.kube.fake_kube import GPU_TAINT, aks_node, kuberay_crd, namespace, other_webhook, write_kubeconfig


def _run(fake_aks, example, releases, region="eastus2", **kwargs):
    return preflight_region(example.region(region), fleet=example, release=releases[region],
                            kubeconfig=fake_aks.kubeconfig, **kwargs)


def _by_policy(findings):
    return {f.policy: f for f in findings}


def test_healthy_cluster_has_no_findings(fake_aks, example, releases):
    assert _run(fake_aks, example, releases) == []
    paths = {r.path for r in fake_aks.server.requests}
    assert "/eastus2/apis/storage.k8s.io/v1/csidrivers/blob.csi.azure.com" in paths
    assert all(r.headers["authorization"] == "Bearer rayfleet-test-token" for r in fake_aks.server.requests)


def test_version_mismatch_points_at_the_fleet_file(fake_aks, example, releases):
    fake_aks.cluster.git_version = "v1.34.1"
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-kubernetes-version"]
    assert finding.severity is Severity.ERROR and finding.region == "eastus2"
    assert "v1.34.1" in finding.message and "1.33" in finding.message
    assert finding.source.file.endswith("fleet.yaml") and finding.source.line


def test_missing_crds_are_info_when_the_release_installs_the_operator(fake_aks, example, releases):
    fake_aks.cluster.crds = {}
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-kuberay-crds"]
    assert finding.severity is Severity.INFO and "installs the KubeRay operator" in finding.message


def test_missing_crds_are_an_error_without_the_operator(fake_aks, example, releases):
    fake_aks.cluster.crds = {}
    release = releases["eastus2"]
    values = replace(release.values)
    values.merged = {**values.merged, "kuberay-operator": {"enabled": False}}
    no_operator = replace(release, values=values)
    findings = preflight_region(example.region("eastus2"), fleet=example, release=no_operator,
                                kubeconfig=fake_aks.kubeconfig)
    finding = _by_policy(findings)["preflight-kuberay-crds"]
    assert finding.severity is Severity.ERROR and "rayclusters.ray.io" in finding.message


def test_crds_that_do_not_serve_v1_are_an_error(fake_aks, example, releases):
    fake_aks.cluster.crds["rayclusters.ray.io"] = kuberay_crd("rayclusters.ray.io", served=("v1alpha1",))
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-kuberay-crds"]
    assert finding.severity is Severity.ERROR and "v1alpha1" in finding.message


def test_missing_blob_csi_driver(fake_aks, example, releases):
    fake_aks.cluster.csi_driver = None
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-blob-csi-token"]
    assert finding.severity is Severity.ERROR and "not installed" in finding.message


def test_blob_csi_driver_without_token_requests(fake_aks, example, releases):
    del fake_aks.cluster.csi_driver["spec"]["tokenRequests"]
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-blob-csi-token"]
    assert "api://AzureADTokenExchange" in finding.message and finding.path == "spec.tokenRequests"


def test_blob_csi_driver_without_republish_is_a_warning(fake_aks, example, releases):
    fake_aks.cluster.csi_driver["spec"]["requiresRepublish"] = False
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-blob-csi-token"]
    assert finding.severity is Severity.WARNING


def test_missing_workload_identity_webhook(fake_aks, example, releases):
    fake_aks.cluster.webhooks = [other_webhook("aks-webhook-admission-controller")]
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-workload-identity-webhook"]
    assert finding.severity is Severity.ERROR


def test_webhook_found_by_its_service_under_another_name(fake_aks, example, releases):
    webhook = fake_aks.cluster.webhooks[1]
    webhook["metadata"]["name"] = "workload-identity-webhook"
    webhook["webhooks"][0]["name"] = "mutate.example"
    assert "preflight-workload-identity-webhook" not in _by_policy(_run(fake_aks, example, releases))


def test_no_gpu_pool(fake_aks, example, releases):
    fake_aks.cluster.nodes = fake_aks.cluster.nodes[:2]
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-gpu-nodes"]
    assert "kubernetes.azure.com/agentpool=h100" in finding.message
    assert finding.source.file.endswith("values/regions/eastus2.yaml")  # traced to the value's file


def test_gpu_nodes_with_a_taint_the_group_does_not_tolerate(fake_aks, example, releases):
    for node in fake_aks.cluster.nodes[2:]:
        node["spec"]["taints"] = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-gpu-nodes"]
    assert "nvidia.com/gpu=present:NoSchedule" in finding.message and finding.path.endswith("tolerations")


def test_gpu_nodes_without_allocatable_gpus(fake_aks, example, releases):
    for node in fake_aks.cluster.nodes[2:]:
        del node["status"]["allocatable"]["nvidia.com/gpu"]
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-gpu-nodes"]
    assert "device plugin" in finding.message


def test_gpu_pool_of_another_vm_size_is_a_warning(fake_aks, example, releases):
    fake_aks.cluster.nodes[2:] = [aks_node("aks-h100-1-vmss000000", "h100", "Standard_NC80adis_H100_v5", gpus=2,
                                           taints=[GPU_TAINT])]
    finding = _by_policy(_run(fake_aks, example, releases))["preflight-gpu-nodes"]
    assert finding.severity is Severity.WARNING
    assert "Standard_NC40ads_H100_v5" in finding.message and "Standard_NC80adis_H100_v5" in finding.message


def test_namespace_created_by_helm_is_info(fake_aks, example, releases):
    del fake_aks.cluster.namespaces["ray"]
    assert _by_policy(_run(fake_aks, example, releases))["preflight-namespace"].severity is Severity.INFO
    strict = _run(fake_aks, example, releases, create_namespace=False)
    assert _by_policy(strict)["preflight-namespace"].severity is Severity.ERROR


def test_terminating_namespace_is_an_error(fake_aks, example, releases):
    fake_aks.cluster.namespaces["ray"] = namespace("ray", phase="Terminating")
    assert _by_policy(_run(fake_aks, example, releases))["preflight-namespace"].severity is Severity.ERROR


def test_expired_credentials_name_the_region(fake_aks, example, releases):
    fake_aks.cluster.expired = True
    with pytest.raises(LiveCheckError) as caught:
        _run(fake_aks, example, releases)
    message = str(caught.value)
    assert message.startswith("region eastus2:") and "401" in message and "\n" not in message


def test_unreachable_cluster_is_one_line(tmp_path, example, releases):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"rayfleet-eus2": (f"https://127.0.0.1:{port}", str(ca))})
    with pytest.raises(LiveCheckError) as caught:
        preflight_region(example.region("eastus2"), fleet=example, release=releases["eastus2"],
                         kubeconfig=kubeconfig)
    assert "cannot reach the API server" in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_context(fake_aks, example, releases):
    with pytest.raises(LiveCheckError, match="region eastus2: kube context 'other'"):
        region = example.region("eastus2")
        preflight_region(replace(region, cluster=replace(region.cluster, kube_context="other")),
                         fleet=example, release=releases["eastus2"], kubeconfig=fake_aks.kubeconfig)


def test_run_preflight_over_the_fleet(fake_aks, example):
    fake_aks.clusters["westus3"].nodes = [aks_node("aks-t4spot-1-vmss000000", "t4spot", "Standard_NC4as_T4_v3",
                                                   gpus=1, spot=True, taints=[GPU_TAINT])]
    result = run_preflight(example, kubeconfig=fake_aks.kubeconfig)
    assert [r.name for r in result.regions] == ["eastus2", "swedencentral", "westus3", "manager"]
    regions_with_errors = {f.region for f in result.findings if f.severity is Severity.ERROR}
    # swedencentral has no A100 pool; westus3 is 1.32 in the fleet file but the cluster runs 1.33,
    # and its spot nodes carry no spot taint toleration problem (the group tolerates it).
    assert regions_with_errors == {"swedencentral", "westus3"}
    assert {f.policy for f in result.findings if f.region == "westus3"} == {"preflight-kubernetes-version"}


@pytest.mark.parametrize(("toleration", "taint", "expected"), [
    ({"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, GPU_TAINT, True),
    ({"key": "sku", "operator": "Exists"}, GPU_TAINT, True),
    ({"operator": "Exists"}, GPU_TAINT, True),
    ({"key": "sku", "value": "cpu"}, GPU_TAINT, False),
    ({"key": "sku", "value": "gpu", "effect": "NoExecute"}, GPU_TAINT, False),
    ({"key": "other", "operator": "Exists"}, GPU_TAINT, False),
])
def test_toleration_matching(toleration, taint, expected):
    assert tolerates(toleration, taint) is expected
