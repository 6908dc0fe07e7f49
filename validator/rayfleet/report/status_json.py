"""A fleet status snapshot as JSON (``schemas/status.schema.json``); ``rayfleet.status.load_snapshot``
reads it back."""

from __future__ import annotations

import json
import math
from dataclasses import fields, is_dataclass
from typing import Any

from ..status import SNAPSHOT_API_VERSION, SNAPSHOT_KIND, FleetStatus, json_name


def _to_json(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {json_name(f.name): _to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def status_to_dict(status: FleetStatus) -> dict[str, Any]:
    return {"apiVersion": SNAPSHOT_API_VERSION, "kind": SNAPSHOT_KIND, **_to_json(status)}


def format_status_json(status: FleetStatus) -> str:
    return json.dumps(status_to_dict(status), indent=2, ensure_ascii=False) + "\n"
