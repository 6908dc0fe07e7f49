"""Every numeric limit in the release policies, at, below and above, through ``scan_manifests``
(what `rayfleet scan` runs), with the fields a user reads: policy, severity, object, path, line."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.findings import ObjectRef, Severity, SourceLocation
from rayfleet.pipeline import scan_manifests

PAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pad}\n---\n"
LINE = 5  # scan findings point at the first line of their object, here after a 4-line ConfigMap


def scan(tmp_path: Path, text: str, policy: str):
    path = tmp_path / "m.yaml"
    path.write_text(PAD + text)
    return scan_manifests([str(path)], policies=[policy]).findings


def _ray(kind: str, name: str = "", generate: str = "") -> str:
    meta = f"generateName: {generate}" if generate else f"name: {name}"
    spec = ("  headGroupSpec: {rayStartParams: {}, template: {spec: {containers: [{name: h, image: 'r:1'}]}}}\n")
    if kind == "RayJob":
        spec = "  entrypoint: python x.py\n  rayClusterSpec:\n  " + spec
    elif kind == "RayService":
        spec = "  rayClusterConfig:\n  " + spec
    return f"apiVersion: ray.io/v1\nkind: {kind}\nmetadata:\n  namespace: ray\n  {meta}\nspec:\n{spec}"


@pytest.mark.parametrize(("kind", "limit"), [("RayCluster", 53), ("RayJob", 47), ("RayService", 47)])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_ray_object_name_length(tmp_path, kind, limit, delta):
    name = "r" * (limit + delta)
    findings = scan(tmp_path, _ray(kind, name), "ray-cluster-name")
    if delta <= 0:
        assert findings == []
        return
    [f] = findings
    assert f.message == f"{kind} name {name!r} is {limit + 1} characters, over KubeRay's limit of {limit}"
    assert (f.policy, f.severity, f.obj, f.path) == ("ray-cluster-name", Severity.ERROR,
                                                     ObjectRef("ray.io/v1", kind, "ray", name), "metadata.name")
    assert f.source.file == str(tmp_path / "m.yaml") and f.source.line == LINE


@pytest.mark.parametrize(("prefix", "length"), [(48, None), (49, 54), (58, 63), (70, 63)])
def test_generate_name_counts_five_random_characters_after_at_most_58(tmp_path, prefix, length):
    findings = scan(tmp_path, _ray("RayCluster", generate="g" * prefix), "ray-cluster-name")
    if length is None:
        assert findings == []
        return
    [f] = findings
    assert f.message.startswith(f"RayCluster generateName {'g' * prefix!r} (+5 random characters) is {length} "
                                "characters") and f.path == "metadata.generateName"


def test_ray_object_name_must_be_dns_1035(tmp_path):
    [f] = scan(tmp_path, _ray("RayCluster", "Ray-1"), "ray-cluster-name")
    assert "is not a DNS-1035 label" in f.message and f.path == "metadata.name"


def _sa_with_expiration(value: str) -> str:
    return ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ray\n  namespace: ray\n  annotations:\n"
            f"    azure.workload.identity/service-account-token-expiration: \"{value}\"\n")


@pytest.mark.parametrize(("seconds", "fires"), [(3599, True), (3600, False), (3601, False), (86399, False),
                                                 (86400, False), (86401, True)])
def test_token_expiration_bounds(tmp_path, seconds, fires):
    findings = scan(tmp_path, _sa_with_expiration(str(seconds)), "workload-identity-token-expiration")
    assert bool(findings) is fires
    if fires:
        [f] = findings
        assert f.message == f"ServiceAccount 'ray' token expiration {seconds} is outside 3600-86400 seconds"
        assert f.path == 'metadata.annotations["azure.workload.identity/service-account-token-expiration"]'
        assert f.source.line == LINE and f.obj == ObjectRef("v1", "ServiceAccount", "ray", "ray")


def test_token_expiration_not_a_number(tmp_path):
    [f] = scan(tmp_path, _sa_with_expiration("1h"), "workload-identity-token-expiration")
    assert f.message == "ServiceAccount 'ray' token expiration '1h' is not a number of seconds"


def _pv(container: str) -> str:
    return ("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: data}\nspec:\n"
            "  capacity: {storage: 1Ti}\n  accessModes: [ReadWriteMany]\n  csi:\n    driver: blob.csi.azure.com\n"
            "    volumeHandle: rg#acct#" + container + "\n    volumeAttributes:\n"
            f"      containerName: {container}\n")


@pytest.mark.parametrize(("length", "fires"), [(2, True), (3, False), (4, False), (62, False), (63, False),
                                               (64, True)])
def test_blob_container_name_length(tmp_path, length, fires):
    container = "c" * length
    findings = scan(tmp_path, _pv(container), "blob-container-name")
    assert bool(findings) is fires
    if fires:
        [f] = findings
        assert f.path == "spec.csi.volumeAttributes.containerName" and f.source.line == LINE
        assert f"containerName {container!r} is not a valid blob container name" in f.message


def _workers(**counts: int) -> str:
    fields = ", ".join(f"{k}: {v}" for k, v in counts.items())
    return ("apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: ray, namespace: ray}\nspec:\n"
            "  headGroupSpec: {rayStartParams: {}, template: {spec: {containers: [{name: h, image: 'r:1'}]}}}\n"
            "  workerGroupSpecs:\n"
            f"  - {{groupName: w, {fields}, rayStartParams: {{}}, template: {{spec: {{containers: "
            "[{name: w, image: 'r:1'}]}}}\n")


@pytest.mark.parametrize(("counts", "messages"), [
    ({"minReplicas": 0, "replicas": 0, "maxReplicas": 0}, []),
    ({"minReplicas": -1}, ["worker group 'w' has minReplicas -1, below 0"]),
    ({"minReplicas": 2, "replicas": 2, "maxReplicas": 2}, []),
    ({"minReplicas": 3, "maxReplicas": 2}, ["worker group 'w' has minReplicas 3 above maxReplicas 2"]),
    ({"minReplicas": 2, "replicas": 1, "maxReplicas": 4}, ["worker group 'w' has replicas 1 below minReplicas 2"]),
    ({"minReplicas": 2, "replicas": 5, "maxReplicas": 4}, ["worker group 'w' has replicas 5 above maxReplicas 4"]),
    ({"minReplicas": 2, "replicas": 4, "maxReplicas": 4}, []),
    ({"replicas": 3}, []),
])
def test_worker_replica_bounds(tmp_path, counts, messages):
    findings = scan(tmp_path, _workers(**counts), "ray-worker-replicas")
    assert [f.message for f in findings] == messages
    for f in findings:
        assert f.path.startswith("spec.workerGroupSpecs[0].") and f.severity is Severity.ERROR


def test_a_ray_pod_without_containers_is_left_to_the_schema(tmp_path):
    text = ("apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: ray, namespace: ray}\nspec:\n"
            "  headGroupSpec: {rayStartParams: {}, template: {spec: {containers: []}}}\n"
            "  workerGroupSpecs:\n  - {groupName: w, rayStartParams: {}, template: {spec: {containers: []}}}\n")
    for policy in ("ray-image-consistent", "ray-version-consistent"):
        assert scan(tmp_path, text, policy) == []


def test_an_empty_volume_handle_is_left_to_the_schema(tmp_path):
    text = "".join(f"apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: data{i}}}\nspec:\n  csi:\n"
                   "    driver: blob.csi.azure.com\n    volumeHandle: ''\n---\n" for i in range(2))
    assert scan(tmp_path, text, "blob-volume-handle") == []  # two empty handles are not "the same handle"


def test_literal_credential_message_names_the_key_and_redacts(tmp_path):
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: ray}\ndata:\n"
            "  conn: DefaultEndpointsProtocol=https;AccountKey=abcdefghijkl\n"
            "  clientSecret: hunter2hunter2\n")
    findings = sorted(scan(tmp_path, text, "no-literal-credentials"), key=lambda f: f.path)
    assert [(f.path, f.message) for f in findings] == [
        ("data.clientSecret", "literal credential in 'clientSecret': value of a credential-named field (hunt…)"),
        ("data.conn", "literal credential in 'conn': connection string with a key or signature (Defa…)")]
    assert all(f.obj == ObjectRef("v1", "ConfigMap", "ray", "cfg") and f.source.line == LINE for f in findings)


def test_a_credential_named_env_value_is_left_to_no_credential_env(tmp_path):
    """``env[i].value`` under a credential name is no-credential-env's; a shaped credential is still ours,
    and a top-level ``env`` list (three keys deep) counts too."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
            "env:\n- {name: AZURE_CLIENT_SECRET, value: hunter2hunter2}\n"
            "- {name: STORAGE, value: 'AccountKey=abcdefghijkl'}\n")
    assert [f.path for f in scan(tmp_path, text, "no-literal-credentials")] == ["env[1].value"]


