"""What policies look at (``rayfleet.subjects``): the version as the API server reports it, what a
region needs when its release was not rendered, and the live subjects field by field (GPU worker
groups, storage accounts, planned and existing federated credentials, cluster references and labels)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rayfleet.findings import ObjectRef, SourceLocation, Violation
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.subjects import (
    AksCluster,
    AksSettings,
    ArcCluster,
    ClusterFacts,
    CredentialMatch,
    ExistingCredential,
    IdentityCredentials,
    LiveCluster,
    ManagedIdentityRef,
    PlannedCredential,
    ReleaseObjects,
    StorageAccount,
    StorageTarget,
    cluster_ref,
    credential_ref,
    required_crds,
    service_account_ref,
    subject_for,
)


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


# --- the live subjects field by field -------------------------------------------------------------

RAY_GPU = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc, namespace: ray}
spec:
  headGroupSpec:
    template:
      spec:
        containers: [{name: head, image: "r:1", resources: {limits: {nvidia.com/gpu: 1}}}]
  workerGroupSpecs:
    - groupName: gpu
      template:
        spec:
          containers: [{name: w, image: "r:1", resources: {limits: {nvidia.com/gpu: 2}}}]
    - groupName: cpu
      template:
        spec:
          containers: [{name: w, image: "r:1"}]
    - groupName: gpu2
      template:
        spec:
          containers: [{name: w, image: "r:1", resources: {limits: {nvidia.com/gpu: 1}}}]
"""


def plain_facts() -> ClusterFacts:
    return ClusterFacts(server="https://127.0.0.1", version={"gitVersion": "v1.33.0"}, crds={}, csi_driver=None,
                        webhook_configurations=[], nodes=[], namespace=None)


def test_a_release_keeps_its_own_copy_of_the_objects_given_as_a_list() -> None:
    given = objects_from_text(RAY_GPU, "m.yaml")
    rel = ReleaseObjects(objects=list(given), settings=PolicySettings.from_dict({}), kube_version="1.33")
    assert isinstance(rel.objects, tuple) and rel.objects == tuple(given)
    assert ClusterFacts(server="s", version={}, crds={}, csi_driver=None, webhook_configurations=[], nodes=[],
                        namespace=None).daemon_sets == []


def test_gpu_worker_templates_are_the_worker_groups_asking_for_gpus_once_each(example_fleet: Path) -> None:
    fleet = load_fleet(example_fleet)
    # the same cluster twice (two files rendered it): its groups count once
    twice = ReleaseObjects(objects=(*objects_from_text(RAY_GPU, "a.yaml"), *objects_from_text(RAY_GPU, "b.yaml")),
                           settings=PolicySettings.from_dict({}), kube_version="1.33")
    live = LiveCluster(region=fleet.regions[0], cluster=plain_facts(), release=twice, fleet=fleet)
    found = live.gpu_worker_templates()
    assert [(t.obj.name, t.group, t.role, t.gpus) for t in found] == [("rc", "gpu", "worker", 2),
                                                                      ("rc", "gpu2", "worker", 1)]
    assert all(t.obj.origin.file == "a.yaml" for t in found)  # the first of the namesakes


def test_live_cluster_fleet_source_for_a_region_the_fleet_lacks(example_fleet: Path) -> None:
    fleet = load_fleet(example_fleet)
    other = load_fleet(example_fleet).regions[1]
    stranger = replace(other, name="nowhere")
    live = LiveCluster(region=stranger, cluster=plain_facts(), fleet=fleet)
    assert live.fleet_source("cluster") == SourceLocation(str(fleet.path))  # no line: the file itself
    second = LiveCluster(region=fleet.regions[1], cluster=plain_facts(), fleet=fleet)
    assert second.fleet_source() == SourceLocation(str(fleet.path), fleet.document.line_of(("regions", 1)))
    assert second.region_name == "swedencentral"


def _account(example_fleet: Path, account: dict, *, document: bool = True) -> StorageAccount:
    fleet = load_fleet(example_fleet)
    if not document:
        fleet = replace(fleet, document=None)
    obj = objects_from_text("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: blob}\n"
                            "provisioner: blob.csi.azure.com\n", "sc.yaml")[0]
    target = StorageTarget(region=fleet.regions[2].name, account="acct", resource_group="rg", subscription_id="s",
                           dynamic=True, adls=False, obj=obj)
    return StorageAccount(fleet=fleet, region=fleet.regions[2], target=target, account=account)


@pytest.mark.parametrize(("account", "hns"), [
    ({"properties": {"isHnsEnabled": True}}, True),
    ({"properties": {"isHnsEnabled": False}}, False),
    ({"properties": {"isHnsEnabled": "true"}}, False),  # ARM sends a boolean; anything else is not one
    ({"properties": {}}, False),
    ({"properties": "odd"}, False),
    ({}, False),
])
def test_storage_account_hierarchical_namespace_as_arm_reports_it(example_fleet: Path, account: dict,
                                                                  hns: bool) -> None:
    assert _account(example_fleet, account).hns_enabled is hns


