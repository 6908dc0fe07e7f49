"""The package's import graph: no cycle at run time, each layer imports only the layers below it
(``docs/architecture.md``), and no module imports another inside a function to dodge a cycle.

Imports under ``if TYPE_CHECKING`` are for annotations only: they count for the layer rules (a
policy may not even name an adapter's type) but not for cycles (the fleet file's parser and its
scheduling section name each other's types)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "validator" / "rayfleet"



def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, *, typing_only: bool = True) -> list[tuple[str, bool]]:
    """(imported rayfleet module, inside a function) for every import in a module; with
    ``typing_only`` also those under ``if TYPE_CHECKING``."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if not typing_only and isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([child.module] if child.module else [])])
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    found.append((target if target in MODULES else base, in_function))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            visit(child, nested)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


GRAPH = {name: {target for target, _ in _imports(name) if target in MODULES and target != name} for name in MODULES}
RUNTIME = {name: {target for target, _ in _imports(name, typing_only=False) if target in MODULES and target != name}
           for name in MODULES}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(RUNTIME[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for name in sorted(RUNTIME):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_the_runtime_import_graph_has_no_cycle():
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_the_graph_is_read_from_the_package():
    assert {"rayfleet.runner", "rayfleet.subjects", "rayfleet.policies.base"} <= set(GRAPH)
    assert "rayfleet.subjects" in GRAPH["rayfleet.policies.base"]


def test_no_module_imports_another_inside_a_function():
    # Function-level imports are left for third-party packages a command needs late (pyhelm3,
    # the Azure SDK); never to dodge a cycle between rayfleet's own modules.
    inside = sorted(f"{name} imports {target}" for name in MODULES for target, in_function in _imports(name)
                    if in_function and (target == "rayfleet" or target.startswith("rayfleet.")))
    assert inside == []


def _reaches(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in GRAPH[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


FORBIDDEN_FOR_POLICIES = ("rayfleet.azure", "rayfleet.kube", "rayfleet.pipeline", "rayfleet.runner",
                          "rayfleet.commands", "rayfleet.cli", "rayfleet.report", "rayfleet.waivers",
                          "rayfleet.result", "rayfleet.rollout")


def test_policies_import_no_adapter_runner_command_or_cli():
    policies = [n for n in MODULES if n == "rayfleet.policies" or n.startswith("rayfleet.policies.")]
    bad = sorted(f"{p} reaches {t}" for p in policies for t in _reaches(p)
                 if any(t == f or t.startswith(f + ".") for f in FORBIDDEN_FOR_POLICIES))
    assert bad == []


@pytest.mark.parametrize("adapter", ["rayfleet.azure", "rayfleet.kube"])
def test_adapters_never_import_policies_or_the_runner(adapter: str):
    modules = [n for n in MODULES if n.startswith(adapter + ".")]
    bad = sorted(f"{m} reaches {t}" for m in modules for t in _reaches(m)
                 if t.startswith(("rayfleet.policies", "rayfleet.runner", "rayfleet.commands", "rayfleet.pipeline")))
    assert bad == []


def test_subjects_sit_below_the_domain_models():
    below = _reaches("rayfleet.subjects")
    assert not any(t.startswith(("rayfleet.capacity", "rayfleet.policies", "rayfleet.identity")) for t in below)


def test_every_module_imports_alone_in_a_fresh_interpreter():
    # Importing any module runs rayfleet/__init__ first, so a fresh interpreter per module differs
    # from this only in the package's own modules, which every import loads the same way. So:
    # one interpreter, and before each module the rayfleet modules loaded after the package are dropped.
    code = (
        "import importlib, sys\n"
        "import rayfleet\n"
        "base = set(sys.modules)\n"
        f"names = {sorted(MODULES)!r}\n"
        "failed = []\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('rayfleet.') and m not in base]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