@pytest.mark.parametrize(("taint", "shown"), [
    ({"key": "sku", "value": "gpu", "effect": "NoSchedule"}, "sku=gpu:NoSchedule"),
    ({"key": "nvidia.com/gpu", "effect": "NoSchedule"}, "nvidia.com/gpu:NoSchedule"),
])
def test_gpu_taint_is_shown_with_or_without_a_value(tmp_path, taint, shown):
    from rayfleet.fleet import PolicySettings

    path = tmp_path / "m.yaml"
    path.write_text(_workers(replicas=1).replace("[{name: w, image: 'r:1'}]",
                                                 "[{name: w, image: 'r:1', resources: {limits: "
                                                 "{nvidia.com/gpu: 1}}}]"))
    settings = PolicySettings.from_dict({"gpuTaint": taint})
    [f] = scan_manifests([str(path)], policies=["gpu-taint-toleration"], settings=settings).findings
    assert f"{shown}" in f.message and f.path.startswith("spec.workerGroupSpecs[0]")


def test_crd_field_paths_descend_into_lists_and_maps():
    from rayfleet.policies.preflight_kuberay_crd_version import field_paths

    schema = {"properties": {
        "spec": {"properties": {
            "groups": {"items": {"properties": {"name": {}}}},
            "labels": {"additionalProperties": {"properties": {"v": {}}}},
            "raw": {"x-kubernetes-preserve-unknown-fields": True}}}}}
    assert list(field_paths(schema)) == [
        ("", False), ("spec", False), ("spec.groups", False), ("spec.groups[]", False),
        ("spec.groups[].name", False), ("spec.labels", False), ("spec.labels[]", False),
        ("spec.labels[].v", False), ("spec.raw", True)]


