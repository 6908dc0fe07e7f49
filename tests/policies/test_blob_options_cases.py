"""Branches the fixtures of blob-container-name, blobfuse-cache-size, blobfuse-discouraged-options
and container-resource-requests do not reach: a blob volume with no containerName, NFS volumes
(no blobfuse2 options to judge), and entries that are not strings or maps."""

from __future__ import annotations

from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import (
    blob_container_name,  # blob-container-name
    blobfuse_cache_size,  # blobfuse-cache-size
    blobfuse_discouraged_options,  # blobfuse-discouraged-options
    container_resource_requests,  # container-resource-requests
)
from rayfleet.subjects import ReleaseObjects


def run(module, text: str):
    release = ReleaseObjects(objects=tuple(objects_from_text(text, "m.yaml")), settings=PolicySettings(),
                             kube_version="1.33")
    return [(v.message, v.path) for v in module.POLICY.check(release)]


def sc(name: str, parameters: str, options: str) -> str:
    return (f"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: {name}}}\n"
            f"provisioner: blob.csi.azure.com\nparameters: {parameters}\nmountOptions: {options}\n")


def test_a_blob_volume_without_container_name_is_not_judged():
    assert run(blob_container_name, sc("a", "{skuName: Premium_LRS}", "[]")) == []
    assert run(blob_container_name, sc("b", "{containerName: Bad_Name}", "[]")) == [
        ("StorageClass 'b' containerName 'Bad_Name' is not a valid blob container name (3-63 characters: lower-case "
         "letters, digits, single dashes, starting and ending with a letter or digit)", "parameters.containerName")]


def test_nfs_volumes_have_no_blobfuse_cache():
    assert run(blobfuse_cache_size, sc("nfs", "{protocol: nfs}", "[nconnect=4]")) == []
    assert run(blobfuse_cache_size, sc("fuse", "{protocol: fuse2}", "[nconnect=4]")) == [
        ("StorageClass 'fuse' uses the file cache without --cache-size-mb; blobfuse2 then fills 80% of the node's "
         "free disk", "mountOptions")]


def test_discouraged_options_skip_nfs_and_entries_that_are_not_strings():
    assert run(blobfuse_discouraged_options, sc("nfs", "{protocol: nfs}", "[--streaming]")) == []
    assert run(blobfuse_discouraged_options, sc("fuse", "{}", "[7, '-o ro --streaming=true']")) == [
        ("StorageClass 'fuse' mounts with --streaming, which is deprecated (replaced by --block-cache)",
         "mountOptions[1]")]


def test_container_entries_that_are_not_maps_are_the_schemas_to_report():
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [oops]\n"
           "  containers: [7, {name: c, image: 'i:1', resources: {limits: {cpu: '1'}}}]\n")
    assert run(container_resource_requests, pod) == [
        ("container 'c' in Pod 'p' has no memory request", "spec.containers[1].resources")]
