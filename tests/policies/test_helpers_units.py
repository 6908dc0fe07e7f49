"""rayfleet.policies._helpers, function by function: what each shared helper returns for the inputs
the policies hand it (blob CSI objects, mount options, pod templates, image references)."""

from __future__ import annotations

import dataclasses

import pytest
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import _helpers as h
from rayfleet.subjects import ReleaseObjects

BLOB = "blob.csi.azure.com"


def release(text: str) -> ReleaseObjects:
    return ReleaseObjects(objects=tuple(objects_from_text(text, "m.yaml")), settings=PolicySettings(),
                          kube_version="1.33")


def templates(text: str):
    return list(release(text).pod_templates())


RAY = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray, namespace: ray}
spec:
  enableInTreeAutoscaling: false
  autoscalerOptions: {image: 'auto:1'}
  headGroupSpec:
    rayStartParams: {num-cpus: '0'}
    template:
      metadata: {labels: {azure.workload.identity/use: 'true'}}
      spec:
        containers: [{name: ray-head, image: 'rayproject/ray:2.52.0'}, {name: side, image: 'side:1'}]
  workerGroupSpecs:
  - groupName: gpu
    rayStartParams: {num-gpus: '1'}
    template:
      spec:
        serviceAccountName: ray-worker
        containers: [{name: w, image: 'rayproject/ray:2.52.0-gpu'}]
  - groupName: cpu
    template:
      spec:
        serviceAccount: ray-legacy
        containers: [not-a-map]
  - groupName: bare
    template:
      metadata: {labels: {azure.workload.identity/use: 'false'}}
      spec:
        containers: []
"""
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ray}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
        env:
        - {name: A, value: '1'}
        - not-a-map
        - {name: [x], value: '2'}
        - {name: B, valueFrom: {secretKeyRef: {name: s, key: k}}}
        resources: {requests: {cpu: '2'}, limits: {nvidia.com/gpu: 1}}
      - {image: nameless:1}
      volumes:
      - {name: scratch, emptyDir: {}}
      - name: files
        csi: {driver: file.csi.azure.com}
      - name: data
        csi:
          driver: blob.csi.azure.com
          nodePublishSecretRef: {name: creds}
          volumeAttributes: {containerName: data, mountOptions: '-o allow_other'}
      - name: more
        csi:
          driver: blob.csi.azure.com
          volumeAttributes: {mountOptions: [--a, --b]}
      - name: noattrs
        csi: {driver: blob.csi.azure.com}
"""


def test_as_dict_and_as_list_pass_their_type_and_replace_anything_else_by_empty():
    assert h.as_dict({"a": 1}) == {"a": 1} and h.as_dict([1]) == {} and h.as_dict(None) == {}
    assert h.as_list([1, 2]) == [1, 2] and h.as_list({"a": 1}) == [] and h.as_list("ab") == []


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("  ", False), ("x", True),
                                                 (0, True), (False, True), (" v ", True)])
def test_is_set(value, expected):
    assert h.is_set(value) is expected


STORAGE = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: sc}
provisioner: blob.csi.azure.com
parameters: {ClientID: abc, protocol: fuse2, empty: '', MSIEndpoint: null}
mountOptions: [-o allow_other]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: disk}
provisioner: disk.csi.azure.com
parameters: {skuName: Premium_LRS}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: bare}
provisioner: blob.csi.azure.com
parameters: [not, a, map]
mountOptions: {not: a list}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv}
spec:
  mountOptions: [--cache-size-mb=10]
  csi:
    driver: blob.csi.azure.com
    volumeHandle: h
    volumeAttributes: {protocol: nfs, containerName: c}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: disk-pv}
spec:
  csi: {driver: disk.csi.azure.com, volumeHandle: d}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: nfs-pv}
spec:
  nfs: {server: x, path: /}
