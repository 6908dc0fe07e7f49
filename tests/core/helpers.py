"""Test helpers: run the CLI in-process, copy the example fleet somewhere it may be changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result
from rayfleet.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=True, env=env)


def copy_example(tmp_path: Path) -> Path:
    """A copy of the example fleet (fleet file + values) whose chart path points at the repo's chart."""
    target = tmp_path / "fleet"
    shutil.copytree(REPO / "examples", target)
    fleet = target / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("chart: ../charts/ray-aks", f"chart: {REPO / 'charts' / 'ray-aks'}"))
    return fleet


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
