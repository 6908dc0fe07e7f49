"""The package's import graph (``docs/architecture.md``).

The layers, the rule that policies reach no adapter, live engine, runner, command, reporter or CLI,
and the absence of cycles are import-linter contracts in ``pyproject.toml`` (imports under
``if TYPE_CHECKING`` count). These tests run them, show that a planted violation breaks them, keep
the architecture page in step with the layers, allow function-level imports only for heavy or
optional third-party packages, and import every module on its own."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "validator" / "rayfleet"
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
# Imported inside the functions that need them: heavy (start-up time) or optional (pyhelm3).
LAZY_THIRD_PARTY = ("azure", "kubernetes", "rich", "helm_python", "pyhelm3")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> list[tuple[str, bool]]:
    """(imported module, inside a function) for every import statement of a module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([child.module] if child.module else [])])
                found.append((base, in_function))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            visit(child, nested)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [sys.executable, "-c",
                                                 "from importlinter.cli import lint_imports_command as c; c()"]
    return subprocess.run([*command, "--no-cache", "--no-logo"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_import_contracts_are_kept():
    done = _lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout


def test_a_planted_violation_breaks_the_contracts(tmp_path: Path):
    # A copy of the package first on the path: a type-only import back from fleet_scheduling to fleet
    # (a cycle), the subjects naming a domain model's type (a layer) and a policy reaching an adapter.
    copy = tmp_path / "rayfleet"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "fleet_scheduling.py").open("a", encoding="utf-8") as handle:
        handle.write("\nif TYPE_CHECKING:\n    from .fleet import Fleet\n")
    with (copy / "subjects.py").open("a", encoding="utf-8") as handle:
        handle.write("\nif TYPE_CHECKING:\n    from .capacity import CapacityTable\n")
    with (copy / "policies" / "image_pinned.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom ..kube import client as _client\n")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Contracts: 0 kept, 3 broken." in done.stdout, done.stdout
    assert "rayfleet.subjects is not allowed to import rayfleet.capacity" in done.stdout
    assert "- .fleet_scheduling -> .fleet (1 import)" in done.stdout
    assert "rayfleet.policies.image_pinned -> rayfleet.kube.client" in done.stdout


def test_the_layers_contract_places_every_module():
    # exhaustive = true makes import-linter fail on an unplaced module; this names the contract's
    # own modules so a layer cannot silently hold a module that does not exist.
    layers = next(c for c in CONTRACTS if c["type"] == "layers")
    assert layers["exhaustive"] is True
    placed = [m for layer in layers["layers"] for m in re.split(r"[\s:|]+", layer) if m]
    children = {name.split(".")[1] for name in MODULES if name.count(".") >= 1}
    assert sorted(placed) == sorted(children)


def test_the_architecture_page_lists_the_contract_layers():
    layers = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if re.match(r"\| \d+\. ", line)]
    assert len(rows) == len(layers), rows
    for row, layer in zip(rows, reversed(layers), strict=True):  # the page lists them bottom up
        modules = [m for m in re.split(r"[\s:|]+", layer) if m]
        cell = re.split(r"(?<!\\)\|", row)[2]
        missing = [m for m in modules if not re.search(rf"`{re.escape(m)}/?`", cell)]
        assert not missing, f"{row.split('|')[1].strip()}: {missing}"


def test_function_level_imports_are_only_for_heavy_or_optional_packages():
    inside = sorted(f"{name} imports {target}" for name in MODULES for target, in_function in _imports(name)
                    if in_function and target.split(".")[0] not in LAZY_THIRD_PARTY)
    assert inside == []


_DRIVER = textwrap.dedent("""
    import gc, importlib, os, sys, traceback
    for name in sys.argv[1].split():
        try:
            importlib.import_module(name)
        except ImportError:  # an optional dependency (pyhelm3)
            pass
    import rayfleet
    running, failed = {}, []

    def reap():
        pid, status = os.wait()
        if os.waitstatus_to_exitcode(status):
            failed.append(running[pid])
        del running[pid]

    gc.freeze()  # no copy-on-write of the whole heap in each child
    for name in [n for n in sys.argv[2:] if n not in sys.modules]:
        while len(running) >= 2:
            reap()
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        running[pid] = name
    while running:
        reap()
    print("failed:", " ".join(sorted(failed)))
    sys.exit(1 if failed else 0)
""")


def _import_each_alone(modules: list[str], pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Python imports a module's parent packages first, so a fresh interpreter asked for any
    ``rayfleet.x`` is, once ``import rayfleet`` has run, in one and the same state. One interpreter
    gets to that state and forks a child per module not yet loaded (so each child is that fresh
    interpreter, not an emulation); the modules ``import rayfleet`` loaded were imported as a fresh
    interpreter would. The third-party packages rayfleet imports are loaded first: they never import
    rayfleet, and loading them once keeps the test to seconds."""
    third_party = sorted({target for name in MODULES for target, _ in _imports(name)
                          if target.split(".")[0] not in (*sys.stdlib_module_names, "rayfleet", "")})
    env = {**os.environ, **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    return subprocess.run([sys.executable, "-c", _DRIVER, " ".join(third_party), *modules], env=env,
                          capture_output=True, text=True, timeout=300)


def test_every_module_imports_alone_in_a_fresh_interpreter():
    done = _import_each_alone(sorted(MODULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "failed:"


def test_a_module_that_needs_another_loaded_first_is_caught(tmp_path: Path):
    # commands.quota reaching commands.preflight through the package works only after something
    # else imported commands.preflight: in a fresh interpreter it fails.
    copy = tmp_path / "rayfleet"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "commands" / "quota.py").open("a", encoding="utf-8") as handle:
        handle.write("\nimport rayfleet.commands\n_ = rayfleet.commands.preflight\n")
    done = _import_each_alone(["rayfleet.commands.preflight", "rayfleet.commands.quota"], tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip() == "failed: rayfleet.commands.quota", done.stdout + done.stderr
