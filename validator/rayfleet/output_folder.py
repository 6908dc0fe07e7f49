"""The one writer of output folders (``render --out``, ``export flux|fleet-manager --out``,
``policies export --out``): the folder is replaced as a whole, safely.

The files are written into a fresh temporary folder beside ``out``, which is then swapped in, so
no file of an earlier run is left behind (GitOps would apply it). Files are created with
``O_EXCL | O_NOFOLLOW``, so nothing is written through a symlink. A marker file lists the kind of
output and every file rayfleet wrote; an existing ``out`` is replaced only when it is empty or
holds exactly what its marker lists (folders only on the way to a listed file). Anything else (a
file a person put there, a symlink, a stray subfolder, another kind of output, ``out`` itself a
symlink or a file) is refused with an ``InputError`` and left as it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .errors import InputError

# Markers of earlier versions: a render's held this header line instead of "kind: render".
_LEGACY_HEADERS = {"# written by `rayfleet render`; the folder is replaced on every render. Files:": "render"}


def _marker_text(kind: str, names: list[str]) -> str:
    return f"kind: {kind}\n" + "".join(f"{name}\n" for name in names)


def _read_marker(marker: Path) -> tuple[str, set[str]]:
    lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()
    head = lines[0].strip() if lines else ""
    kind = _LEGACY_HEADERS.get(head) or head.removeprefix("kind: ")
    return kind, {line for line in lines[1:] if line}


def _check_previous(out: Path, kind: str, marker_name: str, writer: str) -> bool:
    """Whether ``out`` exists; raises when it holds anything but an earlier output of ``kind``."""
    if out.is_symlink():
        raise InputError("is a symlink; refusing to write through it (--out)", file=str(out))
    if not out.exists():
        return False
    if not out.is_dir():
        raise InputError("exists and is not a folder (--out)", file=str(out))
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return True
    marker = out / marker_name
    if marker.is_symlink() or not marker.is_file():
        raise InputError(f"is not empty and was not written by `{writer}` (no {marker_name}); choose an empty "
                         "or new folder (--out)", file=str(out))
    found, listed = _read_marker(marker)
    if found != kind:
        raise InputError(f"holds a different rayfleet export ({found or 'unknown'}), not {kind} (--out)",
                         file=str(out))
    parents = {str(parent) for name in listed for parent in PurePosixPath(name).parents}
    for root, folders, files in os.walk(out):
        for name in sorted([*folders, *files]):
            path = Path(root, name)
            relative = path.relative_to(out).as_posix()
            if relative == marker_name:
                continue
            if path.is_symlink() or (path.is_dir() and relative not in parents) or (
                    not path.is_dir() and (relative not in listed or not path.is_file())):
                raise InputError(f"holds {relative!r}, which `{writer}` did not write; remove it or choose "
                                 "another folder (--out)", file=str(out))
    return True


def _write_file(root: Path, relative: str, text: str) -> None:
    parts = PurePosixPath(relative).parts
    if not parts or any(p in ("", ".", "..") for p in parts) or PurePosixPath(relative).is_absolute():
        raise ValueError(f"bad output path {relative!r}")  # built by rayfleet: a bug, not input
    folder = root.joinpath(*parts[:-1])
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_folder(out: Path, files: Mapping[str, str], *, kind: str, marker: str, writer: str) -> list[str]:
    """Replace ``out`` with exactly ``files`` (relative POSIX path -> text) and the marker named
    ``marker``. ``kind`` names the output in the marker; ``writer`` (the command) names it in
    errors. Returns the relative paths written, sorted."""
    out = Path(os.path.abspath(out))  # absolute, but symlinks left for the check to see
    if out.parent == out:
        raise InputError("cannot replace the root folder (--out)", file=str(out))
    existed = _check_previous(out, kind, marker, writer)
    names = sorted(files)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc} (--out)", file=str(out)) from None
    try:
        for name in names:
            _write_file(staging, name, files[name])
        _write_file(staging, marker, _marker_text(kind, names))
        staging.chmod(0o755)  # mkdtemp makes it private; the output is meant to be read and committed
        if not existed:
            os.replace(staging, out)
            return names
        _check_previous(out, kind, marker, writer)  # again just before the swap: it may have changed
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, retired / "out")
        try:
            os.replace(staging, out)
        except OSError:
            os.replace(retired / "out", out)
            raise
        finally:
            shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return names
