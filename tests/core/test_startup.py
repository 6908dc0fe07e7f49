"""Start-up: ``rayfleet --version`` and ``--help`` import no command module and none of the heavy
libraries, and ``validate`` none of the live-check clients. Checked by the modules a fresh
interpreter loads (``sys.modules``), not by timing, so a busy machine cannot make it flaky; the
times themselves are in docs/benchmarks.md (``python -X importtime``)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest
from rayfleet.cli import LAZY_COMMANDS, main

from .helpers import REPO

# Libraries that cost tens to hundreds of milliseconds to import, and the library's own heavy layers.
HEAVY = ("helm_python", "jsonschema", "referencing", "kubernetes", "azure", "msal", "cel", "rich", "ruamel",
         "yaml", "kubernetes_validate", "requests", "urllib3", "rayfleet.pipeline", "rayfleet.policies",
         "rayfleet.report", "rayfleet.fleet", "rayfleet.cli.core", "rayfleet.cli.common")
# What validate must not pay for: the clients of the live checks.
LIVE_CLIENTS = ("kubernetes", "azure", "msal", "cel", "prompt_toolkit")


def _loaded_after(*argv: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from rayfleet.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.write('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_nothing_heavy(flag):
    assert _heavy(_loaded_after(flag), HEAVY) == []


def test_validate_does_not_import_the_live_clients():
    modules = _loaded_after("validate", "examples/fleet.yaml", "--report", "json")
    assert "rayfleet.pipeline" in modules  # it did run
    assert _heavy(modules, LIVE_CLIENTS) == []


def test_import_rayfleet_is_lazy_but_complete():
    code = ("import sys, rayfleet\n"
            "assert 'rayfleet.pipeline' not in sys.modules, 'import rayfleet loaded the pipeline'\n"
            "missing = [n for n in rayfleet.__all__ if getattr(rayfleet, n, None) is None]\n"
            "assert not missing, missing\n"
            "from rayfleet import validate_fleet, Severity\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "ok", done.stderr


def test_unknown_attribute_is_an_attribute_error():
    import rayfleet

    with pytest.raises(AttributeError):
        rayfleet.no_such_thing  # noqa: B018


@pytest.mark.parametrize("limit", [30, 45, 80, 200])
def test_help_summaries_equal_the_commands_own(limit):
    # --help lists the summaries without importing the commands: they must say what the commands say.
    for lazy in LAZY_COMMANDS:
        command = main.get_command(click.Context(main), lazy.name)
        assert command is not None and command.name == lazy.name
        shown = click.Command(lazy.name, help=lazy.summary).get_short_help_str(limit)
        assert shown == command.get_short_help_str(limit), lazy.name


def test_every_command_module_is_listed():
    # A command added to a cli module but not to LAZY_COMMANDS would never be reachable.
    listed = {(c.module, c.attr) for c in LAZY_COMMANDS} | {s for c in LAZY_COMMANDS for s in c.subcommands}
    commands: dict[tuple[str, str], click.Command] = {}
    for path in (REPO / "validator" / "rayfleet" / "cli").glob("*.py"):
        if not path.stem.startswith("_"):
            module = importlib.import_module(f"rayfleet.cli.{path.stem}")
            commands.update({(path.stem, attr): value for attr, value in vars(module).items()
                             if isinstance(value, click.Command) and value.__module__ == module.__name__})
    nested = {id(sub) for group in commands.values() if isinstance(group, click.Group)
              for sub in group.commands.values()}
    top = {key for key, command in commands.items() if id(command) not in nested}
    assert top <= listed, sorted(top - listed)
