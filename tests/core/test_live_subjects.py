"""What preflight policies look at (``rayfleet.subjects.LiveCluster``/``ClusterFacts``): the version
as the API server reports it, and what a region needs when its release was not rendered."""

from __future__ import annotations

import pytest
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.subjects import ClusterFacts, LiveCluster, ReleaseObjects, StorageTarget, required_crds


def facts(version: dict) -> ClusterFacts:
    return ClusterFacts(server="https://127.0.0.1", version=version, crds={}, csi_driver=None,
                        webhook_configurations=[], nodes=[], namespace=None)


@pytest.mark.parametrize(("version", "git", "minor"), [
    ({"gitVersion": "v1.33.2", "major": "1", "minor": "33"}, "v1.33.2", "1.33"),
    ({"gitVersion": "v1.29.10-gke.1", "major": "1", "minor": "29"}, "v1.29.10-gke.1", "1.29"),
    ({"major": "1", "minor": "31+"}, "v1.31+", "1.31"),  # no gitVersion: from major/minor, '+' dropped
    ({"gitVersion": "weird", "major": "1", "minor": "30+"}, "weird", "1.30"),
    ({"gitVersion": "weird", "major": "one", "minor": "30"}, "weird", None),
    ({"gitVersion": "weird", "major": "1", "minor": "x"}, "weird", None),
])
def test_cluster_version_as_the_api_server_reports_it(version, git, minor) -> None:
    cluster = facts(version)
    assert cluster.git_version == git and cluster.minor == minor


def release(text: str) -> ReleaseObjects:
    return ReleaseObjects(objects=objects_from_text(text, "m.yaml"), settings=PolicySettings.from_dict({}),
                          kube_version="1.33")


RAYJOB = "apiVersion: ray.io/v1\nkind: RayJob\nmetadata: {name: j, namespace: ray}\nspec: {entrypoint: x}\n"
BLOB_SC = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: b}\n"
           "provisioner: blob.csi.azure.com\n")
BLOB_PV = ("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
           "spec: {csi: {driver: blob.csi.azure.com, volumeHandle: h}}\n")
OTHER_SC = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: d}\nprovisioner: disk.csi.azure.com\n"
WI_POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ray\n  labels: {azure.workload.identity/use: "
          "'true'}\nspec: {containers: [{name: c, image: 'i:1'}]}\n")
PLAIN_POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ray}\n"
             "spec: {containers: [{name: c, image: 'i:1'}]}\n")


def live(example_fleet, rendered: ReleaseObjects | None) -> LiveCluster:
    fleet = load_fleet(example_fleet)
    return LiveCluster(region=fleet.regions[0], cluster=facts({"gitVersion": "v1.33.0"}), release=rendered,
                       fleet=fleet)


def test_a_region_whose_release_was_not_rendered_is_assumed_to_need_everything(example_fleet) -> None:
    view = live(example_fleet, None)
    assert view.uses_blob_csi() is True and view.uses_workload_identity() is True
    assert view.required_crds() == ["rayclusters.ray.io"] and view.gpu_worker_templates() == []


@pytest.mark.parametrize(("text", "blob"), [(BLOB_SC, True), (BLOB_PV, True), (OTHER_SC, False),
                                            (PLAIN_POD, False)])
def test_blob_csi_is_needed_only_by_a_release_that_mounts_it(example_fleet, text, blob) -> None:
    assert live(example_fleet, release(text)).uses_blob_csi() is blob


@pytest.mark.parametrize(("text", "uses"), [(WI_POD, True), (PLAIN_POD, False)])
def test_workload_identity_is_needed_only_by_a_labelled_pod(example_fleet, text, uses) -> None:
    assert live(example_fleet, release(text)).uses_workload_identity() is uses


def test_required_crds_are_raycluster_and_the_ray_kinds_rendered() -> None:
    assert required_crds(None) == ["rayclusters.ray.io"]
    assert required_crds(release(RAYJOB)) == ["rayclusters.ray.io", "rayjobs.ray.io"]
    assert required_crds(release(PLAIN_POD)) == ["rayclusters.ray.io"]


