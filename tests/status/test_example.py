"""examples/status/snapshot.json is what the fake API scenario reads today, and a valid snapshot.

Set RAYFLEET_UPDATE_EXAMPLES=1 to rewrite it after a deliberate change."""

from __future__ import annotations

import json
import os

import jsonschema
from rayfleet.report.status_json import format_status_json
from rayfleet.resources import load_schema
from rayfleet.status import HEALTHY, load_snapshot

from tests.status.scenario import EXAMPLE_SNAPSHOT, example_snapshot


def test_example_snapshot_is_up_to_date(tmp_path):
    built = format_status_json(example_snapshot(tmp_path))
    if os.environ.get("RAYFLEET_UPDATE_EXAMPLES") == "1":
        EXAMPLE_SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        EXAMPLE_SNAPSHOT.write_text(built, encoding="utf-8")
    assert EXAMPLE_SNAPSHOT.read_text(encoding="utf-8") == built, (
        "examples/status/snapshot.json is stale: rerun with RAYFLEET_UPDATE_EXAMPLES=1")


def test_example_snapshot_is_valid_and_shows_every_kind_of_region():
    document = json.loads(EXAMPLE_SNAPSHOT.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(load_schema("status.schema.json")).validate(document)
    status = load_snapshot(EXAMPLE_SNAPSHOT)
    assert {r.state for r in status.regions} >= {HEALTHY, "degraded", "unauthorized"}
    assert "127.0.0.1" not in EXAMPLE_SNAPSHOT.read_text(encoding="utf-8")
