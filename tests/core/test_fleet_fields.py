"""Every field of the fleet file as ``load_fleet`` reads it, with its default when it is left out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rayfleet.errors import InputError
from rayfleet.fleet import ExternalServiceAccount, Identity, WaiverScope, load_fleet

FULL = """\
apiVersion: rayfleet.dev/v1
chart: charts/ray-aks
release: {name: ray, namespace: ray}
crds: crds/kuberay
cloud: AzureUSGovernment
tenantId: 0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01
subscriptionId: 00000000-0000-0000-0000-000000000001
valuesFiles: [values/shared.yaml]
overrides: [values/override.yaml]
policy:
  failover: n+1
  gpuTaint: {key: sku, effect: NoSchedule}
  allowedRegistries: [myacr.azurecr.io]
  allowCrossRegionStorage: true
  externalServiceAccounts:
    - {namespace: jobs, name: runner, clientId: aaaaaaaa-1111-4111-8111-111111111111}
    - {namespace: jobs, name: other}
regions:
  - name: eastus2
    location: eastus2
    subscriptionId: 00000000-0000-0000-0000-000000000002
    cluster: {name: aks-e, kubernetesVersion: v1.33.2, resourceGroup: rg-e, kubeContext: ctx-e,
              oidcIssuerUrl: "https://eastus2.oic.prod-aks.azure.com/t/i/"}
    release: {name: ray-e, namespace: ray-e}
    identities:
      - {name: id-e, clientId: bbbbbbbb-2222-4222-8222-222222222222, resourceGroup: rg-id,
         principalId: cccccccc-3333-4333-8333-333333333333}
    storage: {account: acct, location: eastus2, resourceGroup: rg-st, allowCrossRegion: true}
    quota: {families: {standardNCadsH100v5Family: 400}, regionalVCpus: 500, spotVCpus: 100}
    valuesFiles: [values/eastus2.yaml]
    manifests: manifests/eastus2
    wave: 2
    failoverPeers: [westus3]
    fleetMember: member-e
  - name: westus3
    location: westus3
    cluster: {name: aks-w, kubernetesVersion: "1.32"}
    valuesFiles: []
waivers:
  - policy: no-secret-objects
    scope: {region: eastus2, kind: Secret, namespace: ray, name: s}
    reason: accepted for the test
    owner: team@example.com
    expires: "2099-01-31"
  - policy: image-pinned
    scope: {}
    reason: accepted for the test
    owner: team@example.com
    expires: "2099-02-01"
