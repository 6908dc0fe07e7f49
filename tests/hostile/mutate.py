"""Mutating Kubernetes objects the way a hostile or careless PR would: a field's type swapped, a
field nulled, a list where a map belongs (and the reverse). Deterministic for a given ``Random``."""

from __future__ import annotations

import copy
import random
from typing import Any

Path = tuple[str | int, ...]

# Fields every object that reaches a policy is known to have (the loader refuses the rest).
_KEPT: set[Path] = {("apiVersion",), ("kind",), ("metadata",), ("metadata", "name")}


def paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every path below ``node`` (not ``node`` itself)."""
    out: list[Path] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(paths(value, (*prefix, index)))
    return out


def _replacements(value: Any, rng: random.Random) -> list[Any]:
    swapped: list[Any] = [None, "", "x", 0, -1, 2**63, 10**400, 1.5, float("nan"), float("inf"), True, False,
                          [], {}, [None], {"name": ["x"]}, [{"name": {"a": 1}, "value": 3}], ["x", 1, None]]
    if isinstance(value, dict):
        swapped += [list(value.values()), list(value.items()), [value], list(value)]
    elif isinstance(value, list):
        swapped += [{str(i): v for i, v in enumerate(value)}, value * 2, value[:1]]
        if value and isinstance(value[0], dict):
            swapped.append(value[0])
    elif isinstance(value, str):
        swapped += [[value], {value: value}, value * 50, value.upper(), f"{value}\n{value}"]
    elif isinstance(value, bool | int | float):
        swapped += [str(value), [value], {"value": value}, -value if not isinstance(value, bool) else "yes"]
    return swapped


def mutate(body: dict[str, Any], rng: random.Random, count: int = 2) -> dict[str, Any]:
    """A deep copy of ``body`` with ``count`` random fields replaced."""
    out = copy.deepcopy(body)
    for _ in range(count):
        candidates = [p for p in paths(out) if p not in _KEPT]
        if not candidates:
            break
        target = rng.choice(candidates)
        parent: Any = out
        for key in target[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.15:
            # YAML (unlike JSON) lets a key be a number, a boolean or null
            parent[rng.choice([7, True, None, 1.5])] = parent.pop(target[-1])
            continue
        parent[target[-1]] = rng.choice(_replacements(parent[target[-1]], rng))
    return out
