"""preflight-blob-csi-version straight on ``LiveCluster`` facts (no API server): which DaemonSet and
container carry the driver's version (the real csi-blob-node has sidecars whose tags are other
versions), the floor of each release line at, below and above it, odd tags, and every field of
both findings (the error and the "cannot tell" warning)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.policies import preflight_blob_csi_version as policy
from rayfleet.runner import check
from rayfleet.subjects import ClusterFacts, LiveCluster, ReleaseObjects

MCR = "mcr.microsoft.com/oss/v2/kubernetes-csi"
SIDECARS = [{"name": "liveness-probe", "image": f"{MCR}/livenessprobe:v2.15.0"},
            {"name": "node-driver-registrar", "image": f"{MCR}/csi-node-driver-registrar:v2.13.0"}]


def node_ds(tag: str = "v1.26.4", *, name: str = "csi-blob-node", namespace: str = "kube-system",
            container: str = "blob", image: str | None = None) -> dict:
    """The node plugin as AKS runs it: two sidecars (other versions) before the ``blob`` container."""
    blob = {"name": container, "image": image or f"{MCR}/blob-csi:{tag}"}
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"template": {"spec": {"containers": [*SIDECARS, blob]}}}}


def other_ds(name: str, *containers: dict) -> dict:
    return {"metadata": {"name": name, "namespace": "tools"},
            "spec": {"template": {"spec": {"containers": list(containers)}}}}


@functools.cache
def _fleet(path: Path):
    return load_fleet(path)


def live(example_fleet: Path, *daemon_sets: dict, manifest: str | None = None) -> LiveCluster:
    fleet = _fleet(example_fleet)
    release = None if manifest is None else ReleaseObjects(
        objects=objects_from_text(manifest, "m.yaml"), settings=PolicySettings.from_dict({}), kube_version="1.33")
    facts = ClusterFacts(server="https://127.0.0.1", version={"gitVersion": "v1.33.0"}, crds={}, csi_driver=None,
                         webhook_configurations=[], nodes=[], namespace=None, daemon_sets=list(daemon_sets))
    return LiveCluster(region=fleet.regions[0], cluster=facts, release=release, fleet=fleet)


def error_message(version: str, image: str, need: str) -> str:
    return (f"the Blob CSI driver runs {version} ({image}), which cannot mount with the workload identity token "
            f"alone (mountWithWorkloadIdentityToken): it needs {need}")


@pytest.mark.parametrize(("tag", "need"), [
    ("v1.25.5", "v1.25.6 on its 1.25 line"),   # one below the 1.25 floor
    ("v1.25.0", "v1.25.6 on its 1.25 line"),
    ("v1.26.2", "v1.26.3 on its 1.26 line"),   # one below the 1.26 floor
    ("v1.24.9", "v1.25.6 or later"),           # a line with no token mounts at all
    ("v1.2.9", "v1.25.6 or later"),
    ("v0.25.9", "v1.25.6 or later"),           # major 0: no line of ours, even with minor 25
    ("v0.26.5", "v1.25.6 or later"),
    ("1.25.5", "v1.25.6 on its 1.25 line"),    # a tag without the v
    ("v1.26.2-aks.1", "v1.26.3 on its 1.26 line"),  # a suffixed tag is read by its numbers
])
def test_too_old_a_driver_is_an_error_with_every_field(example_fleet, tag, need) -> None:
    view = live(example_fleet, node_ds(tag))
    [f] = check([policy.POLICY], view)
    version = "v" + tag.lstrip("v").split("-")[0]
    assert f.message == error_message(version, f"{MCR}/blob-csi:{tag}", need)
    assert (f.policy, f.severity, f.region) == ("preflight-blob-csi-version", Severity.ERROR, view.region.name)
    assert f.obj == ObjectRef("apps/v1", "DaemonSet", "kube-system", "csi-blob-node")
    assert f.path == "spec.template.spec.containers"


@pytest.mark.parametrize("tag", ["v1.25.6", "v1.25.7", "v1.26.3", "v1.26.4", "v1.26.16", "v1.27.0", "v1.27.1",
                                 "v1.28.0", "v2.0.0", "v2.24.0", "1.27.0", "v1.27.0-rc.1"])
def test_a_driver_at_or_above_its_lines_floor_passes(example_fleet, tag) -> None:
    assert check([policy.POLICY], live(example_fleet, node_ds(tag))) == []


@pytest.mark.parametrize(("version", "floor"), [
    ((1, 25, 0), (1, 25, 6)), ((1, 25, 99), (1, 25, 6)), ((1, 26, 0), (1, 26, 3)),
    ((1, 27, 0), (1, 27, 0)), ((1, 27, 5), (1, 27, 0)), ((1, 40, 0), (1, 27, 0)), ((2, 0, 0), (1, 27, 0)),
    ((1, 24, 9), None), ((1, 1, 0), None), ((0, 25, 9), None), ((0, 26, 9), None), ((0, 27, 0), None),
    ((2, 25, 0), (1, 27, 0)),
])
def test_floor_of_each_release_line(version, floor) -> None:
    assert policy.floor_for(version) == floor


def test_the_version_is_the_blob_containers_not_a_sidecars(example_fleet) -> None:
    # The sidecars carry v2.x tags, which would pass: only the blob container counts.
    [f] = check([policy.POLICY], live(example_fleet, node_ds("v1.24.0")))
    assert "runs v1.24.0 " in f.message


def test_a_mirrored_image_in_csi_blob_node_is_found_by_the_container_name(example_fleet) -> None:
    image = "myacr.azurecr.io/mirror/blobplugin:v1.24.1"
    view = live(example_fleet, node_ds(image=image))
    [f] = check([policy.POLICY], view)
    assert f.message == error_message("v1.24.1", image, "v1.25.6 or later")
    assert f.obj == ObjectRef("apps/v1", "DaemonSet", "kube-system", "csi-blob-node")


def test_a_self_managed_driver_is_found_by_its_image_whatever_its_names(example_fleet) -> None:
    ds = node_ds("v1.26.1", name="blob-node-selfmanaged", namespace="storage", container="driver")
    [f] = check([policy.POLICY], live(example_fleet, ds))
    assert f.message == error_message("v1.26.1", f"{MCR}/blob-csi:v1.26.1", "v1.26.3 on its 1.26 line")
    assert f.obj == ObjectRef("apps/v1", "DaemonSet", "storage", "blob-node-selfmanaged")


def test_a_blob_container_elsewhere_is_not_the_driver(example_fleet) -> None:
    # Another DaemonSet with a container called "blob" (and a v9 tag) listed first is not the driver.
    cache = other_ds("blob-cache", {"name": "blob", "image": "example.com/cache:v9.0.0"})
    [f] = check([policy.POLICY], live(example_fleet, cache, node_ds("v1.25.2")))
    assert f.obj.name == "csi-blob-node" and "runs v1.25.2 " in f.message


def test_csi_blob_node_without_a_versioned_blob_image_is_the_warning(example_fleet) -> None:
    unversioned = node_ds(image=f"{MCR}/blob-csi:latest")
    view = live(example_fleet, unversioned, other_ds("x", "not-a-dict", {"name": "y"}))
    [f] = check([policy.POLICY], view)
    assert f.message == ("cannot tell the Blob CSI driver's version: no csi-blob-node DaemonSet with a versioned "
                         "blob-csi image; token-only mounts need v1.25.6, v1.26.3 or v1.27.0 and later")
    assert (f.policy, f.severity, f.region) == ("preflight-blob-csi-version", Severity.WARNING, view.region.name)
    assert f.obj == ObjectRef("apps/v1", "DaemonSet", "kube-system", "csi-blob-node")
    assert f.path in ("", None)


def test_a_release_without_blob_volumes_is_not_judged(example_fleet) -> None:
    plain = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ray}\n"
             "spec: {containers: [{name: c, image: 'i:1'}]}\n")
    assert check([policy.POLICY], live(example_fleet, node_ds("v1.20.0"), manifest=plain)) == []
    assert check([policy.POLICY], live(example_fleet, manifest=plain)) == []  # nor warned about


def test_a_release_with_a_blob_storage_class_is_judged(example_fleet) -> None:
    sc = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: b}\nprovisioner: blob.csi.azure.com\n"
    [f] = check([policy.POLICY], live(example_fleet, node_ds("v1.20.0"), manifest=sc))
    assert f.severity is Severity.ERROR and "runs v1.20.0 " in f.message
