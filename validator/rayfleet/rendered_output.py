"""Writing rendered objects to a folder, one file per object, for GitOps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from .manifests import KubeObject


def object_file_name(obj: KubeObject) -> str:
    """``<namespace>--<kind>--<name>.yaml`` (cluster-scoped: ``<kind>--<name>.yaml``), lower-case."""
    parts = [p for p in (obj.namespace, obj.kind, obj.name) if p]
    return "--".join(re.sub(r"[^a-z0-9.-]+", "-", p.lower()) for p in parts) + ".yaml"


def write_objects(objects: Sequence[KubeObject], folder: Path) -> list[Path]:
    """Write each object to its own file; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in objects:
        path = folder / object_file_name(obj)
        header = f"# Source: {obj.template}\n" if obj.template else ""
        path.write_text(header + yaml.safe_dump(obj.body, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
