"""Golden files: what the user sees from every command over the example fleet, byte for byte.

They pin behaviour across refactors: a change to a report, a finding, the capacity table or the
identity plan shows up here as a diff. Volatile parts are normalised first: the tool version,
absolute paths (the repository and the shared folder) and timings. Dates are fixed by running
the waiver logic with ``TODAY`` where the library takes it.

After an intended change, regenerate with ``RAYFLEET_UPDATE_GOLDEN=1 pytest tests/core/test_golden.py``
and review the diff like code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from rayfleet import __version__
from rayfleet.pipeline import validate_fleet
from rayfleet.report import format_report

from .helpers import REPO, run_cli

GOLDEN = Path(__file__).parent / "golden"
SHARED = REPO.parent / "shared"
TODAY = date(2026, 12, 1)
UPDATE = os.environ.get("RAYFLEET_UPDATE_GOLDEN") == "1"
SCAN_FIXTURE = "tests/policies/fixtures/gpu-taint-toleration/fail.yaml"


def normalise(text: str) -> str:
    text = text.replace(str(SHARED.resolve()), "<shared>").replace(str(REPO.resolve()), "<repo>")
    text = re.sub(r'"(?:version|semanticVersion)": "' + re.escape(__version__) + '"',
                  lambda m: m.group(0).replace(__version__, "<version>"), text)
    text = text.replace(f"rayfleet {__version__}", "rayfleet <version>")
    return re.sub(r'"(durationSeconds|seconds|time)": [0-9.e-]+', r'"\1": 0', text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = normalise(text)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}: run with RAYFLEET_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (RAYFLEET_UPDATE_GOLDEN=1 to accept)"


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # paths in reports are relative to the working folder


@pytest.fixture(scope="module")
def validated():
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        return validate_fleet("examples/fleet.yaml", crds=SHARED / "crds" / "kuberay", today=TODAY)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "markdown"])
def test_validate_report(validated, fmt: str):
    ext = {"text": "txt", "markdown": "md", "junit": "xml"}.get(fmt, fmt)
    check_golden(f"validate.{ext}", format_report(fmt, validated, color=False))


CLI_CASES: dict[str, Callable[[], list[str]]] = {
    "scan.txt": lambda: ["scan", SCAN_FIXTURE, "--crds", str(SHARED / "crds" / "kuberay"), "--no-color"],
    "scan.json": lambda: ["scan", SCAN_FIXTURE, "--fleet", "examples/fleet.yaml", "--report", "json"],
    "quota.txt": lambda: ["quota", "examples/fleet.yaml", "--no-color"],
    "quota.json": lambda: ["quota", "examples/fleet.yaml", "--report", "json"],
    "plan.txt": lambda: ["plan", "examples/fleet.yaml"],
    "plan.json": lambda: ["plan", "examples/fleet.yaml", "--format", "json"],
    "identity-plan.txt": lambda: ["identity", "plan", "examples/fleet.yaml"],
    "identity-plan.json": lambda: ["identity", "plan", "examples/fleet.yaml", "--format", "json"],
    "identity-plan.sh": lambda: ["identity", "plan", "examples/fleet.yaml", "--format", "az"],
    "identity-plan.bicep": lambda: ["identity", "plan", "examples/fleet.yaml", "--format", "bicep"],
    "identity-check.json": lambda: ["identity", "check", "examples/fleet.yaml", "--report", "json"],
    "policies.md": lambda: ["policies", "--format", "markdown"],
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_command_output(name: str):
    outcome = run_cli(*CLI_CASES[name]())
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.output
    check_golden(name, f"exit {outcome.exit_code}\n{outcome.output}")
