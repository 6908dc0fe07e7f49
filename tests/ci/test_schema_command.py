"""``rayfleet schema``: the fleet file's JSON Schema for editors, and the docs that use it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from ..core.helpers import run_cli
from .conftest import REPO


def test_schema_fleet_prints_the_schema_the_fleet_file_is_checked_with(tmp_path: Path):
    printed = run_cli("schema", "fleet")
    assert printed.exit_code == 0, printed.output
    schema = json.loads(printed.output)
    assert schema == json.loads((REPO / "schemas" / "fleet.schema.json").read_text())
    example = yaml.safe_load((REPO / "examples" / "fleet.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(example)
    assert list(jsonschema.Draft7Validator(schema).iter_errors({**example, "regoins": []}))  # closed

    out = tmp_path / "fleet.schema.json"
    written = run_cli("schema", "fleet", "--out", str(out))
    assert written.exit_code == 0 and json.loads(out.read_text()) == schema


def test_schema_out_into_a_missing_folder_is_a_one_line_error(tmp_path: Path):
    result = run_cli("schema", "fleet", "--out", str(tmp_path / "missing" / "fleet.schema.json"))
    assert result.exit_code == 2 and "does not exist" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_docs_point_editors_at_the_written_schema():
    docs = (REPO / "docs" / "ci.md").read_text()
    assert "rayfleet schema fleet --out fleet.schema.json" in docs
    assert "# yaml-language-server: $schema=./fleet.schema.json" in docs
    assert "SchemaStore" in docs