def test_storage_account_references_and_fleet_source(example_fleet: Path) -> None:
    view = _account(example_fleet, {})
    assert view.region_name == "westus3" and view.principals == () and view.assignments is None
    assert view.account_ref.kind == "StorageAccount" and view.account_ref.name == "acct"
    assert view.account_ref.api_version.startswith("Microsoft.Storage/") and view.account_ref.namespace is None
    assert view.object_ref == ObjectRef("storage.k8s.io/v1", "StorageClass", None, "blob")
    line = view.fleet.document.line_of(("regions", 2, "storage"))
    assert line and view.fleet_source() == SourceLocation(str(view.fleet.path), line)
    bare = _account(example_fleet, {}, document=False)
    assert bare.fleet_source() == SourceLocation(str(bare.fleet.path))
    assert view.finding_context(Violation("m", region="westus3")).region == "westus3"


def _planned(**changes: object) -> PlannedCredential:
    fields = {"region": "eastus2", "client_id": "cid", "identity_name": "id-ray", "resource_id": None,
              "resource_group": "rg", "subscription_id": "sub", "issuer": "https://issuer/a/",
              "namespace": "ray", "service_account": "ray-sa", "name": "fic-eastus2"}
    return PlannedCredential(**{**fields, **changes})


def test_planned_credential_subject_label_and_service_account() -> None:
    cred = _planned()
    assert cred.subject == "system:serviceaccount:ray:ray-sa" == subject_for("ray", "ray-sa")
    assert cred.identity_label == "id-ray (cid)" and _planned(identity_name=None).identity_label == "cid"
    assert cred.audience == "api://AzureADTokenExchange"
    assert service_account_ref(cred) == ObjectRef("v1", "ServiceAccount", "ray", "ray-sa")
    ref = credential_ref("fic-1")
    assert (ref.kind, ref.namespace, ref.name) == ("FederatedIdentityCredential", None, "fic-1")
    assert ref.api_version.startswith("Microsoft.ManagedIdentity/")


@pytest.mark.parametrize(("existing", "exact"), [
    (None, False),
    (ExistingCredential("x", "https://issuer/a/", "system:serviceaccount:ray:ray-sa", ()), True),
    (ExistingCredential("x", "https://issuer/a", "system:serviceaccount:ray:ray-sa", ()), False),
    (ExistingCredential("x", "https://issuer/a/", "system:serviceaccount:ray:other", ()), False),
])
def test_a_credential_match_is_exact_only_on_the_same_issuer_and_subject(existing, exact: bool) -> None:
    assert CredentialMatch(_planned(), "https://issuer/a/", existing).exact is exact


def test_managed_identity_path_label_and_issuer_regions(example_fleet: Path) -> None:
    ref = ManagedIdentityRef("sub", "rg", "id-ray", "cid", "eastus2", SourceLocation("f.yaml", 3))
    assert ref.path == ("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                        "userAssignedIdentities/id-ray")
    assert ref.label == "managed identity rg/id-ray (cid)" and ref.planned == []
    view = IdentityCredentials(fleet=load_fleet(example_fleet), identity=ref, existing=(), matches=(), unused=(),
                               issuers={"eastus2": "https://a/", "westus3": "https://b/"})
    assert view.region_of_issuer("https://b/") == "westus3" and view.region_of_issuer("https://c/") is None
    assert view.finding_context(Violation("m", region="eastus2")).region == "eastus2"


def test_aks_and_arc_cluster_references_labels_and_fleet_lines(example_fleet: Path) -> None:
    fleet = load_fleet(example_fleet)
    settings = AksSettings(oidc_enabled=True, issuer=None, workload_identity=True, blob_driver=True)
    aks = AksCluster(fleet, fleet.regions[1], settings)
    assert aks.obj == cluster_ref(fleet.regions[1])
    assert (aks.obj.kind, aks.obj.namespace, aks.obj.name) == ("ManagedCluster", None, "rayfleet-sdc")
    assert aks.obj.api_version.startswith("Microsoft.ContainerService/")
    assert aks.label == "AKS cluster rg-rayfleet-sdc/rayfleet-sdc" and aks.region_name == "swedencentral"
    line = fleet.document.line_of(("regions", 1, "cluster", "oidcIssuerUrl"))
    assert line and aks.fleet_line("oidcIssuerUrl") == SourceLocation(str(fleet.path), line)
    context = aks.finding_context(Violation("m", region="swedencentral"))
    assert (context.region, context.release, context.obj, context.default_source) == ("swedencentral", None,
                                                                                       None, None)
    arc = ArcCluster(fleet, fleet.regions[1], settings)
    assert (arc.obj.kind, arc.obj.namespace, arc.obj.name) == ("ConnectedCluster", None, "rayfleet-sdc")
    assert arc.obj.api_version.startswith("Microsoft.Kubernetes/")
    assert arc.label == f"Arc-enabled cluster {fleet.regions[1].cluster.resource_id}"
    assert settings.control_plane_principals == ()
