"""Helpers for fleet policies: where a region is in the fleet file."""

from __future__ import annotations

from ..findings import SourceLocation
from ..fleet import Fleet


def region_source(fleet: Fleet, index: int, *keys: str | int) -> SourceLocation:
    """The fleet file and the line of ``regions[index].<keys>`` (or of the nearest parent)."""
    line = fleet.document.line_of(("regions", index, *keys)) if fleet.document is not None else None
    return SourceLocation(str(fleet.path), line)


def region_path(index: int, *keys: str | int) -> str:
    path = f"regions[{index}]"
    for key in keys:
        path += f"[{key}]" if isinstance(key, int) else f".{key}"
    return path
