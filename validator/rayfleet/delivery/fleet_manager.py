"""Hub objects for Azure Kubernetes Fleet Manager: one placement, one override per region, and a
staged update strategy whose stages are the fleet's waves.

Why one ClusterResourcePlacement with per-region overrides (and not one placement per region):
a ClusterStagedUpdateRun drives exactly one placement. With one placement per region, every
region would need its own run, and the waves would again be sequenced by rayfleet rather than
by Fleet Manager. So every region's namespace (``rayfleet-<region>``: its HelmRelease, source and
values ConfigMaps) is selected by one placement (``strategy.type: External``: nothing is applied
until an update run says so), and one ClusterResourceOverride per region with
``overrideType: Delete`` keeps that namespace off every member except the region's own one:
its member name (``fleet.azure.com/member-name``) and its location (``fleet.azure.com/location``)
must both match. Selecting a namespace selects everything in it, for overrides as for placements.

Limits from the CRDs (kubefleet v0.3.1): at most 100 resource selectors per placement, 10 cluster
selector terms, 31 stages; stage names match ``^[a-z0-9]+$``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..fleet import Fleet, Region
from .flux import MANAGED, RegionExport, region_exports
from .settings import Delivery, delivery_namespace, require_delivery
from .writer import dump_objects

PLACEMENT_API = "placement.kubernetes-fleet.io/v1beta1"
MEMBER_LABEL = "fleet.azure.com/member-name"
LOCATION_LABEL = "fleet.azure.com/location"
MAX_SELECTORS, MAX_STAGES = 100, 31


@dataclass(frozen=True)
class Stage:
    """One stage of the update strategy: one wave of the fleet."""

    name: str
    wave: int
    regions: tuple[Region, ...]

    @property
    def members(self) -> list[str]:
        return sorted(r.member_name for r in self.regions)


def stages(regions: Sequence[Region]) -> list[Stage]:
    """One stage per wave, lowest (canary) wave first; fleet order inside a wave."""
    by_wave: dict[int, list[Region]] = {}
    for region in regions:
        by_wave.setdefault(region.wave, []).append(region)
    return [Stage(f"wave{wave}", wave, tuple(members)) for wave, members in sorted(by_wave.items())]


def _check(fleet: Fleet, regions: Sequence[Region]) -> None:
    if len(regions) > MAX_SELECTORS:
        raise InputError(f"{len(regions)} regions: a ClusterResourcePlacement selects at most {MAX_SELECTORS} "
                         "namespaces", file=str(fleet.path), field="regions")
    if len({r.wave for r in regions}) > MAX_STAGES:
        raise InputError(f"more than {MAX_STAGES} waves: a staged update strategy has at most {MAX_STAGES} stages",
                         file=str(fleet.path), field="regions[].wave")
    seen: dict[str, str] = {}
    for index, region in enumerate(fleet.regions):
        if region not in regions:
            continue
        other = seen.setdefault(region.member_name, region.name)
        if other != region.name:
            raise InputError(f"regions {other!r} and {region.name!r} name the same Fleet Manager member "
                             f"{region.member_name!r}: set fleetMember", file=str(fleet.path),
                             line=fleet.document.line_of(("regions", index)) if fleet.document else None,
                             field=f"regions[{index}].fleetMember")


def placement(delivery: Delivery, regions: Sequence[Region]) -> dict[str, Any]:
    """The ClusterResourcePlacement: every region's namespace, onto the fleet's members."""
    return {
        "apiVersion": PLACEMENT_API, "kind": "ClusterResourcePlacement",
        "metadata": {"name": delivery.placement, "labels": dict(MANAGED)},
        "spec": {
            "resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace",
                                   "name": delivery_namespace(r)} for r in regions],
            "policy": {
                "placementType": "PickAll",
                "affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "clusterSelectorTerms": [{"labelSelector": {"matchExpressions": [
                        {"key": MEMBER_LABEL, "operator": "In", "values": sorted({r.member_name for r in regions})},
                        {"key": LOCATION_LABEL, "operator": "In", "values": sorted({r.location for r in regions})},
                    ]}}]}}},
            },
            # External: Fleet schedules but applies nothing until a ClusterStagedUpdateRun runs.
            "strategy": {"type": "External"},
        },
    }


def region_override(delivery: Delivery, region: Region) -> dict[str, Any]:
    """Keep the region's namespace off every member but its own (name and location must match)."""
    return {
        "apiVersion": PLACEMENT_API, "kind": "ClusterResourceOverride",
        "metadata": {"name": f"{delivery.placement}-{region.name}",
                     "labels": {**MANAGED, "rayfleet.dev/region": region.name}},
        "spec": {
            "placement": {"name": delivery.placement},
            "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace",
                                          "name": delivery_namespace(region)}],
            "policy": {"overrideRules": [{
                "clusterSelector": {"clusterSelectorTerms": [
                    {"labelSelector": {"matchExpressions": [
                        {"key": MEMBER_LABEL, "operator": "NotIn", "values": [region.member_name]}]}},
                    {"labelSelector": {"matchExpressions": [
                        {"key": LOCATION_LABEL, "operator": "NotIn", "values": [region.location]}]}},
                ]},
                "overrideType": "Delete",
            }]},
        },
    }


def strategy(delivery: Delivery, regions: Sequence[Region]) -> dict[str, Any]:
    """The ClusterStagedUpdateStrategy: one stage per wave, an approval gate after each."""
    return {
        "apiVersion": PLACEMENT_API, "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": delivery.strategy, "labels": dict(MANAGED)},
        "spec": {"stages": [
            {"name": stage.name,
             "labelSelector": {"matchExpressions": [{"key": MEMBER_LABEL, "operator": "In", "values": stage.members}]},
             "maxConcurrency": 1,
             # rayfleet approves only after its readiness checks pass in the stage's regions.
             "afterStageTasks": [{"type": "Approval"}]}
            for stage in stages(regions)]},
    }


def update_run(delivery: Delivery, name: str, snapshot_index: str | None) -> dict[str, Any]:
    """The ClusterStagedUpdateRun for a resource snapshot (None: the latest)."""
    spec: dict[str, Any] = {"placementName": delivery.placement}
    if snapshot_index is not None:
        spec["resourceSnapshotIndex"] = snapshot_index
    spec["stagedRolloutStrategyName"] = delivery.strategy
    spec["state"] = "Run"
    return {"apiVersion": PLACEMENT_API, "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": name, "labels": dict(MANAGED)}, "spec": spec}


@dataclass
class HubExport:
    placement: dict[str, Any]
    strategy: dict[str, Any]
    overrides: list[dict[str, Any]]
    regions: list[RegionExport]

    def objects(self) -> list[dict[str, Any]]:
        out = [self.placement, self.strategy, *self.overrides]
        for export in self.regions:
            out += export.objects()
        return out

    def files(self) -> dict[str, str]:
        files = {"placement.yaml": dump_objects([self.placement]), "strategy.yaml": dump_objects([self.strategy])}
        for export, override in zip(self.regions, self.overrides, strict=True):
            folder = f"regions/{export.region.name}"
            for name, text in export.files().items():
                files[f"{folder}/{name}"] = text
            files[f"{folder}/override.yaml"] = dump_objects([override])
        return files


def hub_export(fleet: Fleet, regions: Sequence[Region] | None = None) -> HubExport:
    delivery = require_delivery(fleet)
    chosen = tuple(regions or fleet.regions)
    _check(fleet, chosen)
    return HubExport(placement(delivery, chosen), strategy(delivery, chosen),
                     [region_override(delivery, r) for r in chosen], region_exports(fleet, chosen))
