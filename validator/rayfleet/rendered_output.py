"""``rayfleet render --out``: rendered objects as one file per object, for GitOps, written by the
one output-folder writer (``rayfleet.output_folder``: the folder replaced as a whole, a marker
listing what rayfleet wrote, anything else refused)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from .manifests import KubeObject
from .output_folder import write_folder

MARKER = ".rayfleet-render"


def object_file_name(obj: KubeObject) -> str:
    """``<namespace>--<kind>--<name>.yaml`` (cluster-scoped: ``<kind>--<name>.yaml``), lower-case."""
    parts = [p for p in (obj.namespace, obj.kind, obj.name) if p]
    return "--".join(re.sub(r"[^a-z0-9.-]+", "-", p.lower()) for p in parts).lstrip(".") + ".yaml"


def _document(obj: KubeObject) -> str:
    # Every document starts with "---", so `cat out/*.yaml | rayfleet scan -` reads them apart.
    header = f"# Source: {obj.template}\n" if obj.template else ""
    return "---\n" + header + yaml.safe_dump(obj.body, sort_keys=False)


def write_objects(objects: Sequence[KubeObject], folder: Path) -> list[Path]:
    """Replace ``folder`` with one file per object (objects whose names collide share a file,
    separated by ``---``) and the marker (``rayfleet.output_folder``); returns the paths written."""
    documents: dict[str, list[str]] = {}
    for obj in objects:
        documents.setdefault(object_file_name(obj), []).append(_document(obj))
    written = write_folder(folder, {name: "".join(texts) for name, texts in documents.items()}, kind="render",
                           marker=MARKER, writer="rayfleet render")
    return [Path(os.path.abspath(folder)) / name for name in written]
