"""The VM size catalogue with the fleet file's own sizes: what one node of each size costs."""

from __future__ import annotations

from ..fleet import Fleet
from ..vm_sizes import VmSize, normalise_family, vm_catalogue


def lookup_vm_size(name: str, fleet: Fleet | None = None) -> VmSize | None:
    """A VM size by name (case-insensitive): the fleet file's ``vmSizes`` first, then the catalogue."""
    if fleet is not None:
        for fleet_name, spec in fleet.vm_sizes.items():
            if fleet_name.lower() == name.lower():
                return VmSize(fleet_name, spec.vcpus, spec.gpus, spec.family, spec.memory_gib,
                              spec.gpu_model, source="fleet file")
    return vm_catalogue().get(name.lower())


__all__ = ["VmSize", "lookup_vm_size", "normalise_family", "vm_catalogue"]
