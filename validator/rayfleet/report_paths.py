"""Where a report may be written: never over an input of the run, never into the chart, never
through a symlink (``--report FORMAT=PATH``).

A run's inputs are files (the fleet file, values files, a kubeconfig) and folders (the chart, a
region's ``manifests:``, a ``--crds`` folder, the folders ``scan`` reads): a report path that is
one of the files, or lies anywhere inside one of the folders, is refused with an ``InputError``
before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    from .fleet import Fleet


def fleet_inputs(fleet: Fleet) -> list[Path]:
    """Every file and folder a fleet-file command reads: the fleet file, the chart, the CRDs and
    every region's values files and manifests (all regions, selected or not)."""
    inputs: list[Path] = [fleet.path, fleet.chart]
    if fleet.crds is not None:
        inputs.append(fleet.crds)
    for region in fleet.regions:
        inputs.extend(fleet.values_stack_paths(region))
        if region.manifests is not None:
            inputs.append(region.manifests)
    return inputs


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_report_path(path: str, inputs: Iterable[str | Path | None]) -> None:
    """Raise ``InputError`` when writing a report to ``path`` could change an input or the chart."""
    target = Path(path)
    if target.is_symlink():
        raise InputError("is a symlink; a report is never written through one (--report)", file=path)
    if target.is_dir():
        raise InputError("is a folder; --report needs a file path", file=path)
    resolved = Path(os.path.realpath(target))
    for raw in inputs:
        if raw is None or str(raw) == "-":
            continue
        source = Path(raw)
        if not source.exists():
            continue
        real = Path(os.path.realpath(source))
        if source.is_dir() and _inside(resolved, real):
            raise InputError(f"is inside {raw}, which this run reads; write the report elsewhere (--report)",
                             file=path)
        if resolved == real or (target.exists() and os.path.samefile(target, source)):
            raise InputError("is an input of this run; it would be overwritten (--report)", file=path)


def write_report(path: str, text: str) -> None:
    """Write a report file without following a symlink put there after the check."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if Path(path).is_symlink():
            raise InputError("is a symlink; a report is never written through one (--report)", file=path) from None
        raise InputError(f"cannot write the report: {exc.strerror}", file=path) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
