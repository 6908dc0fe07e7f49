"""Preflight checks from the chart audit (issue #16): the NVIDIA device plugin's tolerations, the
Blob CSI driver's version floor for token mounts, KubeRay CRDs older than the chart's. Real
kubernetes client against the fake AKS API server."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from rayfleet.commands.preflight import preflight_region
from rayfleet.findings import Severity
from rayfleet.policies.preflight_blob_csi_version import floor_for
from rayfleet.policies.preflight_kuberay_crd_version import missing_fields
from rayfleet.schemas_check import load_crds_folder

from tests.kube.fake_kube import (
    GPU_TAINT,
    SPOT_TAINT,
    aks_node,
    blob_csi_node,
    daemon_set,
    device_plugin,
)


def _run(fake_aks, example, releases, region="eastus2", **kwargs):
    return preflight_region(example.region(region), fleet=example, release=releases[region],
                            kubeconfig=fake_aks.kubeconfig, **kwargs)


def _of(findings, policy):
    return [f for f in findings if f.policy == policy]


# --- the NVIDIA device plugin ---------------------------------------------------------------------

def spot_pool():
    return [aks_node("aks-t4spot-1-vmss000000", "t4spot", "Standard_NC4as_T4_v3", gpus=0, spot=True,
                     region="westus3", taints=[GPU_TAINT, SPOT_TAINT])]


def test_device_plugin_without_the_spot_toleration_fails_the_spot_pool(fake_aks, example, releases):
    fake_aks.clusters["westus3"].nodes = spot_pool()
    (finding,) = _of(_run(fake_aks, example, releases, "westus3"), "preflight-gpu-device-plugin")
    assert finding.severity is Severity.ERROR and finding.region == "westus3"
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in finding.message
    assert "sku=gpu" not in finding.message  # that one it tolerates
    assert finding.obj.kind == "DaemonSet" and finding.obj.name == "nvidia-device-plugin"
    assert "worker group 'gpu'" in finding.message


def test_device_plugin_tolerating_spot_passes(fake_aks, example, releases):
    fake_aks.clusters["westus3"].nodes = spot_pool()
    tolerations = [*device_plugin()["spec"]["template"]["spec"]["tolerations"],
                   {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
                    "effect": "NoSchedule"}]
    fake_aks.clusters["westus3"].daemon_sets = [blob_csi_node(), device_plugin(tolerations)]
    assert _of(_run(fake_aks, example, releases, "westus3"), "preflight-gpu-device-plugin") == []


def test_pool_scaled_to_zero_is_judged_by_the_groups_tolerations(fake_aks, example, releases):
    fake_aks.clusters["westus3"].nodes = []  # no t4spot nodes yet: the group's tolerations stand for the pool
    (finding,) = _of(_run(fake_aks, example, releases, "westus3"), "preflight-gpu-device-plugin")
    assert "spot:NoSchedule" in finding.message and "no nodes yet" in finding.message


def test_upstream_defaults_do_not_tolerate_the_aks_gpu_taint(fake_aks, example, releases):
    upstream = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    fake_aks.cluster.daemon_sets = [blob_csi_node(), device_plugin(upstream)]
    (finding,) = _of(_run(fake_aks, example, releases), "preflight-gpu-device-plugin")
    assert "sku=gpu:NoSchedule" in finding.message


def test_gpu_operator_daemonset_is_recognised_by_its_image(fake_aks, example, releases):
    operator_ds = daemon_set("nvidia-device-plugin-daemonset", "gpu-operator",
                             "nvcr.io/nvidia/k8s-device-plugin:v0.17.0-ubi9", tolerations=[{"operator": "Exists"}])
    operator_ds["metadata"]["name"] = "gpu-operator-dp"
    fake_aks.cluster.daemon_sets = [blob_csi_node(), operator_ds]
    assert _of(_run(fake_aks, example, releases), "preflight-gpu-device-plugin") == []


def test_no_device_plugin_is_a_warning(fake_aks, example, releases):
    fake_aks.cluster.daemon_sets = [blob_csi_node()]
    (finding,) = _of(_run(fake_aks, example, releases), "preflight-gpu-device-plugin")
    assert finding.severity is Severity.WARNING and "no NVIDIA device plugin" in finding.message


# --- the Blob CSI driver version --------------------------------------------------------------------

@pytest.mark.parametrize(("version", "ok"), [
    ("v1.24.9", False), ("v1.25.5", False), ("v1.25.6", True), ("v1.26.2", False), ("v1.26.3", True),
    ("v1.26.16", True), ("v1.27.0", True), ("v1.27.9", True), ("v1.28.1", True),
])
def test_driver_version_floor(fake_aks, example, releases, version, ok):
    fake_aks.cluster.daemon_sets = [blob_csi_node(version), device_plugin()]
    findings = _of(_run(fake_aks, example, releases), "preflight-blob-csi-version")
    if ok:
        assert findings == []
    else:
        (finding,) = findings
        assert finding.severity is Severity.ERROR and version in finding.message
        assert finding.obj.name == "csi-blob-node" and finding.obj.namespace == "kube-system"


def test_floor_per_release_line():
    assert floor_for((1, 25, 0)) == (1, 25, 6)
    assert floor_for((1, 26, 9)) == (1, 26, 3)
    assert floor_for((1, 27, 3)) == floor_for((1, 30, 0)) == (1, 27, 0)
    assert floor_for((1, 24, 9)) is None


def test_unreadable_driver_version_is_a_warning(fake_aks, example, releases):
    fake_aks.cluster.daemon_sets = [device_plugin()]
    (finding,) = _of(_run(fake_aks, example, releases), "preflight-blob-csi-version")
    assert finding.severity is Severity.WARNING and "cannot tell" in finding.message


def test_daemonsets_are_listed_cluster_wide(fake_aks, example, releases):
    _run(fake_aks, example, releases)
    assert "/eastus2/apis/apps/v1/daemonsets" in {r.path for r in fake_aks.server.requests}


# --- KubeRay CRDs older than the chart's ------------------------------------------------------------

@pytest.fixture(scope="module")
def chart_crds(shared_dir: Path) -> list[dict]:
    return load_crds_folder(shared_dir / "crds" / "kuberay")  # parsed once, cached on disk


def _without(crd: dict, *path: str) -> dict:
    old = copy.deepcopy(crd)
    schema = next(v for v in old["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    for key in path[:-1]:
        schema = schema["properties"][key]
    del schema["properties"][path[-1]]
    return old


def test_served_crd_older_than_the_charts_is_reported(fake_aks, example, releases, chart_crds):
    clusters = next(c for c in chart_crds if c["metadata"]["name"] == "rayclusters.ray.io")
    fake_aks.cluster.crds = {c["metadata"]["name"]: c for c in chart_crds}
    fake_aks.cluster.crds["rayclusters.ray.io"] = _without(clusters, "spec", "gcsFaultToleranceOptions")
    (finding,) = _of(_run(fake_aks, example, releases, crds=chart_crds), "preflight-kuberay-crd-version")
    assert finding.severity is Severity.WARNING and finding.obj.name == "rayclusters.ray.io"
    assert "spec.gcsFaultToleranceOptions" in finding.message
    assert "rollout applies" in finding.message  # the release installs the operator


def test_served_crds_equal_to_the_charts_pass(fake_aks, example, releases, chart_crds):
    fake_aks.cluster.crds = {c["metadata"]["name"]: c for c in chart_crds}
    assert _of(_run(fake_aks, example, releases, crds=chart_crds), "preflight-kuberay-crd-version") == []


def test_missing_fields_name_the_top_of_each_subtree_and_respect_open_schemas():
    chart = {"properties": {"spec": {"properties": {"a": {"properties": {"b": {}, "c": {}}}, "d": {}}}}}
    served = {"properties": {"spec": {"properties": {"d": {}}}}}
    assert missing_fields(chart, served) == ["spec.a"]
    open_served = {"properties": {"spec": {"x-kubernetes-preserve-unknown-fields": True}}}
    assert missing_fields(chart, open_served) == []
