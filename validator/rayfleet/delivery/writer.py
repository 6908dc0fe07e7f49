"""Writing an export folder: deterministic YAML, a fresh temporary folder swapped in at the end.

The folder is either new, empty, or an earlier export of the same kind (it holds the marker file
``.rayfleet-export``). Anything else is refused, so ``--out`` pointed at the wrong place (a home
folder, a chart) cannot be wiped. Files are created with ``O_EXCL | O_NOFOLLOW`` inside a folder
made by ``mkdtemp``; a symlinked ``--out`` is refused rather than followed. The old folder is only
removed after the new one is in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..errors import InputError

MARKER = ".rayfleet-export"


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as literal blocks (values files stay readable in Git)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump_objects(objects: Sequence[Mapping[str, Any]]) -> str:
    """Objects as one multi-document YAML text, keys in the order built (byte-stable)."""
    return "".join(
        ("---\n" if index else "") + yaml.dump(obj, Dumper=_Dumper, sort_keys=False, width=4096,
                                                 allow_unicode=True, default_flow_style=False)
        for index, obj in enumerate(objects))


def check_out_folder(out: Path, kind: str) -> None:
    """Refuse a symlink, a file, or a non-empty folder that is not an export of ``kind``."""
    if out.is_symlink():
        raise InputError("refusing to write through a symlink; give a real folder", file=str(out))
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError("exists and is not a folder", file=str(out))
    marker = out / MARKER
    if not any(out.iterdir()):
        return
    if marker.is_symlink() or not marker.is_file():
        raise InputError(f"is not a rayfleet export folder (no {MARKER}); choose a new or empty folder",
                         file=str(out))
    found = marker.read_text(encoding="utf-8", errors="replace").strip()
    if found != f"kind: {kind}":
        raise InputError(f"holds a different rayfleet export ({found or 'unknown'}), not {kind}", file=str(out))


def _write_file(root: Path, relative: str, text: str) -> None:
    parts = PurePosixPath(relative).parts
    if not parts or any(p in ("", ".", "..") for p in parts) or PurePosixPath(relative).is_absolute():
        raise ValueError(f"bad export path {relative!r}")  # built by rayfleet: a bug, not input
    folder = root.joinpath(*parts[:-1])
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_export(out: Path, kind: str, files: Mapping[str, str]) -> list[str]:
    """Replace ``out`` with exactly ``files`` (relative POSIX path → text) plus the marker.

    Returns the relative paths written, sorted.
    """
    check_out_folder(out, kind)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", file=str(out)) from None
    try:
        for relative in sorted(files):
            _write_file(staging, relative, files[relative])
        _write_file(staging, MARKER, f"kind: {kind}\n")
        os.chmod(staging, 0o755)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(files)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    check_out_folder(out, _kind_of(out))  # re-checked just before the swap: it may have changed
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    retired.rmdir()
    out.rename(retired)
    try:
        staging.rename(out)
    except OSError:
        retired.rename(out)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _kind_of(out: Path) -> str:
    marker = out / MARKER
    if marker.is_file() and not marker.is_symlink():
        return marker.read_text(encoding="utf-8", errors="replace").strip().removeprefix("kind: ")
    return ""
