"""Azure VM sizes: what one node of each size costs in quota and holds (``data/vm_sizes.yaml``).

The fleet file's ``vmSizes`` add to it (``rayfleet.capacity.catalogue.lookup_vm_size``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from .resources import data_text
from .yamlio import safe_load_trusted


@dataclass(frozen=True)
class VmSizeSpec:
    vcpus: int
    gpus: int
    family: str
    memory_gib: float | None = None
    gpu_model: str | None = None


class HasVmSizes(Protocol):
    """What a VM size lookup needs of a fleet file: its own ``vmSizes``."""

    @property
    def vm_sizes(self) -> Mapping[str, VmSizeSpec]: ...


@dataclass(frozen=True)
class VmSize:
    """One Azure VM size: what one node of it costs in quota and what it holds."""

    name: str
    vcpus: int
    gpus: int
    family: str  # as Azure spells it in the usages API
    memory_gib: float | None = None
    gpu_model: str | None = None
    source: str = "catalogue"  # "catalogue" or "fleet file"
    temp_disk_gib: float | None = None  # the local temp disk (/mnt); None when not known, 0 when none

    @property
    def family_key(self) -> str:
        return normalise_family(self.family)


_FAMILY_STRIP = re.compile(r"[\s_\-]+")


def normalise_family(name: str) -> str:
    """The key quota families are compared by: lower case, without spaces, ``_`` or ``-``.

    ``Standard NCASv3_T4 Family``, ``standardNCASv3_T4Family`` and ``StandardNCASv3T4Family``
    are one family.
    """
    return _FAMILY_STRIP.sub("", name).lower()


@cache
def vm_catalogue() -> dict[str, VmSize]:
    """The packaged VM sizes (``rayfleet/data/vm_sizes.yaml``), keyed by lower-case size name."""
    data = safe_load_trusted(data_text("vm_sizes.yaml"))
    sizes: dict[str, VmSize] = {}
    for name, spec in data["sizes"].items():
        sizes[name.lower()] = VmSize(
            name=name, vcpus=int(spec["vcpus"]), gpus=int(spec["gpus"]), family=str(spec["family"]),
            memory_gib=float(spec["memoryGiB"]) if spec.get("memoryGiB") is not None else None,
            gpu_model=spec.get("gpuModel"), source="catalogue",
            temp_disk_gib=float(spec["tempDiskGiB"]) if spec.get("tempDiskGiB") is not None else None,
        )
    return sizes


def lookup_vm_size(name: str, fleet: HasVmSizes | None = None) -> VmSize | None:
    """A VM size by name (case-insensitive): the fleet file's ``vmSizes`` first, then the catalogue."""
    if fleet is not None:
        for fleet_name, spec in fleet.vm_sizes.items():
            if fleet_name.lower() == name.lower():
                return VmSize(fleet_name, spec.vcpus, spec.gpus, spec.family, spec.memory_gib,
                              spec.gpu_model, source="fleet file")
    return vm_catalogue().get(name.lower())


__all__ = ["HasVmSizes", "VmSize", "VmSizeSpec", "lookup_vm_size", "normalise_family", "vm_catalogue"]
