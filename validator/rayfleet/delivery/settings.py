"""The fleet file's ``delivery:`` block, read into plain settings (the schema has checked it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fleet import Fleet, Region

NAMESPACE_PREFIX = "rayfleet-"


@dataclass(frozen=True)
class Source:
    """Where Flux gets the umbrella chart."""

    kind: str  # OCIRepository | GitRepository | HelmRepository
    url: str
    ref: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # GitRepository: the chart folder
    chart: str | None = None  # HelmRepository: the chart name
    version: str | None = None  # HelmRepository: the chart version
    provider: str = "generic"


@dataclass(frozen=True)
class Delivery:
    source: Source
    interval: str = "10m"
    timeout: str = "15m"
    retries: int = 3
    flux_export: Path | None = None
    fleet_manager_export: Path | None = None
    placement: str = "rayfleet"
    strategy: str = "rayfleet-waves"
    hub_context: str | None = None


def delivery_of(fleet: Fleet) -> Delivery | None:
    """The fleet's delivery settings, or None when the fleet file has no ``delivery:`` block."""
    raw: dict[str, Any] | None = fleet.delivery
    if not raw:
        return None
    src = raw["source"]
    exports = raw.get("exports") or {}
    manager = raw.get("fleetManager") or {}
    return Delivery(
        source=Source(kind=src["kind"], url=src["url"], ref=dict(src.get("ref") or {}), path=src.get("path"),
                      chart=src.get("chart"), version=src.get("version"), provider=src.get("provider", "generic")),
        interval=raw.get("interval", "10m"),
        timeout=raw.get("timeout", "15m"),
        retries=raw.get("retries", 3),
        flux_export=fleet.base_dir / exports["flux"] if exports.get("flux") else None,
        fleet_manager_export=fleet.base_dir / exports["fleetManager"] if exports.get("fleetManager") else None,
        placement=manager.get("placement", "rayfleet"),
        strategy=manager.get("strategy", "rayfleet-waves"),
        hub_context=manager.get("hubContext"),
    )


def require_delivery(fleet: Fleet) -> Delivery:
    delivery = delivery_of(fleet)
    if delivery is None:
        raise InputError("the fleet file has no delivery: block (the chart's source for Flux); see docs/gitops.md",
                         file=str(fleet.path), field="delivery")
    return delivery


def delivery_namespace(region: Region) -> str:
    """The namespace holding a region's HelmRelease, its source and values ConfigMaps.

    One per region, named after it, so the hub can hold every region's objects side by side and
    a member cluster shows which region's definition it carries.
    """
    return NAMESPACE_PREFIX + region.name


def check_names(fleet: Fleet) -> None:
    """Refuse names Kubernetes would reject (a namespace is a DNS label of at most 63 characters)."""
    for index, region in enumerate(fleet.regions):
        namespace = delivery_namespace(region)
        if len(namespace) > 63:
            raise InputError(f"region name {region.name!r} is too long for the delivery namespace {namespace!r} "
                             "(at most 54 characters)", file=str(fleet.path),
                             line=fleet.document.line_of(("regions", index, "name")) if fleet.document else None,
                             field=f"regions[{index}].name")
