"""Chart docs: every value has a ``## @param`` and a schema entry; README tables are generated."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .chartkit import CHART_DIRS, load_yaml

PARAM = re.compile(r"^\s*## @param (\S+)", re.MULTILINE)
GENERATOR_PACKAGE = "@bitnami/readme-generator-for-helm@2.7.2"


def leaf_paths(values: Any, prefix: str = "") -> set[str]:
    if isinstance(values, dict) and values:
        paths: set[str] = set()
        for key, value in values.items():
            paths |= leaf_paths(value, f"{prefix}{key}.")
        return paths
    return {prefix[:-1]}


def schema_node(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: Any = schema
    for part in path.split("."):
        props = node.get("properties", {})
        if part in props:
            node = props[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node


@pytest.mark.parametrize("chart_dir", CHART_DIRS, ids=lambda p: p.name)
def test_every_value_has_exactly_one_param(chart_dir):
    text = (chart_dir / "values.yaml").read_text(encoding="utf-8")
    params = PARAM.findall(text)
    assert len(params) == len(set(params)), "duplicate @param"
    assert set(params) == leaf_paths(load_yaml(chart_dir / "values.yaml"))


@pytest.mark.parametrize("chart_dir", CHART_DIRS, ids=lambda p: p.name)
def test_every_value_is_in_the_schema(chart_dir):
    import json

    schema = json.loads((chart_dir / "values.schema.json").read_text(encoding="utf-8"))
    missing = [p for p in sorted(leaf_paths(load_yaml(chart_dir / "values.yaml"))) if schema_node(schema, p) is None]
    assert missing == []


def _generator() -> list[str]:
    if os.environ.get("README_GENERATOR"):
        return [os.environ["README_GENERATOR"]]
    if shutil.which("readme-generator"):
        return ["readme-generator"]
    if shutil.which("npx") and shutil.which("node"):
        return ["npx", "--yes", GENERATOR_PACKAGE]
    pytest.skip("node/npx not found: cannot run @bitnami/readme-generator-for-helm")


@pytest.mark.parametrize("chart_dir", CHART_DIRS, ids=lambda p: p.name)
def test_readme_parameters_table_is_up_to_date(chart_dir, tmp_path: Path):
    command = _generator()
    shutil.copy(chart_dir / "values.yaml", tmp_path / "values.yaml")
    shutil.copy(chart_dir / "README.md", tmp_path / "README.md")
    result = subprocess.run(
        [*command, "-v", str(tmp_path / "values.yaml"), "-r", str(tmp_path / "README.md")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    expected = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert (chart_dir / "README.md").read_text(encoding="utf-8") == expected, (
        f"{chart_dir.name}/README.md is stale: run `npx {GENERATOR_PACKAGE} -v values.yaml -r README.md` in the chart"
    )