@pytest.mark.parametrize(("subscription", "group", "resource_id"), [
    ("sub-1", "rg-ray", "/subscriptions/sub-1/resourceGroups/rg-ray/providers/Microsoft.Storage/storageAccounts/acct"),
    ("sub-1", None, None),  # without the resource group the account cannot be named as a scope
    (None, "rg-ray", None),
    (None, None, None),
])
def test_a_storage_account_is_a_scope_only_with_subscription_and_group(subscription, group, resource_id) -> None:
    target = StorageTarget(region="eastus2", account="acct", resource_group=group, subscription_id=subscription,
                           dynamic=True, adls=False, obj=objects_from_text(BLOB_SC, "m.yaml")[0])
    assert target.resource_id == resource_id


# --- ReleaseObjects and FleetView: lookups and where a violation points -------------------------

TWO = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: ray}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: other}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ray}
spec: {template: {spec: {containers: [{name: c, image: "i:1"}]}}}
"""


def test_release_lookups() -> None:
    rel = release(TWO)
    assert [o.kind for o in rel.of_kind("Secret", "ConfigMap")] == ["Secret", "ConfigMap", "ConfigMap"]
    assert rel.of_kind("Pod") == [] and rel.region_name is None
    assert rel.find("ConfigMap", "c").namespace == "ray"  # no namespace asked: the first
    assert rel.find("ConfigMap", "c", "other").namespace == "other"
    assert rel.find("Secret", "s", "ray").name == "s"  # an object without a namespace matches any
    assert rel.find("ConfigMap", "c", "elsewhere") is None and rel.find("ConfigMap", "x") is None
    deployment = rel.find("Deployment", "d")
    assert [t.role for t in rel.templates_of(deployment)] == ["template"]
    stranger = objects_from_text(TWO, "again.yaml")[3]  # not one of the release's objects: found anew
    assert [t.obj.name for t in rel.templates_of(stranger)] == ["d"]
    assert [t.obj.name for t in rel.pod_templates()] == ["d"]


def test_a_violation_points_at_its_own_object_even_among_namesakes() -> None:
    from rayfleet.findings import ObjectRef, Violation

    rel = release(TWO + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ray}\n")
    first, second = rel.find("ConfigMap", "c", "ray"), rel.of_kind("ConfigMap")[2]
    assert rel.object_for(second.ref) is second and rel.object_for(first.ref) is first
    assert rel.object_for(ObjectRef("v1", "ConfigMap", "ray", "c")) is first  # an equal ref: the first
    assert rel.object_for(ObjectRef("v1", "ConfigMap", "ray", "nope")) is None and rel.object_for(None) is None
    context = rel.finding_context(Violation("m", second.ref))
    assert context.obj is second and context.release is rel and context.region is None
    assert context.default_source is None


def test_fleet_and_live_contexts(example_fleet) -> None:
    from rayfleet.findings import SourceLocation, Violation
    from rayfleet.subjects import FleetView

    fleet = load_fleet(example_fleet)
    rel = release(TWO)
    cm = rel.of_kind("ConfigMap")[0]
    view = FleetView(fleet, {"eastus2": rel})
    context = view.finding_context(Violation("m", cm.ref, region="eastus2"))
    assert (context.release, context.obj, context.region) == (rel, cm, "eastus2")
    assert context.default_source == SourceLocation(str(fleet.path))
    elsewhere = view.finding_context(Violation("m", cm.ref, region="westus3"))
    assert (elsewhere.release, elsewhere.obj, elsewhere.region) == (None, None, "westus3")
    live = LiveCluster(region=fleet.regions[0], cluster=facts({}), release=rel, fleet=fleet)
    context = live.finding_context(Violation("m", cm.ref))
    assert (context.obj, context.region, context.default_source) == (cm, fleet.regions[0].name,
                                                                      SourceLocation(str(fleet.path)))
    assert live.finding_context(Violation("m", region="westus3")).region == "westus3"
    bare = LiveCluster(region=fleet.regions[0], cluster=facts({}))
    context = bare.finding_context(Violation("m", cm.ref))
    assert (context.release, context.obj, context.default_source) == (None, None, None)
    assert bare.fleet_source("cluster") is None
    line = fleet.document.line_of(("regions", 0, "cluster"))
    assert line and live.fleet_source("cluster") == SourceLocation(str(fleet.path), line)
