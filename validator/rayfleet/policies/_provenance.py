"""Which values key set a rendered number, and which files set it before (the cause of a finding).

A number such as ``maxReplicas: 8`` is too common to trace by value alone; it is traced by its
key name too (the chart names its values after the fields they render), preferring keys under
the group's own name. Not a policy (the leading underscore keeps it out of the registry test).
"""

from __future__ import annotations

from typing import Any

from ..findings import SourceLocation
from ..secrets import format_path
from ..values import ValuesStack
from ..yamlio import KeyPath


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _lookup(data: Any, path: KeyPath) -> Any:
    for key in path:
        in_dict = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        if not (in_dict or in_list):
            return None
        data = data[key]
    return data


def number_key(stack: ValuesStack, field: str, rendered: Any, near: str | None = None
               ) -> tuple[KeyPath, SourceLocation] | None:
    """The values key named ``field`` whose merged value is ``rendered`` (under a key ``near``
    when several match), with the file and line that set it last; None when it cannot be told."""
    wanted = _number(rendered)
    if wanted is None:
        return None
    found = [(path, location) for path, location, leaf in stack.leaves()
             if path and path[-1] == field and _number(leaf) == wanted]
    if len(found) > 1 and near is not None:
        found = [f for f in found if near in f[0]] or found
    return found[0] if len(found) == 1 else None


def earlier_settings(stack: ValuesStack, path: KeyPath) -> list[tuple[Any, SourceLocation]]:
    """(value, where) for every values file before the last that also set ``path``."""
    settings = []
    for values_file in stack.files:
        line = values_file.document.lines.get(tuple(path))
        value = _lookup(values_file.data, path)
        if line is not None and value is not None:
            settings.append((value, SourceLocation(values_file.path, line)))
    return settings[:-1]


def describe_setting(stack: ValuesStack | None, field: str, rendered: Any, near: str | None = None) -> str:
    """``maxReplicas 8 is set by ray-cluster.workerGroups.gpu.maxReplicas at overrides.yaml:7
    (over 4 at regions/eastus2.yaml:22)``, or "" when the values files do not tell."""
    if stack is None:
        return ""
    traced = number_key(stack, field, rendered, near)
    if traced is None:
        return ""
    path, location = traced
    text = f"{field} {rendered} is set by {format_path(path)} at {location}"
    before = earlier_settings(stack, path)
    if before:
        text += " (over " + ", ".join(f"{value} at {where}" for value, where in before) + ")"
    return text
