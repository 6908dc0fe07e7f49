"""Files that ship inside the package: JSON Schemas and the VM size catalogue."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from ``rayfleet/schemas`` (the project's top-level ``schemas/`` folder)."""
    text = resources.files("rayfleet").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def data_text(name: str) -> str:
    """A data file from ``rayfleet/data``."""
    return resources.files("rayfleet").joinpath("data", name).read_text(encoding="utf-8")
