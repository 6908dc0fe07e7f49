"""A region's vCPU quota: per VM family, regional and spot (from the fleet file, an Arc member's
declared inventory, or read live)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Quota:
    """vCPUs the release may use in a region, as declared in the fleet file (or read live)."""

    families: dict[str, int] = field(default_factory=dict)
    regional_vcpus: int | None = None
    spot_vcpus: int | None = None


__all__ = ["Quota"]
