"""The VM size catalogue with the fleet file's own sizes: what one node of each size costs
(``rayfleet.vm_sizes``, re-exported for the capacity model)."""

from __future__ import annotations

from ..vm_sizes import VmSize, lookup_vm_size, normalise_family, vm_catalogue

__all__ = ["VmSize", "lookup_vm_size", "normalise_family", "vm_catalogue"]
