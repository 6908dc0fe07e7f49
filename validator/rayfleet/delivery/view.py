"""What the export policies look at: the exported objects, committed or built in memory.

When the fleet file names where the exports are committed (``delivery.exports.flux`` /
``fleetManager``), the committed files are read: that is what Flux and the hub will apply, and a
stale export (values changed, export not re-run) is what the parity check must catch. Otherwise
the objects are built from the fleet, as ``rayfleet export`` would write them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..findings import SourceLocation
from ..fleet import Fleet
from ..manifests import KubeObject, load_manifest_paths
from .fleet_manager import placement, region_override, strategy
from .flux import region_export
from .settings import Delivery, delivery_of


@dataclass
class ExportedObjects:
    objects: list[KubeObject] = field(default_factory=list)
    committed: Path | None = None  # the folder read, or None when built in memory
    problem: str | None = None  # the committed folder could not be read

    def of_kind(self, kind: str) -> list[KubeObject]:
        return [o for o in self.objects if o.kind == kind]

    def in_namespace(self, namespace: str) -> list[dict[str, Any]]:
        return [o.body for o in self.objects if o.namespace == namespace]


@dataclass
class ExportView:
    delivery: Delivery
    flux: ExportedObjects
    hub: ExportedObjects


def _committed(folder: Path, fleet: Fleet) -> ExportedObjects:
    if not folder.is_dir():
        return ExportedObjects(committed=folder, problem=f"committed export {fleet.relative(folder)} not found")
    try:
        return ExportedObjects(load_manifest_paths([str(folder)]), committed=folder)
    except InputError as exc:
        return ExportedObjects(committed=folder, problem=str(exc))


def _built(bodies: list[dict[str, Any]], fleet: Fleet) -> ExportedObjects:
    origin = SourceLocation(str(fleet.path), fleet.document.line_of(("delivery",)) if fleet.document else None)
    return ExportedObjects([KubeObject(body, origin) for body in bodies])


def export_view(fleet: Fleet) -> ExportView | None:
    """The exports of a fleet with a ``delivery:`` block (None without one).

    Raises ``InputError`` only for unreadable values files (validate has already reported them).
    """
    delivery = delivery_of(fleet)
    if delivery is None:
        return None
    if delivery.flux_export is not None:
        flux = _committed(delivery.flux_export, fleet)
    else:
        flux = _built([body for r in fleet.regions for body in region_export(fleet, r, delivery).objects()], fleet)
    if delivery.fleet_manager_export is not None:
        hub = _committed(delivery.fleet_manager_export, fleet)
    else:
        hub = _built([placement(delivery, fleet.regions), strategy(delivery, fleet.regions),
                      *(region_override(delivery, r) for r in fleet.regions)], fleet)
    return ExportView(delivery, flux, hub)


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector against a label set (empty selector: everything)."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True