"""


@pytest.fixture
def fleet(tmp_path: Path):
    path = tmp_path / "fleet.yaml"
    path.write_text(FULL)
    return load_fleet(path)


def test_every_top_level_field(fleet, tmp_path: Path) -> None:
    assert (fleet.chart, fleet.crds) == (tmp_path / "charts/ray-aks", tmp_path / "crds/kuberay")
    assert (fleet.release_name, fleet.namespace, fleet.cloud) == ("ray", "ray", "AzureUSGovernment")
    assert fleet.tenant_id == "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
    assert fleet.subscription_id == "00000000-0000-0000-0000-000000000001"
    assert fleet.arm_endpoint == "https://management.usgovcloudapi.net"
    assert fleet.authority == "login.microsoftonline.us"
    assert fleet.base_dir == tmp_path
    settings = fleet.settings
    assert (settings.failover, settings.gpu_taint) == ("n+1", ("sku", "", "NoSchedule"))
    assert settings.allowed_registries == ("myacr.azurecr.io",) and settings.allow_cross_region_storage is True
    assert settings.external_service_accounts == (
        ExternalServiceAccount("jobs", "runner", "aaaaaaaa-1111-4111-8111-111111111111"),
        ExternalServiceAccount("jobs", "other", None))


def test_every_region_field(fleet, tmp_path: Path) -> None:
    east = fleet.regions[0]
    assert (east.cluster.name, east.cluster.kubernetes_version, east.cluster.kube_minor) == ("aks-e", "v1.33.2", "1.33")
    assert (east.cluster.resource_group, east.cluster.kube_context) == ("rg-e", "ctx-e")
    assert east.cluster.oidc_issuer_url == "https://eastus2.oic.prod-aks.azure.com/t/i/"
    assert (east.cluster.kind, east.cluster.is_arc, east.cluster.resource_id) == ("aks", False, None)
    assert (east.release_name, east.namespace, east.subscription_id) == ("ray-e", "ray-e",
                                                                          "00000000-0000-0000-0000-000000000002")
    assert east.identities == (Identity("id-e", "bbbbbbbb-2222-4222-8222-222222222222", None, "rg-id",
                                         "cccccccc-3333-4333-8333-333333333333"),)
    assert (east.storage_account, east.storage_location, east.storage_resource_group) == ("acct", "eastus2", "rg-st")
    assert east.storage_cross_region is True
    assert (dict(east.quota.families), east.quota.regional_vcpus, east.quota.spot_vcpus) == (
        {"standardNCadsH100v5Family": 400}, 500, 100)
    assert (east.manifests, east.wave, east.failover_peers) == (tmp_path / "manifests/eastus2", 2, ("westus3",))
    assert (east.member_name, east.role, east.inventory, east.anyscale) == ("member-e", "worker", None, None)
    assert fleet.values_stack_paths(east) == (tmp_path / "values/shared.yaml", tmp_path / "values/eastus2.yaml",
                                              tmp_path / "values/override.yaml")


def test_region_defaults(fleet, tmp_path: Path) -> None:
    west = fleet.region("westus3")
    assert (west.cluster.kube_minor, west.cluster.kind, west.cluster.resource_group) == ("1.32", "aks", None)
    assert (west.release_name, west.namespace, west.subscription_id) == ("ray", "ray", None)
    assert (west.identities, west.storage_account, west.storage_cross_region, west.quota) == ((), None, False, None)
    assert (west.manifests, west.wave, west.failover_peers, west.member_name) == (None, 1, (), "aks-w")
    assert fleet.values_stack_paths(west) == (tmp_path / "values/shared.yaml", tmp_path / "values/override.yaml")


def test_top_level_defaults(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("apiVersion: rayfleet.dev/v1\nchart: c\nrelease: {name: r, namespace: n}\nregions:\n"
                    "  - {name: a, location: eastus2, cluster: {name: k, kubernetesVersion: '1.33'},\n"
                    "     valuesFiles: []}\n")
    fleet = load_fleet(path)
    assert (fleet.crds, fleet.cloud, fleet.tenant_id, fleet.subscription_id) == (None, "AzurePublicCloud", None, None)
    assert fleet.arm_endpoint == "https://management.azure.com" and fleet.waivers == ()
    assert (fleet.values_files, fleet.overrides, fleet.scheduling, fleet.delivery) == ((), (), None, None)
    s = fleet.settings
    assert (s.failover, s.gpu_taint, s.allowed_registries, s.allow_cross_region_storage,
            s.external_service_accounts) == ("best-effort", None, (), False, ())


def test_waivers_with_their_scope_and_line(fleet) -> None:
    first, second = fleet.waivers
    assert (first.policy, first.scope, first.expires) == (
        "no-secret-objects", WaiverScope("eastus2", "Secret", "ray", "s"), date(2099, 1, 31))
    assert (first.reason, first.owner, first.line) == ("accepted for the test", "team@example.com",
                                                       FULL.splitlines().index("waivers:") + 2)
    assert second.scope == WaiverScope() and second.line == first.line + 5


def test_select_keeps_fleet_order_and_refuses_unknown_regions(fleet) -> None:
    assert [r.name for r in fleet.select(["westus3", "eastus2"])] == ["eastus2", "westus3"]
    assert fleet.select(None) == fleet.regions and fleet.select([]) == fleet.regions
    with pytest.raises(InputError, match=r"unknown region 'nowhere' \(the fleet has: eastus2, westus3\)"):
        fleet.select(["nowhere"])


def test_a_region_name_used_twice_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(FULL.replace("  - name: westus3\n", "  - name: eastus2\n"))
    with pytest.raises(InputError) as caught:
        load_fleet(path)
    assert caught.value.field == "regions[1].name" and "region name 'eastus2' is used twice" in caught.value.message
    assert caught.value.line == FULL.splitlines().index("  - name: westus3") + 1


def test_a_waiver_date_that_is_not_a_date(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(FULL.replace('"2099-02-01"', '"2099-02-30"'))
    with pytest.raises(InputError) as caught:
        load_fleet(path)
    assert caught.value.field == "waivers[1].expires" and "'2099-02-30' is not a date" in caught.value.message
    assert caught.value.line == FULL.splitlines().index('    expires: "2099-02-01"') + 1