"""


def test_blob_configs_are_blob_storage_classes_and_static_pvs_only():
    configs = list(h.blob_configs(release(STORAGE)))
    assert [(c.obj.kind, c.obj.name) for c in configs] == [("StorageClass", "sc"), ("StorageClass", "bare"),
                                                           ("PersistentVolume", "pv")]
    sc, bare, pv = configs
    assert (sc.path, sc.params, sc.mount_options, sc.mount_options_path, sc.label, sc.csi_path, sc.csi) == (
        "parameters", {"ClientID": "abc", "protocol": "fuse2", "empty": "", "MSIEndpoint": None},
        ["-o allow_other"], "mountOptions", None, None, None)
    assert (bare.params, bare.mount_options) == ({}, [])
    assert (pv.path, pv.params, pv.mount_options, pv.mount_options_path, pv.csi_path) == (
        "spec.csi.volumeAttributes", {"protocol": "nfs", "containerName": "c"}, ["--cache-size-mb=10"],
        "spec.mountOptions", "spec.csi")
    assert pv.csi == {"driver": BLOB, "volumeHandle": "h",
                      "volumeAttributes": {"protocol": "nfs", "containerName": "c"}}
    assert (sc.is_storage_class, sc.is_pv, pv.is_storage_class, pv.is_pv) == (True, False, False, True)
    assert (sc.what, pv.what) == ("StorageClass 'sc'", "PersistentVolume 'pv'")


def test_blob_config_keys_are_found_without_case_and_blank_values_are_not_set():
    sc = next(h.blob_configs(release(STORAGE)))
    assert sc.get("clientid") == ("ClientID", "abc") and sc.get("CLIENTID") == ("ClientID", "abc")
    assert sc.get("protocol") == ("protocol", "fuse2")
    assert sc.get("empty") == ("empty", "") and sc.get("msiendpoint") == ("MSIEndpoint", None)
    assert sc.get("missing") is None
    assert sc.get_set("clientID") == ("ClientID", "abc")
    assert sc.get_set("empty") is None and sc.get_set("MSIEndpoint") is None and sc.get_set("missing") is None
    assert sc.key_path("ClientID") == "parameters.ClientID"
    assert sc.key_path("csi.storage.k8s.io/x") == 'parameters["csi.storage.k8s.io/x"]'


def test_inline_csi_volumes_are_those_of_the_driver_asked_for():
    found = list(h.inline_csi_volumes(release(DEPLOY), BLOB))
    assert [(tpl.obj.name, path, vol["name"]) for tpl, path, vol in found] == [
        ("web", "spec.template.spec.volumes[2]", "data"), ("web", "spec.template.spec.volumes[3]", "more"),
        ("web", "spec.template.spec.volumes[4]", "noattrs")]
    files = list(h.inline_csi_volumes(release(DEPLOY), "file.csi.azure.com"))
    assert [(path, vol["name"]) for _, path, vol in files] == [("spec.template.spec.volumes[1]", "files")]


def test_inline_blob_configs_read_volume_attributes_like_a_static_pv():
    data, more, noattrs = h.inline_blob_configs(release(DEPLOY))
    base = "spec.template.spec.volumes[2]"
    assert (data.obj.name, data.path, data.params, data.mount_options, data.mount_options_path, data.csi_path) == (
        "web", f"{base}.csi.volumeAttributes", {"containerName": "data", "mountOptions": "-o allow_other"},
        ["-o allow_other"], f"{base}.csi.volumeAttributes.mountOptions", f"{base}.csi")
    assert data.csi["nodePublishSecretRef"] == {"name": "creds"}
    assert data.what == data.label == "inline blob volume 'data' in Deployment 'web'"
    assert data.is_pv is False and data.is_storage_class is False
    assert more.mount_options == [] and more.what == "inline blob volume 'more' in Deployment 'web'"
    assert noattrs.params == {} and noattrs.mount_options == []


@pytest.mark.parametrize(("protocol", "expected"), [(None, True), ("fuse", True), ("fuse2", True), ("FUSE2", True),
                                                    ("", True), ("nfs", False), ("aznfs", False)])
def test_is_blobfuse(protocol, expected):
    params = {} if protocol is None else {"Protocol": protocol}
    obj = objects_from_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "m.yaml")[0]
    config = h.BlobVolumeConfig(obj, "parameters", params, [], "mountOptions")
    assert h.is_blobfuse(config) is expected


def test_mount_option_flags_split_words_and_cut_at_the_first_equals():
    options = ["-o allow_other", 7, "--cache-size-mb=10=2", "--x"]
    assert list(h.mount_option_flags(options)) == [
        (0, "-o", "-o allow_other"), (0, "allow_other", "-o allow_other"),
        (2, "--cache-size-mb", "--cache-size-mb=10=2"), (3, "--x", "--x")]
    assert list(h.mount_option_flags([])) == []


@pytest.mark.parametrize(("options", "expected"), [
    (["-o allow_other"], True), (["-oallow_other"], True), (["-o=allow_other"], True),
    (["ro,allow_other"], True), ([3, "allow_other"], True), ([3, "-o ro"], False),
    (["--allow-other"], False), (["-o allow_others"], False), ([], False)])
def test_has_allow_other(options, expected):
    assert h.has_allow_other(options) is expected


def test_env_entries_skip_entries_that_are_not_named_maps():
    container = next(c for c, _ in templates(DEPLOY)[0].containers())
    assert [(i, name) for i, name, _ in h.env_entries(container)] == [(0, "A"), (3, "B")]
    assert list(h.env_entries({"env": "x"})) == []


def test_container_label_and_where_name_the_pod_group():
    assert h.container_label({"name": "web"}) == "container 'web'" and h.container_label({}) == "container '?'"
    head, gpu, _, _ = templates(RAY)
    assert h.where(head) == "head of RayCluster 'ray'"
    assert h.where(gpu) == "worker group 'gpu' of RayCluster 'ray'"
    [web] = templates(DEPLOY)
    assert h.where(web) == "Deployment 'web'"
    job = templates("apiVersion: ray.io/v1\nkind: RayJob\nmetadata: {name: j}\nspec:\n  entrypoint: x\n"
                    "  submitterPodTemplate: {spec: {containers: [{name: s, image: 's:1'}]}}\n")
    assert [(t.role, h.where(t)) for t in job] == [("submitter", "submitter pod of RayJob 'j'")]


def test_service_account_and_workload_identity_label_decide_without_workload_identity():
    head, gpu, cpu, bare = templates(RAY)
    assert [h.sets_service_account(t) for t in (head, gpu, cpu, bare)] == [False, True, True, False]
    # head: labelled; gpu/cpu: own ServiceAccount; bare: label "false" and no ServiceAccount
    assert [h.without_workload_identity(t) for t in (head, gpu, cpu, bare)] == [False, False, False, True]
    [web] = templates(DEPLOY)  # not a Ray pod: another policy's business
    assert h.sets_service_account(web) is False and h.without_workload_identity(web) is False
    assert [t.role for t in h.ray_templates(release(RAY + "---\n" + DEPLOY))] == ["head", "worker", "worker", "worker"]


def test_resource_value_and_ray_start_params():
    container = next(c for c, _ in templates(DEPLOY)[0].containers())
    assert h.resource_value(container, "requests", "cpu") == "2"
    assert h.resource_value(container, "limits", "nvidia.com/gpu") == 1
    assert h.resource_value(container, "limits", "cpu") is None and h.resource_value({}, "requests", "cpu") is None
    head, gpu, cpu, _ = templates(RAY)
    assert h.ray_start_params(head) == {"num-cpus": "0"} and h.ray_start_params(gpu) == {"num-gpus": "1"}
    assert h.ray_start_params(cpu) == {} and h.ray_start_params(templates(DEPLOY)[0]) == {}


@pytest.mark.parametrize(("image", "registry", "repository", "tag", "digest"), [
    ("ray", "docker.io", "library/ray", None, None),
    ("rayproject/ray:2.52.0", "docker.io", "rayproject/ray", "2.52.0", None),
    ("myacr.azurecr.io/ray/ray:2.9", "myacr.azurecr.io", "ray/ray", "2.9", None),
    ("LocalHost:5000/x", "localhost:5000", "x", None, None),
    ("localhost/x:1", "localhost", "x", "1", None),
    ("docker.io/library/ray@sha256:ab", "docker.io", "library/ray", None, "sha256:ab"),
    ("reg.io/a:b/c", "reg.io", "a:b/c", None, None),
    ("user/repo:t/x", "docker.io", "user/repo:t/x", None, None),
    ("ray:2.9@sha256:cd", "docker.io", "library/ray", "2.9", "sha256:cd"),
])
def test_parse_image(image, registry, repository, tag, digest):
    ref = h.parse_image(image)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.name == f"{registry}/{repository}"


def test_value_objects_are_frozen():
    ref = h.parse_image("ray")
    sc = next(h.blob_configs(release(STORAGE)))
    site = next(h.every_container(release(DEPLOY)))
    for value in (ref, sc, site):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.path = "x"  # type: ignore[misc]
    assert hash(ref) == hash(h.parse_image("ray"))


def test_every_container_adds_the_containers_kuberay_injects():
    sites = list(h.every_container(release(RAY)))
    assert [(s.path, s.who, s.tpl is not None) for s in sites] == [
        ("spec.headGroupSpec.template.spec.containers[0]", "container 'ray-head' in head of RayCluster 'ray'", True),
        ("spec.headGroupSpec.template.spec.containers[1]", "container 'side' in head of RayCluster 'ray'", True),
        ("spec.workerGroupSpecs[0].template.spec.containers[0]",
         "container 'w' in worker group 'gpu' of RayCluster 'ray'", True)]
    configured = list(h.every_container(release(RAY), configured=True))
    assert [(s.path, s.who) for s in configured[:3]] == [(s.path, s.who) for s in sites]
    [auto] = configured[3:]
    assert (auto.path, auto.who, auto.container, auto.tpl) == (
        "spec.autoscalerOptions", "the autoscaler of RayCluster 'ray'", {"image": "auto:1"}, None)
    on = release(RAY.replace("enableInTreeAutoscaling: false", "enableInTreeAutoscaling: true"))
    assert [s.path for s in h.every_container(on)][3:] == ["spec.autoscalerOptions"]


def test_container_images_are_the_template_images():
    head = templates(RAY)[0]
    assert [(path, image) for _, path, image in h.container_images(head)] == [
        ("spec.headGroupSpec.template.spec.containers[0].image", "rayproject/ray:2.52.0"),
        ("spec.headGroupSpec.template.spec.containers[1].image", "side:1")]


@pytest.mark.parametrize(("tag", "expected"), [("nightly-py311-gpu", "nightly"), ("nightly", "nightly"),
                                               ("2.52.0-py3.12-cu121-aarch64", "2.52.0"), ("gpu", "gpu"),
                                               ("abc-cuda12.1", "abc")])
def test_strip_variants(tag, expected):
    assert h.strip_variants(tag) == expected


@pytest.mark.parametrize(("image", "expected"), [
    ("rayproject/ray:2.52.0", True), ("ray", True), ("acr.io/mirror/ray-ml:1", True),
    ("anyscale/ray-llm", True), ("rayproject/ray-worker:1", False), ("ray/other", False)])
def test_is_ray_image(image, expected):
    assert h.is_ray_image(image) is expected


@pytest.mark.parametrize(("image", "expected"), [
    ("rayproject/ray", None), ("rayproject/ray:2.52.0-py311-gpu", "2.52.0"), ("rayproject/ray:v2.9.1", "2.9.1"),
    ("rayproject/ray:nightly-gpu", "nightly"), ("me/verl:py3.12-ray2.55.1-cuda13.0", "2.55.1"),
    ("me/verl:ngc-th2.6.0", None), ("me/app:2.9.0", None), ("rayproject/ray:abc123", "abc123")])
def test_ray_version_of_image(image, expected):
    assert h.ray_version_of_image(image) == expected


@pytest.mark.parametrize(("version", "expected"), [(None, False), ("", False), ("nightly", False),
                                                   ("2.52.0", True), ("v2.9.1", True)])
def test_is_release_version(version, expected):
    assert h.is_release_version(version) is expected


def test_ray_container_is_the_first_container():
    head, _, cpu, bare = templates(RAY)
    container, path = h.ray_container(head)
    assert (container["name"], path) == ("ray-head", "spec.headGroupSpec.template.spec.containers[0]")
    assert h.ray_container(cpu) is None and h.ray_container(bare) is None


def test_ray_container_is_none_when_the_first_container_is_not_a_map():
    [pod] = templates("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [oops, {name: b}]\n")
    assert h.ray_container(pod) is None
