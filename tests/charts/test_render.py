"""The example fleet renders through Helm's engine into valid, well-formed objects."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from rayfleet.findings import SourceLocation

from .chartkit import NAMESPACE, REGIONS, region_layers

K8S_VERSIONS = ("1.31", "1.32", "1.33", "1.34")
CUSTOM_GROUPS = ("ray.io/", "kueue.x-k8s.io/", "multicluster.x-k8s.io/")
CLUSTER_SCOPED = ("StorageClass", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "ClusterQueue",
                  "ResourceFlavor", "AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster")
VM_SIZES = {
    "eastus2": "Standard_NC40ads_H100_v5",
    "swedencentral": "Standard_NC24ads_A100_v4",
    "westus3": "Standard_NC4as_T4_v3",
}
GPU_TOLERATION = {"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
SPOT_TOLERATION = {
    "key": "kubernetes.azure.com/scalesetpriority",
    "operator": "Equal",
    "value": "spot",
    "effect": "NoSchedule",
}

ADMISSION_KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


def ray_pods(cluster: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(group, pod template) for the head and every worker group."""
    pods = [("head", cluster["spec"]["headGroupSpec"]["template"])]
    pods += [(g["groupName"], g["template"]) for g in cluster["spec"]["workerGroupSpecs"]]
    return pods


def groups(cluster: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["groupName"]: g for g in cluster["spec"]["workerGroupSpecs"]}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_objects_validate_against_kubernetes_schemas(render_region, region, version):
    rendered = render_region(region)
    checked = 0
    for template, obj in rendered.objects:
        if obj["apiVersion"].startswith(CUSTOM_GROUPS):  # checked against their CRDs
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{template}: {obj['kind']} {obj['metadata']['name']} invalid for {version}: {exc.message}")
        checked += 1
    assert checked >= 4  # ServiceAccount, StorageClass, PVC, test Pod


@pytest.mark.parametrize("region", REGIONS)
def test_raycluster_validates_against_kuberay_crd(render_region, raycluster_schema, region):
    cluster = render_region(region).one("RayCluster")
    assert cluster["apiVersion"] == "ray.io/v1"
    jsonschema.validate(cluster, raycluster_schema, cls=jsonschema.Draft7Validator)


@pytest.mark.parametrize("region", REGIONS)
def test_raycluster_has_no_field_the_api_server_would_prune(render_region, crds_dir, region):
    # Stricter than the CRD alone: unknown fields, which the API server silently drops, count too.
    from rayfleet.manifests import KubeObject
    from rayfleet.schemas_check import CustomResourceSchemas, ObjectSchemas, load_crds_folder

    schemas = ObjectSchemas("1.33", CustomResourceSchemas(load_crds_folder(crds_dir)))
    cluster = render_region(region).one("RayCluster")
    found = [v.violation for v in schemas.check(KubeObject(cluster, SourceLocation("rendered")))]
    assert found == []


@pytest.mark.parametrize("region", REGIONS)
def test_no_secret_and_no_credential_env(render_region, region):
    rendered = render_region(region)
    assert rendered.of_kind("Secret") == []
    for _, obj in rendered.objects:
        if obj["kind"] in ADMISSION_KINDS:
            continue  # the admission policies name what they forbid
        text = repr(obj)
        for needle in ("AZURE_CLIENT_SECRET", "AZURE_STORAGE_KEY", "AccountKey=", "secretName", "SecretRef"):
            assert needle not in text, f"{obj['kind']} {obj['metadata']['name']} mentions {needle}"


