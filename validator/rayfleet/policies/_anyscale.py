"""Helpers for the anyscale-* policies: where a value of the operator's stack was set."""

from __future__ import annotations

from ..findings import SourceLocation
from ..workloads import PodTemplate
from .base import ReleaseObjects


def value_source(release: ReleaseObjects, path: tuple[str, ...]) -> SourceLocation | None:
    """The values file and line that set ``path`` in the operator's stack, else the fleet file's
    ``anyscale`` block of the region."""
    rendered = release.anyscale
    if rendered is not None:
        found = rendered.values.origin(path)
        if found is not None:
            return found
    fleet, region = release.fleet, release.region
    if fleet is None or region is None:
        return None
    line = fleet.document.line_of(("regions", fleet.regions.index(region), "anyscale")) if fleet.document else None
    return SourceLocation(str(fleet.path), line)


def operator_pods(release: ReleaseObjects) -> list[PodTemplate]:
    """The pod templates of the operator release that run as the operator's ServiceAccount."""
    rendered = release.anyscale
    if rendered is None:
        return []
    mine = {id(o) for o in rendered.objects}
    return [t for t in release.pod_templates()
            if id(t.obj) in mine and t.service_account == rendered.service_account]


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)
