"""Helpers for the delivery policies: the export view, the labels a region's member carries."""

from __future__ import annotations

from ..delivery.fleet_manager import LOCATION_LABEL, MEMBER_LABEL
from ..fleet import Region


def member_labels(region: Region) -> dict[str, str]:
    """The Fleet Manager labels the region's member cluster carries (service-defined, read-only)."""
    return {MEMBER_LABEL: region.member_name, LOCATION_LABEL: region.location}
