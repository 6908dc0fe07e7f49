"""Kubernetes quantities (``500m``, ``16Gi``, ``2``) as numbers, one rule for every reader."""

from __future__ import annotations

import math
import re
from typing import Any

_SUFFIX = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes quantity as a number; None when it is not one (booleans are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and (match := _QUANTITY.match(value.strip())):
        number = float(match.group(1)) * _SUFFIX[match.group(2) or ""]
    else:
        return None
    return number if math.isfinite(number) else None  # .nan / .inf / 1e999 are not quantities
