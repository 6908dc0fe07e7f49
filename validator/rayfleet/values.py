"""Helm values: loading values files and folding them the way ``helm -f a -f b`` does.

Helm merges in two steps. First the ``-f`` files are folded left to right (Helm's ``mergeMaps``:
a map merges into a map, anything else is replaced by the later file, ``null`` included). Then
the result is coalesced with the chart's defaults, where ``null`` deletes a default. The second
step is Helm's own (``Chart.merge_values`` in the embedded engine); the first is ``fold_values``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import helm_python

from .errors import InputError
from .findings import SourceLocation
from .text import one_line
from .yamlio import KeyPath, LoadedDocument, load_document, read_text


@dataclass
class ValuesFile:
    """One values file: Helm's own reading of its content, and the line of each key."""

    path: str
    data: dict[str, Any]
    document: LoadedDocument

    def location(self, key_path: KeyPath) -> SourceLocation:
        return SourceLocation(self.path, self.document.line_of(key_path))


def load_values_file(path: str | Path, *, display: str | None = None) -> ValuesFile:
    """Load a values file; the content is parsed by Helm's own YAML reader.

    ``load_document`` reads it first, to refuse duplicate keys and alias bombs and to record lines.
    The values Helm renders with stay Helm's own reading (YAML 1.1, go-yaml's rules): reading the
    file once in Python and handing Helm that would save 0.3 ms per file (docs/benchmarks.md).
    """
    shown = display or str(path)
    return _values_file(shown, read_text(path, label="values file"))


@lru_cache(maxsize=2048)  # a 1,000-region fleet's files, read again by the export policies
def _values_file(shown: str, text: str) -> ValuesFile:
    # Read from disk every time, parsed once per process for the same text: every region's stack
    # shares the fleet's values files, and the export policies read every region's stack again.
    document = load_document(text, shown)
    if not isinstance(document.data, dict):
        kind = "list" if isinstance(document.data, list) else type(document.data).__name__
        raise InputError(f"a values file must be a mapping, this one is a {kind}", file=shown)
    try:
        data = helm_python.values_from_yaml(text) if text.strip() else {}
    except helm_python.HelmError as exc:
        raise InputError(f"Helm cannot read it: {one_line(exc)}", file=shown) from None
    return ValuesFile(shown, data or {}, document)


def fold_values(layers: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Fold values maps left to right with Helm's ``mergeMaps`` rule."""
    out: dict[str, Any] = {}
    for layer in layers:
        out = _merge_maps(out, layer)
    return out


def _merge_maps(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = _merge_maps(current, value)
        else:
            out[key] = value
    return out


@dataclass
class ValuesStack:
    """The ordered values files of one region and where each leaf of the fold came from."""

    files: Sequence[ValuesFile]
    merged: dict[str, Any] = field(init=False)
    _origin: dict[KeyPath, SourceLocation] = field(init=False, repr=False)
    _by_value: dict[str, list[tuple[KeyPath, SourceLocation]]] | None = field(
        init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.merged = fold_values(f.data for f in self.files)
        self._origin = {}
        for values_file in self.files:
            self._record(values_file, values_file.data, ())

    def _record(self, values_file: ValuesFile, data: Any, path: KeyPath, *, replacing: bool = True) -> None:
        # A later file replaces everything under a key it sets to a non-map (lists included).
        if isinstance(data, dict) and data:
            self._origin.pop(path, None)
            for key, value in data.items():
                self._record(values_file, value, (*path, key), replacing=replacing)
            return
        if replacing:
            for known in [p for p in self._origin if p[: len(path)] == path]:
                del self._origin[known]
        self._origin[path] = values_file.location(path)
        if isinstance(data, list):  # list items keep their own lines, for tracing values inside lists
            for index, item in enumerate(data):
                self._record(values_file, item, (*path, index), replacing=False)

    def origin(self, key_path: KeyPath) -> SourceLocation | None:
        """Which file (and line) set ``key_path`` last."""
        return self._origin.get(tuple(key_path))

    def locate_value(self, value: object, template: str | None = None) -> SourceLocation | None:
        """Where a rendered value came from, when exactly one values key set that value.

        Only distinctive values are traced: short or boolean-like strings would match by chance.
        With the ``template`` that rendered the object, keys that feed that template's subchart
        (its own key, or ``global``) are preferred: the same node pool named under ``ray-cluster``
        and under ``scheduling`` still traces a RayCluster finding to the ``ray-cluster`` key.
        """
        if not isinstance(value, str | int) or isinstance(value, bool):
            return None
        text = str(value)
        if len(text) < 4 or text.lower() in {"true", "false", "null", "none"}:
            return None
        if self._by_value is None:
            self._by_value = {}
            for path, location in self._origin.items():
                leaf = _lookup(self.merged, path)
                if isinstance(leaf, str | int) and not isinstance(leaf, bool):
                    self._by_value.setdefault(str(leaf), []).append((path, location))
        matches = self._by_value.get(text, [])
        if template is not None:
            matches = [m for m in matches if _feeds(m[0], template)] or matches
        return matches[-1][1] if len({m[1] for m in matches}) == 1 else None

    def leaves(self) -> Iterator[tuple[KeyPath, SourceLocation, Any]]:
        """Every leaf of the fold: its key path, the file and line that set it, its value."""
        for path, location in self._origin.items():
            yield path, location, _lookup(self.merged, path)

    def locate_all(self, value: str) -> list[tuple[KeyPath, SourceLocation]]:
        """Every key whose merged value is ``value`` (compared without case), in values-stack
        order: the places a person edits to change a rendered value."""
        wanted = value.strip().lower()
        if not wanted:
            return []
        order = {f.path: i for i, f in enumerate(self.files)}
        found = [(path, loc) for path, loc, leaf in self.leaves()
                 if isinstance(leaf, str) and leaf.strip().lower() == wanted]
        return sorted(found, key=lambda item: (order.get(item[1].file, 0), item[1].line or 0))


def _feeds(path: KeyPath, template: str) -> bool:
    """Whether the values key ``path`` reaches ``template``: Helm hands a subchart only the values
    under its own name, plus ``global``."""
    return bool(path) and (path[0] == "global" or f"charts/{path[0]}/templates/" in template)


def _lookup(data: Any, path: KeyPath) -> Any:
    for key in path:
        in_dict = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        if in_dict or in_list:
            data = data[key]
        else:
            return None
    return data
