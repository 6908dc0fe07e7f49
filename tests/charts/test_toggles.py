"""Component toggles, storage modes and edge cases of the values."""

from __future__ import annotations

import helm_python
import jsonschema
import kubernetes_validate
import pytest

from .chartkit import UMBRELLA, region_layers

EASTUS2 = region_layers("eastus2")


def kinds(rendered):
    return sorted(obj["kind"] for _, obj in rendered.objects)


def test_operator_dependency_is_pinned_and_not_vendored(chart):
    (dep,) = [d for d in chart.metadata["dependencies"] if d["name"] == "kuberay-operator"]
    assert dep | {"enabled": True} == {
        "enabled": True,
        "name": "kuberay-operator",
        "version": "1.7.0",
        "repository": "https://ray-project.github.io/kuberay-helm/",
        "condition": "kuberay-operator.enabled",
    }
    assert "kuberay-operator" not in {d["name"] for d in chart.dependencies}
    assert "/charts/*.tgz" in (UMBRELLA / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("enabled", [True, False])
def test_operator_toggle_renders_without_the_fetched_dependency(render, enabled):
    # The engine renders what is in charts/; the operator (absent until `helm dependency build`)
    # simply contributes nothing. `helm install`/`helm template` refuse a declared-but-missing
    # dependency in both cases, so the docs say to run `helm dependency build` first.
    rendered = render(*EASTUS2, {"kuberay-operator": {"enabled": enabled}})
    assert [k for k in kinds(rendered) if not k.startswith("ValidatingAdmissionPolicy")] == [
        "ClusterQueue", "ClusterRole", "ClusterRoleBinding", "LocalQueue", "PersistentVolumeClaim", "Pod",
        "RayCluster", "ResourceFlavor", "ResourceFlavor", "ServiceAccount", "ServiceAccount", "StorageClass"]
    assert {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= set(kinds(rendered))
    notes = rendered.notes()
    if enabled:
        assert "KubeRay operator: installed by this release" in notes
    else:
        assert "AKS-managed KubeRay extension" in notes


def test_static_storage_mode(render):
    rendered = render(*EASTUS2, {"blob-storage": {"mode": "static"}})
    assert rendered.of_kind("StorageClass") == []
    pv = rendered.one("PersistentVolume")
    pvc = rendered.one("PersistentVolumeClaim")
    spec = pv["spec"]
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["accessModes"] == ["ReadWriteMany"]
    csi = spec["csi"]
    assert csi["driver"] == "blob.csi.azure.com"
    segments = csi["volumeHandle"].split("#")
    assert segments == ["rg-rayfleet-eus2", "rayfleeteus2data", "ray-data", "ray"]
    assert segments[2] == csi["volumeAttributes"]["containerName"]
    assert csi["volumeAttributes"] == {
        "protocol": "fuse2",
        "storageaccount": "rayfleeteus2data",
        "containerName": "ray-data",
        "resourcegroup": "rg-rayfleet-eus2",
        "clientID": "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61",
        "tenantID": "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01",
        "mountWithWorkloadIdentityToken": "true",
    }
    assert not {"nodeStageSecretRef", "nodePublishSecretRef"} & set(csi)
    assert "-o allow_other" in spec["mountOptions"]
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
    assert pvc["spec"]["storageClassName"] == spec["storageClassName"]
    assert pv["spec"]["capacity"]["storage"] == pvc["spec"]["resources"]["requests"]["storage"]
    for obj in (pv, pvc):
        kubernetes_validate.validate(obj, "1.31", strict=True)


def test_static_volume_handle_is_unique_per_namespace(render):
    handles = {
        ns: render(*EASTUS2, {"blob-storage": {"mode": "static"}}, namespace=ns).one("PersistentVolume")
        for ns in ("ray", "ray-dev")
    }
    assert handles["ray"]["spec"]["csi"]["volumeHandle"] != handles["ray-dev"]["spec"]["csi"]["volumeHandle"]
    assert handles["ray"]["metadata"]["name"] != handles["ray-dev"]["metadata"]["name"]


def test_zero_worker_groups(render, raycluster_schema):
    rendered = render(*EASTUS2, {"ray-cluster": {"workerGroups": {"gpu": None, "cpu": None}}})
    cluster = rendered.one("RayCluster")
    assert cluster["spec"]["workerGroupSpecs"] == []
    jsonschema.validate(cluster, raycluster_schema)
    disabled = render(*EASTUS2, {"ray-cluster": {"workerGroups": {"gpu": {"enabled": False}}}}).one("RayCluster")
    assert [g["groupName"] for g in disabled["spec"]["workerGroupSpecs"]] == ["cpu"]


def test_chart_defaults_have_no_worker_groups(chart):
    assert chart.merge_values({})["ray-cluster"]["workerGroups"] == {}


def test_replicas_rendered_only_when_set(render):
    cluster = render(*EASTUS2, {"ray-cluster": {"workerGroups": {"gpu": {"replicas": 1, "minReplicas": 1}}}})
    gpu = {g["groupName"]: g for g in cluster.one("RayCluster")["spec"]["workerGroupSpecs"]}["gpu"]
    assert (gpu["replicas"], gpu["minReplicas"]) == (1, 1)


def test_components_can_be_turned_off(render):
    rendered = render(
        *EASTUS2,
        {
            "blob-storage": {"enabled": False},
            "workload-identity": {"enabled": False},
            "ray-cluster": {"enabled": False},
            "scheduling": {"enabled": False},
            "tests": {"blobAccess": {"enabled": False}},
            "admissionPolicies": {"enabled": False},
        },
    )
    assert rendered.objects == []
    only_ray = render(*EASTUS2, {"blob-storage": {"enabled": False}, "workload-identity": {"enabled": False},
                                 "scheduling": {"enabled": False}, "admissionPolicies": {"enabled": False}})
    assert kinds(only_ray) == ["Pod", "RayCluster"]


def test_extra_service_accounts_and_token_expiration(render):
    rendered = render(
        *EASTUS2,
        {
            "workload-identity": {
                "serviceAccounts": {
                    "ray": {"tokenExpiration": 7200},
                    "ray-jobs": {"clientId": "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12"},
                }
            }
        },
    )
    accounts = {sa["metadata"]["name"]: sa["metadata"]["annotations"] for sa in rendered.of_kind("ServiceAccount")}
    assert accounts["ray"]["azure.workload.identity/service-account-token-expiration"] == "7200"
    assert accounts["ray-jobs"]["azure.workload.identity/client-id"] == "8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12"
    assert accounts["ray-jobs"]["azure.workload.identity/tenant-id"] == "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
    notes = rendered.notes()
    assert "system:serviceaccount:ray:ray" in notes and "system:serviceaccount:ray:ray-jobs" in notes


def test_image_digest_and_enforced_head_params(render):
    digest = "sha256:" + "a" * 64
    cluster = render(
        *EASTUS2,
        {"ray-cluster": {"image": {"digest": digest}, "head": {"rayStartParams": {"num-gpus": "1", "num-cpus": "0"}}}},
    )
    ray = cluster.one("RayCluster")["spec"]
    spec = ray["headGroupSpec"]
    # The digest is the GPU image's: workers carry it; the head's derived CPU tag cannot reuse it.
    assert {g["template"]["spec"]["containers"][0]["image"] for g in ray["workerGroupSpecs"]} == {
        f"rayproject/ray:2.53.0-py311-gpu@{digest}"}
    assert spec["template"]["spec"]["containers"][0]["image"] == "rayproject/ray:2.53.0-py311-cpu"
    assert spec["rayStartParams"] == {"num-gpus": "0", "dashboard-host": "0.0.0.0", "num-cpus": "0"}


def test_gpu_taint_is_configurable_once(render):
    cluster = render(*EASTUS2, {"ray-cluster": {"gpuTaint": {"key": "nvidia.com/gpu", "value": "present"}}})
    gpu = {g["groupName"]: g for g in cluster.one("RayCluster")["spec"]["workerGroupSpecs"]}["gpu"]
    assert gpu["template"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    ]


def test_crd_schema_is_really_applied(render_region, raycluster_schema):
    cluster = render_region("eastus2").one("RayCluster")
    broken = {**cluster, "spec": {**cluster["spec"], "workerGroupSpecs": [{"groupName": "x"}]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, raycluster_schema)


def test_missing_library_is_a_clear_error_for_standalone_subcharts():
    chart = helm_python.Chart.load(UMBRELLA / "charts" / "ray-cluster")
    with pytest.raises(helm_python.HelmRenderError, match="ray-aks-common"):
        chart.render({}, name="x", namespace="ray")
