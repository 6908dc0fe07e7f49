"""blob-volume-handle: handles that are not strings, the segment count at, below and above 4, the
container segment only when there is a third segment, and StorageClasses (no handle)."""

from __future__ import annotations

from rayfleet.findings import ObjectRef
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies.blob_volume_handle import POLICY
from rayfleet.subjects import ReleaseObjects


def pv(name: str, handle: str, container: str | None = None) -> str:
    attrs = f", volumeAttributes: {{containerName: {container}}}" if container else ""
    return (f"apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\n"
            f"spec: {{csi: {{driver: blob.csi.azure.com, volumeHandle: {handle}{attrs}}}}}\n")


def run(*docs: str):
    release = ReleaseObjects(objects=tuple(objects_from_text("---\n".join(docs), "m.yaml")),
                             settings=PolicySettings(), kube_version="1.33")
    return [(v.message, v.obj, v.path, v.value) for v in POLICY.check(release)]


def ref(name: str) -> ObjectRef:
    return ObjectRef("v1", "PersistentVolume", None, name)


def test_handles_that_are_not_strings_are_the_schemas_to_report():
    assert run(pv("a", "5"), pv("b", "5"), pv("c", "''"), pv("d", "''"), pv("e", "null"), pv("f", "null")) == []


def test_a_storage_class_has_no_handle():
    sc = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: a}\nprovisioner: blob.csi.azure.com\n"
          "spec: {csi: {volumeHandle: h}}\n")
    assert run(sc, pv("b", "h")) == []


def test_segments_at_below_and_above_four():
    assert run(pv("two", "rg#acct", container="c"), pv("one", "plain", container="c"),
               pv("four", "rg#acct#c#uuid", container="c")) == []
    handle = "rg#acct#c#uuid#ns"
    assert run(pv("five", f"'{handle}'", container="c")) == [
        (f"PersistentVolume 'five' volumeHandle {handle!r} has 5 #-separated segments; the driver reads a fifth as "
         "a secret namespace (at most 4)", ref("five"), "spec.csi.volumeHandle", handle)]


def test_the_third_segment_is_the_container():
    assert run(pv("three", "rg#acct#data", container="data"), pv("nocontainer", "rg#acct#x")) == []
    assert run(pv("other", "rg#acct#data", container="logs")) == [
        ("PersistentVolume 'other' volumeHandle 'rg#acct#data' names container 'data' but containerName is 'logs'",
         ref("other"), "spec.csi.volumeHandle", "rg#acct#data")]


def test_a_reused_handle_names_the_first_owner():
    assert run(pv("a", "h1"), pv("b", "h1"), pv("c", "h1"), pv("d", "h2")) == [
        ("PersistentVolume 'b' reuses volumeHandle 'h1' of PersistentVolume 'a'; the second mount on a node fails",
         ref("b"), "spec.csi.volumeHandle", "h1"),
        ("PersistentVolume 'c' reuses volumeHandle 'h1' of PersistentVolume 'a'; the second mount on a node fails",
         ref("c"), "spec.csi.volumeHandle", "h1")]
