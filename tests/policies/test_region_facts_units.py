"""rayfleet.policies._region_facts: where a region's facts are written in the fleet file and the
values files, which other region owns an identity or a storage account, and which rendered
places hand Azure a client or tenant ID."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rayfleet.findings import ObjectRef, SourceLocation
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.policies import _region_facts as rf
from rayfleet.subjects import ReleaseObjects
from rayfleet.values import ValuesStack, load_values_file

FLEET = """\
apiVersion: rayfleet.dev/v1
chart: chart
release: {name: ray, namespace: ray}
tenantId: 0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01
regions:
  - name: westus3
    location: westus3
    cluster: {name: aks-westus3, kubernetesVersion: "1.33"}
    identities:
      - {name: id-westus3, clientId: AAAAAAAA-1111-4111-8111-111111111111}
    storage: {account: stwestus3, resourceGroup: rg-westus3}
    valuesFiles: []
  - name: eastus2
    location: eastus2
    cluster: {name: aks-eastus2, kubernetesVersion: "1.33"}
    identities:
      - {name: id-other, clientId: cccccccc-3333-4333-8333-333333333333}
      - {name: id-eastus2, clientId: bbbbbbbb-2222-4222-8222-222222222222}
    storage: {account: steastus2}
    valuesFiles: []
  - name: centralus
    location: centralus
    cluster: {name: aks-centralus, kubernetesVersion: "1.33"}
    valuesFiles: []
"""
A = "aaaaaaaa-1111-4111-8111-111111111111"
B = "bbbbbbbb-2222-4222-8222-222222222222"


@pytest.fixture
def fleet(tmp_path: Path):
    (tmp_path / "chart").mkdir()
    (tmp_path / "fleet.yaml").write_text(FLEET)
    return load_fleet(tmp_path / "fleet.yaml")


def release(text: str = "", values: ValuesStack | None = None) -> ReleaseObjects:
    objects = objects_from_text(text, "m.yaml") if text else []
    return ReleaseObjects(objects=tuple(objects), settings=PolicySettings(), kube_version="1.33", values=values)


def test_fleet_place_names_the_line_and_the_path(fleet):
    assert rf.fleet_place(fleet, "regions", 1, "identities", 0) == "line 17 (regions[1].identities[0])"
    assert rf.fleet_place(fleet, "regions", 0, "storage", "account") == "line 11 (regions[0].storage.account)"
    assert rf.fleet_place(fleet, "regions", 2) == "line 21 (regions[2])"
    assert rf.fleet_place(fleet, "regions") == "line 5 (regions)"
    assert rf.fleet_place(fleet, "tenantId") == "line 4 (tenantId)"
    # a key the file does not have: the line of its nearest parent
    assert rf.fleet_place(fleet, "regions", 2, "storage") == "line 21 (regions[2].storage)"


def test_fleet_place_without_a_document_is_the_path_alone(fleet):
    bare = dataclasses.replace(fleet, document=None)
    assert rf.fleet_place(bare, "regions", 1, "identities") == "regions[1].identities"
    assert rf.fleet_place(bare, "release", "name") == "release.name"


def test_set_by_lists_every_values_file_place_and_returns_the_last(tmp_path):
    (tmp_path / "a.yaml").write_text("global:\n  azure:\n    clientId: X-1\nother: y\n")
    (tmp_path / "b.yaml").write_text("# b\nray:\n  sa:\n    clientId: x-1\n")
    stack = ValuesStack([load_values_file(tmp_path / "a.yaml", display="a.yaml"),
                         load_values_file(tmp_path / "b.yaml", display="b.yaml")])
    text, last = rf.set_by(release(values=stack), "x-1")
    assert text == "set by global.azure.clientId at a.yaml:3, ray.sa.clientId at b.yaml:4"
    assert last == SourceLocation("b.yaml", 4)
    assert rf.set_by(release(values=stack), "nowhere") == ("", None)
    assert rf.set_by(release(), "x-1") == ("", None)


def test_owner_of_identity_is_another_region_declaring_the_client_id(fleet):
    west, _, central = fleet.regions
    assert rf.owner_of_identity(fleet, f"  {B.upper()} ", west) == " (identity 'id-eastus2' of region 'eastus2')"
    assert rf.owner_of_identity(fleet, A, central) == " (identity 'id-westus3' of region 'westus3')"
    assert rf.owner_of_identity(fleet, A, west) == ""  # its own region's identity
    assert rf.owner_of_identity(fleet, "dddddddd-0000-4000-8000-000000000000", central) == ""


def test_owner_of_storage_is_another_region_declaring_the_account_or_group(fleet):
    west, east, central = fleet.regions
    assert rf.owner_of_storage(fleet, " STEASTUS2 ", west, field="account") == \
        " (the storage account of region 'eastus2')"
    assert rf.owner_of_storage(fleet, "rg-westus3", central, field="resourceGroup") == \
        " (the storage resource group of region 'westus3')"
    assert rf.owner_of_storage(fleet, "stwestus3", west, field="account") == ""
    assert rf.owner_of_storage(fleet, "stwestus3", east, field="resourceGroup") == ""  # an account, not a group
    assert rf.owner_of_storage(fleet, "rg-westus3", east, field="account") == ""
    assert rf.owner_of_storage(fleet, "stnone", east, field="account") == ""


USES = f"""\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ray
  annotations: {{azure.workload.identity/client-id: ' {A} ', azure.workload.identity/tenant-id: tenant-1}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: blank
  annotations: {{azure.workload.identity/client-id: '  ', azure.workload.identity/tenant-id: 7}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: plain}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: blob}}
provisioner: blob.csi.azure.com
parameters: {{ClientID: '{B} ', TenantID: ' tenant-2'}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: odd}}
provisioner: blob.csi.azure.com
parameters: {{clientID: 12, tenantID: ' '}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: pv}}
spec:
  csi: {{driver: blob.csi.azure.com, volumeHandle: h, volumeAttributes: {{clientID: {A}}}}}
"""


def test_identity_uses_are_service_account_annotations_and_blob_client_ids():
    uses = list(rf.identity_uses(release(USES)))
    assert [(u.obj, u.what, u.path, u.value) for u in uses] == [
        (ObjectRef("v1", "ServiceAccount", None, "ray"), "ServiceAccount 'ray'",
         'metadata.annotations["azure.workload.identity/client-id"]', A),
        (ObjectRef("storage.k8s.io/v1", "StorageClass", None, "blob"), "StorageClass 'blob'",
         "parameters.ClientID", B),
        (ObjectRef("v1", "PersistentVolume", None, "pv"), "PersistentVolume 'pv'",
         "spec.csi.volumeAttributes.clientID", A)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        uses[0].value = "x"  # type: ignore[misc]


def test_identity_uses_with_tenant_are_the_tenant_ids():
    uses = list(rf.identity_uses(release(USES), tenant=True))
    assert [(u.what, u.path, u.value) for u in uses] == [
        ("ServiceAccount 'ray'", 'metadata.annotations["azure.workload.identity/tenant-id"]', "tenant-1"),
        ("StorageClass 'blob'", "parameters.TenantID", "tenant-2")]


def test_releases_in_fleet_order_skip_regions_that_did_not_render(fleet):
    r1, r2 = release(), release()
    found = list(rf.releases_in_fleet_order(fleet, {"centralus": r1, "westus3": r2}))
    assert [(i, region.name, rel) for i, region, rel in found] == [(0, "westus3", r2), (2, "centralus", r1)]
    assert list(rf.releases_in_fleet_order(fleet, {})) == []