@pytest.mark.parametrize(("image", "version"), [
    ("rayproject/ray:2.49.0-py311-gpu", "2.49.0"),
    ("rayproject/ray:v2.49.0", "2.49.0"),
    ("rayproject/ray:nightly-gpu", "nightly"),
    ("example.com/verl:py3.12-ray2.55.1-cuda13.0", "2.55.1"),
    ("example.com/verl:ngc-th2.6.0", None),
    ("rayproject/ray", None),
])
def test_ray_version_of_an_image(image, version):
    from rayfleet.policies._helpers import ray_version_of_image

    assert ray_version_of_image(image) == version


def test_a_setting_is_traced_through_lists_and_earlier_files(tmp_path):
    from rayfleet.policies._provenance import describe_setting, earlier_settings
    from rayfleet.values import ValuesStack, load_values_file

    files = []
    for name, value in (("shared.yaml", 4), ("region.yaml", 6), ("override.yaml", 8)):
        (tmp_path / name).write_text(f"groups:\n- name: gpu\n  maxReplicas: {value}\n")
        files.append(load_values_file(tmp_path / name, display=name))
    stack = ValuesStack(files)
    assert earlier_settings(stack, ("groups", 0, "maxReplicas")) == [
        (4, SourceLocation("shared.yaml", 3)), (6, SourceLocation("region.yaml", 3))]
    assert earlier_settings(stack, ("groups", 1, "maxReplicas")) == []
    assert describe_setting(stack, "maxReplicas", 8) == (
        "maxReplicas 8 is set by groups[0].maxReplicas at override.yaml:3 (over 4 at shared.yaml:3, "
        "6 at region.yaml:3)")
    assert describe_setting(stack, "maxReplicas", 5) == "" and describe_setting(None, "maxReplicas", 8) == ""


def test_a_ray_kind_of_another_api_group_is_not_held_to_kuberays_limit(tmp_path):
    # (Written after the seed-46817 sample, whose ray_cluster_name.py:23:12:remove:Continue survived.)
    other = _ray("RayCluster", "r" * 60).replace("apiVersion: ray.io/v1", "apiVersion: example.com/v1")
    assert scan(tmp_path, other, "ray-cluster-name") == []
    assert len(scan(tmp_path, _ray("RayCluster", "r" * 60), "ray-cluster-name")) == 1
