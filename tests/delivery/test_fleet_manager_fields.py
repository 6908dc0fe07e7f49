"""The Fleet Manager hub objects (``rayfleet.delivery.fleet_manager``) and the export view
(``rayfleet.delivery.view``), every field against expectations built here from the fleet file
(kubefleet v0.3.1 CRDs: placement, override, staged strategy and run), the CRDs' limits at and
over, and label selectors operator by operator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from rayfleet.delivery.fleet_manager import hub_export, placement, region_override, stages, strategy, update_run
from rayfleet.delivery.settings import Delivery, Source, delivery_of, require_delivery
from rayfleet.delivery.view import export_view, selects
from rayfleet.errors import InputError
from rayfleet.fleet import Fleet, load_fleet

REPO = Path(__file__).resolve().parents[2]
API = "placement.kubernetes-fleet.io/v1beta1"
MANAGED = {"app.kubernetes.io/managed-by": "rayfleet"}
MEMBERS = {"eastus2": "rayfleet-eus2", "swedencentral": "rayfleet-sdc", "westus3": "rayfleet-wus3",
           "manager": "aks-ray-manager"}
LOCATIONS = {"eastus2": "eastus2", "swedencentral": "swedencentral", "westus3": "westus3", "manager": "centralus"}


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(REPO / "examples" / "fleet.yaml")


DELIVERY = Delivery(Source("OCIRepository", "oci://x/y", {"tag": "1"}), placement="crp", strategy="waves")


def test_placement_every_field(fleet):
    assert placement(DELIVERY, fleet.regions) == {
        "apiVersion": API, "kind": "ClusterResourcePlacement", "metadata": {"name": "crp", "labels": MANAGED},
        "spec": {
            "resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": f"rayfleet-{r}"}
                                  for r in ("eastus2", "swedencentral", "westus3", "manager")],
            "policy": {"placementType": "PickAll", "affinity": {"clusterAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [{"labelSelector": {
                    "matchExpressions": [
                        {"key": "fleet.azure.com/member-name", "operator": "In",
                         "values": sorted(MEMBERS.values())},
                        {"key": "fleet.azure.com/location", "operator": "In",
                         "values": sorted(LOCATIONS.values())}]}}]}}}},
            "strategy": {"type": "External"}}}


def test_override_every_field(fleet):
    assert region_override(DELIVERY, fleet.region("westus3")) == {
        "apiVersion": API, "kind": "ClusterResourceOverride",
        "metadata": {"name": "crp-westus3", "labels": {**MANAGED, "rayfleet.dev/region": "westus3"}},
        "spec": {"placement": {"name": "crp"},
                 "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace",
                                               "name": "rayfleet-westus3"}],
                 "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": [
                     {"labelSelector": {"matchExpressions": [
                         {"key": "fleet.azure.com/member-name", "operator": "NotIn", "values": ["rayfleet-wus3"]}]}},
                     {"labelSelector": {"matchExpressions": [
                         {"key": "fleet.azure.com/location", "operator": "NotIn", "values": ["westus3"]}]}}]},
                     "overrideType": "Delete"}]}}}


def test_strategy_and_stages_every_field(fleet):
    def stage(name: str, members: list[str]) -> dict:
        return {"name": name, "labelSelector": {"matchExpressions": [
            {"key": "fleet.azure.com/member-name", "operator": "In", "values": members}]},
            "maxConcurrency": 1, "afterStageTasks": [{"type": "Approval"}]}

    # fleet order is not wave order: the canary wave comes first, members sorted inside a stage
    regions = [fleet.region(n) for n in ("manager", "westus3", "eastus2", "swedencentral")]
    assert strategy(DELIVERY, regions) == {
        "apiVersion": API, "kind": "ClusterStagedUpdateStrategy", "metadata": {"name": "waves", "labels": MANAGED},
        "spec": {"stages": [stage("wave1", ["rayfleet-eus2"]), stage("wave2", ["rayfleet-sdc", "rayfleet-wus3"]),
                            stage("wave3", ["aks-ray-manager"])]}}
    assert [(s.name, s.wave, [r.name for r in s.regions]) for s in stages(regions)] == [
        ("wave1", 1, ["eastus2"]), ("wave2", 2, ["westus3", "swedencentral"]), ("wave3", 3, ["manager"])]


def test_update_run_for_a_snapshot_and_the_latest():
    assert update_run(DELIVERY, "crp-7", "7") == {
        "apiVersion": API, "kind": "ClusterStagedUpdateRun", "metadata": {"name": "crp-7", "labels": MANAGED},
        "spec": {"placementName": "crp", "resourceSnapshotIndex": "7", "stagedRolloutStrategyName": "waves",
                 "state": "Run"}}
    assert update_run(DELIVERY, "crp-latest", None)["spec"] == {"placementName": "crp",
                                                                "stagedRolloutStrategyName": "waves", "state": "Run"}


def test_hub_export_files_per_selected_region(fleet):
    chosen = [fleet.region("westus3"), fleet.region("eastus2")]
    export = hub_export(fleet, chosen)
    assert [o["metadata"]["name"] for o in export.overrides] == ["rayfleet-westus3", "rayfleet-eastus2"]
    files = export.files()
    assert list(files)[:2] == ["placement.yaml", "strategy.yaml"]
    assert sorted({f.split("/")[1] for f in files if f.startswith("regions/")}) == ["eastus2", "westus3"]
    assert yaml.safe_load(files["regions/westus3/override.yaml"]) == export.overrides[0]
    assert yaml.safe_load(files["placement.yaml"]) == export.placement
    assert export.objects()[:4] == [export.placement, export.strategy, *export.overrides]
    assert len(export.objects()) == 4 + sum(len(r.objects()) for r in export.regions)


def _many(fleet: Fleet, count: int, waves: int) -> Fleet:
    base = fleet.regions[0]
    regions = tuple(replace(base, name=f"r{i}", wave=i % waves, cluster=replace(base.cluster, name=f"aks-{i}"))
                    for i in range(count))
    return replace(fleet, regions=regions)


def test_the_crd_limits_at_and_over(fleet):
    at = _many(fleet, 100, 31)
    from rayfleet.delivery import fleet_manager

    fleet_manager._check(at, at.regions)  # 100 namespaces, 31 stages: allowed
    over = _many(fleet, 101, 31)
    with pytest.raises(InputError, match="101 regions: a ClusterResourcePlacement selects at most 100"):
        fleet_manager._check(over, over.regions)
    over = _many(fleet, 32, 32)
    with pytest.raises(InputError, match="more than 31 waves"):
        fleet_manager._check(over, over.regions)


def test_shared_member_names_only_among_the_chosen_regions(fleet):
    from rayfleet.delivery import fleet_manager

    twin = replace(fleet.regions[1], fleet_member=fleet.regions[0].member_name)
    shared = replace(fleet, regions=(fleet.regions[0], twin, *fleet.regions[2:]))
    with pytest.raises(InputError, match="name the same Fleet Manager member") as err:
        fleet_manager._check(shared, shared.regions)
    assert err.value.field == "regions[1].fleetMember"
    fleet_manager._check(shared, (shared.regions[0], *shared.regions[2:]))  # the twin not chosen: fine


def test_delivery_settings_defaults_and_every_field(fleet, tmp_path):
    assert delivery_of(replace(fleet, delivery=None)) is None
    assert delivery_of(replace(fleet, delivery={})) is None
    with pytest.raises(InputError, match="no delivery: block") as err:
        require_delivery(replace(fleet, delivery=None))
    assert err.value.field == "delivery"
    assert require_delivery(fleet) == Delivery(Source("OCIRepository", "oci://rayfleetacr.azurecr.io/charts/ray-aks",
                                                      {"tag": "0.1.0"}, provider="azure"),
                                               hub_context="rayfleet-hub")
    full = {"source": {"kind": "GitRepository", "url": "u", "ref": {"branch": "b"}, "path": "p", "chart": "c",
                       "version": "v", "provider": "github"},
            "interval": "1m", "timeout": "2m", "retries": 0,
            "exports": {"flux": "out/flux", "fleetManager": "out/hub"},
            "fleetManager": {"placement": "p1", "strategy": "s1", "hubContext": "h"}}
    assert delivery_of(replace(fleet, delivery=full)) == Delivery(
        Source("GitRepository", "u", {"branch": "b"}, "p", "c", "v", "github"), "1m", "2m", 0,
        fleet.base_dir / "out/flux", fleet.base_dir / "out/hub", "p1", "s1", "h")


# --- the export view ------------------------------------------------------------------------------------

def test_export_view_built_in_memory(fleet):
    view = export_view(fleet)
    assert view is not None and view.flux.committed is None and view.hub.committed is None
    assert view.flux.problem is None and view.hub.problem is None
    kinds = [o.kind for o in view.hub.objects]
    assert kinds == ["ClusterResourcePlacement", "ClusterStagedUpdateStrategy"] + ["ClusterResourceOverride"] * 4
    assert len(view.flux.of_kind("HelmRelease")) == 4 and len(view.flux.of_kind("Namespace")) == 4
    assert [o["kind"] for o in view.flux.in_namespace("rayfleet-westus3")] == [
        "OCIRepository", "ConfigMap", "ConfigMap", "ConfigMap", "HelmRelease"]
    line = fleet.document.line_of(("delivery",))
    assert {(o.origin.file, o.origin.line) for o in view.flux.objects} == {(str(fleet.path), line)}
    assert export_view(replace(fleet, delivery=None)) is None


def test_export_view_reads_the_committed_folders(fleet, tmp_path):
    from rayfleet.delivery.flux import flux_files

    flux = tmp_path / "flux"
    for name, text in flux_files(fleet, [fleet.region("eastus2")]).items():
        (flux / name).parent.mkdir(parents=True, exist_ok=True)
        (flux / name).write_text(text)
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "broken.yaml").write_text("a: [b\n")
    delivery = {**fleet.delivery, "exports": {"flux": str(flux), "fleetManager": str(tmp_path / "hub")}}
    view = export_view(replace(fleet, delivery=delivery))
    assert view.flux.committed == flux and view.flux.problem is None
    assert [o.kind for o in view.flux.objects].count("HelmRelease") == 1
    assert view.hub.committed == tmp_path / "hub" and view.hub.objects == [] and view.hub.problem
    delivery["exports"] = {"flux": str(tmp_path / "missing")}
    view = export_view(replace(fleet, delivery=delivery))
    assert view.flux.problem.startswith("committed export ") and view.flux.problem.endswith(" not found")
    assert view.hub.committed is None and len(view.hub.objects) == 6


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    (None, {}, True), ({}, {"a": "1"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "1"}, True), ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchLabels": {"a": "1"}}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"b": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"b": "1"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "1"}, False),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "In", "values": ["x"]}]},
     {"a": "1", "b": "x"}, True),
])
def test_selects(selector, labels, expected):
    assert selects(selector, labels) is expected
