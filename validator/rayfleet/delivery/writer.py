"""Export folders: deterministic YAML, written by the one output-folder writer
(``rayfleet.output_folder``). ``--out`` is new, empty, or exactly an earlier export of the same
kind (its marker ``.rayfleet-export`` lists every file); anything else is refused, so ``--out``
pointed at the wrong place (a home folder, a chart) cannot be wiped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..output_folder import write_folder

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


def write_export(out: Path, kind: str, files: Mapping[str, str]) -> list[str]:
    """Replace ``out`` with exactly ``files`` (relative POSIX path -> text) and the marker, by the
    one output-folder writer (``rayfleet.output_folder``). Returns the relative paths written."""
    writer = "rayfleet policies export" if kind == "admission" else f"rayfleet export {kind}"
    return write_folder(out, files, kind=kind, marker=MARKER, writer=writer)
