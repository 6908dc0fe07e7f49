"""README's exit-code contract, for every command: bad input or usage is exit 2 with one line on
stderr, never click's usage block and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.cli import COMMANDS, main

from ..core.helpers import run_cli


def _leaf_commands() -> list[list[str]]:
    out: list[list[str]] = []
    for command in COMMANDS:
        if command.name == "policies":
            out.append(["policies", "show"])
        elif hasattr(command, "commands"):  # a group: each subcommand
            out += [[command.name, sub] for sub in command.commands]
        else:
            out.append([command.name])
    return out


def _one_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    return lines[0]


def test_every_command_is_covered():
    names = {" ".join(c) for c in _leaf_commands()}
    assert {"validate", "scan", "render", "plan", "quota", "rollout", "preflight", "identity probe"} <= names
    assert set(main.commands) == {c.name for c in COMMANDS}


@pytest.mark.parametrize("command", _leaf_commands(), ids=" ".join)
def test_an_unknown_option_is_one_line(command: list[str]):
    line = _one_line(run_cli(*command, "--no-such-option"))
    assert "--no-such-option" in line and "--help" in line


@pytest.mark.parametrize("command", [c for c in _leaf_commands() if c[0] not in ("scan", "policies")
                                     and c != ["identity", "probe"]], ids=" ".join)
def test_a_missing_fleet_file_is_one_line(command: list[str], tmp_path: Path):
    extra = ["--out", str(tmp_path / "out")] if command[0] in ("render", "export") else []
    extra += ["--region", "eastus2"] if command == ["render"] else []
    line = _one_line(run_cli(*command, str(tmp_path / "missing.yaml"), *extra))
    assert "missing.yaml" in line


def test_a_bad_option_value_is_one_line():
    line = _one_line(run_cli("quota", "--timeout", "0"))
    assert "--timeout" in line


def test_help_and_version_still_exit_0():
    assert run_cli("--help").exit_code == 0
    assert run_cli("validate", "--help").exit_code == 0
    assert run_cli("--version").exit_code == 0