def test_eastus2_worker_groups(render_region):
    cluster = render_region("eastus2").one("RayCluster")
    by_name = groups(cluster)
    assert sorted(by_name) == ["cpu", "gpu"]
    gpu = by_name["gpu"]
    assert (gpu["minReplicas"], gpu["maxReplicas"]) == (0, 8)  # the platform-team override raised 4 -> 8
    assert "replicas" not in gpu  # the autoscaler owns it
    pod = gpu["template"]["spec"]
    assert pod["nodeSelector"] == {
        "node.kubernetes.io/instance-type": "Standard_NC40ads_H100_v5",
        "kubernetes.azure.com/agentpool": "h100",
    }
    assert pod["tolerations"] == [GPU_TOLERATION]
    resources = pod["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "36", "memory": "280Gi", "nvidia.com/gpu": "1"}
    assert resources["requests"] == resources["limits"]
    cpu_pod = by_name["cpu"]["template"]["spec"]
    assert "tolerations" not in cpu_pod
    assert "nvidia.com/gpu" not in cpu_pod["containers"][0]["resources"]["limits"]


def test_region_file_alone_keeps_its_own_limits(render_region):
    assert groups(render_region("eastus2", override=False).one("RayCluster"))["gpu"]["maxReplicas"] == 4


@pytest.mark.parametrize("region", REGIONS)
def test_instance_type_node_selector_on_every_group(render_region, region):
    cluster = render_region(region).one("RayCluster")
    gpu = groups(cluster)["gpu"]["template"]["spec"]
    assert gpu["nodeSelector"]["node.kubernetes.io/instance-type"] == VM_SIZES[region]
    for name, template in ray_pods(cluster):
        assert "node.kubernetes.io/instance-type" in template["spec"]["nodeSelector"], name


def test_spot_group_selects_and_tolerates_spot(render_region):
    pod = groups(render_region("westus3").one("RayCluster"))["gpu"]["template"]["spec"]
    assert pod["nodeSelector"]["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert pod["tolerations"] == [GPU_TOLERATION, SPOT_TOLERATION]


@pytest.mark.parametrize("region", REGIONS)
def test_every_ray_pod_has_identity_and_shared_data(render_region, region):
    rendered = render_region(region)
    cluster = rendered.one("RayCluster")
    (claim,) = rendered.of_kind("PersistentVolumeClaim")
    sa_names = {sa["metadata"]["name"] for sa in rendered.of_kind("ServiceAccount")}
    mounts = set()
    for name, template in ray_pods(cluster):
        spec = template["spec"]
        assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true", name
        # The head runs as ray (KubeRay binds the autoscaler Role to it), workers as ray-worker.
        expected_sa = "ray" if name == "head" else "ray-worker"
        assert spec["serviceAccountName"] == expected_sa and expected_sa in sa_names, name
        (container,) = spec["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env == {"AZURE_TOKEN_CREDENTIALS": "WorkloadIdentityCredential"}, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"], name
        assert "emptyDir" in volumes["ray-tmp"], name
        assert not any("hostPath" in v for v in spec["volumes"]), name
        by_volume = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert by_volume["ray-tmp"] == "/tmp/ray"
        mounts.add(by_volume["data"])
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        sc = container["securityContext"]
        assert sc["runAsUser"] == 1000 and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
    assert mounts == {"/mnt/data"}  # the same path in the head and every worker


@pytest.mark.parametrize("region", REGIONS)
def test_head_is_cpu_only_with_dashboard_and_clusterip(render_region, region):
    head = render_region(region).one("RayCluster")["spec"]["headGroupSpec"]
    assert head["rayStartParams"] == {"num-gpus": "0", "dashboard-host": "0.0.0.0"}
    assert head["serviceType"] == "ClusterIP"
    spec = head["template"]["spec"]
    assert "tolerations" not in spec
    assert spec["nodeSelector"]["kubernetes.azure.com/agentpool"] == "raycpu"
    resources = spec["containers"][0]["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": "8", "memory": "32Gi"}


def test_autoscaling_image_and_version(render_region):
    cluster = render_region("swedencentral").one("RayCluster")
    spec = cluster["spec"]
    assert spec["enableInTreeAutoscaling"] is True
    assert spec["autoscalerOptions"]["upscalingMode"] == "Default"
    assert spec["autoscalerOptions"]["idleTimeoutSeconds"] == 300
    assert spec["rayVersion"] == "2.53.0"  # follows the override's image tag
    images = {name: t["spec"]["containers"][0]["image"] for name, t in ray_pods(cluster)}
    # The CPU-only head runs the CPU variant of the workers' image (same Ray version).
    assert images.pop("head") == "rayproject/ray:2.53.0-py311-cpu"
    assert set(images.values()) == {"rayproject/ray:2.53.0-py311-gpu"}
    assert render_region("swedencentral", override=False).one("RayCluster")["spec"]["rayVersion"] == "2.52.0"


@pytest.mark.parametrize("region", REGIONS)
def test_storage_class_is_token_only_and_retained(render_region, region):
    rendered = render_region(region)
    sc = rendered.one("StorageClass")
    assert sc["provisioner"] == "blob.csi.azure.com"
    assert sc["reclaimPolicy"] == "Retain"
    assert sc["allowVolumeExpansion"] is True
    params = sc["parameters"]
    assert set(params) == {
        "protocol",
        "storageaccount",
        "resourcegroup",
        "containerName",
        "clientID",
        "tenantID",
        "mountWithWorkloadIdentityToken",
        "storeAccountKey",
    }
    assert params["protocol"] == "fuse2"
    assert params["mountWithWorkloadIdentityToken"] == "true"
    assert params["storeAccountKey"] == "false"
    sa = next(a for a in rendered.of_kind("ServiceAccount") if a["metadata"]["name"] == "ray")
    assert params["clientID"] == sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
    options = sc["mountOptions"]
    for option in (
        "-o allow_other",
        "--log-level=LOG_WARNING",
        "--use-attr-cache=true",
        "--cancel-list-on-mount-seconds=10",
        "-o attr_timeout=120",
    ):
        assert option in options
    claim = rendered.one("PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["storageClassName"] == sc["metadata"]["name"]
    assert claim["metadata"]["namespace"] == NAMESPACE


def test_cache_modes(render_region):
    block = render_region("eastus2").one("StorageClass")["mountOptions"]
    assert "--block-cache" in block and "--block-cache-pool-size=16384" in block
    assert not any(o.startswith("--cache-size-mb") for o in block)
    file = render_region("westus3").one("StorageClass")["mountOptions"]
    assert "--file-cache-timeout-in-seconds=120" in file and "--cache-size-mb=20480" in file
    assert "--block-cache" not in file


def test_storage_account_per_region(render_region):
    accounts = {r: render_region(r).one("StorageClass")["parameters"]["storageaccount"] for r in REGIONS}
    assert accounts == {
        "eastus2": "rayfleeteus2data",
        "swedencentral": "rayfleetsdcdata",
        "westus3": "rayfleetwus3data",
    }


def test_standard_labels_and_namespace(render_region):
    rendered = render_region("eastus2")
    for _, obj in rendered.objects:
        labels = obj["metadata"]["labels"]
        for key in (
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/component",
            "app.kubernetes.io/part-of",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ):
            assert key in labels, f"{obj['kind']} lacks {key}"
        assert labels["app.kubernetes.io/part-of"] == "ray-aks"
        if obj["kind"] in CLUSTER_SCOPED or obj["kind"] in ADMISSION_KINDS:
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert obj["metadata"]["namespace"] == NAMESPACE


def test_helm_test_pod(render_region):
    (pod,) = [o for o in render_region("westus3").of_kind("Pod")]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    spec = pod["spec"]
    assert spec["serviceAccountName"] == "ray"
    (container,) = spec["containers"]
    image = container["image"]
    assert image.startswith("mcr.microsoft.com/azure-cli:") and not image.endswith(":latest")
    script = container["args"][0]
    assert '--federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"' in script
    assert '--account-name "rayfleetwus3data"' in script and '-c "ray-data"' in script
    assert "--auth-mode login" in script and "--num-results 1" in script
    assert not {e["name"] for e in container.get("env", [])} & {
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
    }
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["resources"]["limits"] and container["resources"]["requests"]


def test_notes_print_federated_subjects(render_region):
    notes = render_region("eastus2").notes()
    assert f"subject: system:serviceaccount:{NAMESPACE}:ray" in notes
    assert "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61" in notes


def test_raycluster_name_is_a_short_dns1035_label(render):
    long_release = "r" + "x" * 52
    cluster = render({"global": {}}, *_example(), name=long_release).one("RayCluster")
    name = cluster["metadata"]["name"]
    assert len(name) <= 53 and name[0].isalpha() and not name.endswith("-")
    digit_release = "1fleet"
    assert render(*_example(), name=digit_release).one("RayCluster")["metadata"]["name"].startswith("r-")


def _example():
    return region_layers("eastus2")
