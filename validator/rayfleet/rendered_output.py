"""Writing rendered objects to a folder, one file per object, for GitOps.

The folder is replaced as a whole: objects are written into a fresh temporary folder beside it,
which is then swapped in, so a render never leaves a stale object from an earlier one (GitOps would
apply it) and never writes through a symlink. A marker file (``MARKER``) lists what rayfleet wrote;
an existing folder is replaced only when it is empty or holds exactly what its marker lists.
Anything else (a file a person put there, a symlink, a subfolder) is refused with an ``InputError``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from .errors import InputError
from .manifests import KubeObject

MARKER = ".rayfleet-render"
_MARKER_HEADER = "# written by `rayfleet render`; the folder is replaced on every render. Files:\n"


def object_file_name(obj: KubeObject) -> str:
    """``<namespace>--<kind>--<name>.yaml`` (cluster-scoped: ``<kind>--<name>.yaml``), lower-case."""
    parts = [p for p in (obj.namespace, obj.kind, obj.name) if p]
    return "--".join(re.sub(r"[^a-z0-9.-]+", "-", p.lower()) for p in parts).lstrip(".") + ".yaml"


def _document(obj: KubeObject) -> str:
    # Every document starts with "---", so `cat out/*.yaml | rayfleet scan -` reads them apart.
    header = f"# Source: {obj.template}\n" if obj.template else ""
    return "---\n" + header + yaml.safe_dump(obj.body, sort_keys=False)


def _previous_output(folder: Path) -> bool:
    """Whether ``folder`` exists; raises when it holds anything but an earlier render's output."""
    if folder.is_symlink():
        raise InputError("is a symlink; refusing to write through it (--out)", file=str(folder))
    if not folder.exists():
        return False
    if not folder.is_dir():
        raise InputError("exists and is not a folder (--out)", file=str(folder))
    entries = {entry.name: entry for entry in os.scandir(folder)}
    if not entries:
        return True
    marker = entries.get(MARKER)
    if marker is None or not marker.is_file(follow_symlinks=False):
        raise InputError(f"is not empty and was not written by `rayfleet render` (no {MARKER}); "
                         "choose an empty or new folder (--out)", file=str(folder))
    listed = set(Path(marker.path).read_text(encoding="utf-8").splitlines()[1:])
    for name, entry in sorted(entries.items()):
        if name == MARKER:
            continue
        if name not in listed or entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            raise InputError(f"holds {name!r}, which `rayfleet render` did not write; remove it or choose "
                             "another folder (--out)", file=str(folder))
    return True


def write_objects(objects: Sequence[KubeObject], folder: Path) -> list[Path]:
    """Replace ``folder`` with one file per object (objects whose names collide share a file,
    separated by ``---``) and the marker; returns the paths written."""
    folder = Path(os.path.abspath(folder))  # absolute, but symlinks left for _previous_output to see
    if folder.parent == folder:
        raise InputError("cannot replace the root folder (--out)", file=str(folder))
    existed = _previous_output(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.rayfleet-", dir=folder.parent))
    try:
        names: dict[str, list[str]] = {}
        for obj in objects:
            names.setdefault(object_file_name(obj), []).append(_document(obj))
        for name, documents in names.items():
            # "x" (exclusive create) never follows or overwrites anything, even in a fresh folder
            with open(fresh / name, "x", encoding="utf-8") as out:
                out.write("".join(documents))
        with open(fresh / MARKER, "x", encoding="utf-8") as out:
            out.write(_MARKER_HEADER + "".join(f"{name}\n" for name in sorted(names)))
        fresh.chmod(0o755)  # mkdtemp makes it private; the output is meant to be read and committed
        if existed:
            retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            os.replace(folder, retired / "out")
            os.replace(fresh, folder)
            shutil.rmtree(retired)
        else:
            os.replace(fresh, folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return [folder / name for name in sorted(names)]
