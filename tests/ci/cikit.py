"""Helpers for the CI-integration tests: load the CI files, run their shell steps as the CI
system would, and make a scratch copy of the example fleet to break."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .conftest import REPO

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def expressions(text: str) -> list[str]:
    """The ``${{ ... }}`` expressions in a text (GitHub Actions and Azure Pipelines share the syntax)."""
    return EXPRESSION.findall(text)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``${{ expr }}`` by ``values[expr]``; an expression without a value is a test bug."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"no value for expression {match.group(0)!r}")
        return values[match.group(1)]

    return EXPRESSION.sub(replace, text)


@dataclass(frozen=True)
class Run:
    code: int
    output: str


GITHUB_BASH = ("-eo", "pipefail")  # GitHub's `shell: bash`; Azure's `bash:` step adds no options


def run_bash(script: str, *, cwd: Path, env: Mapping[str, str], path: str,
             options: tuple[str, ...] = GITHUB_BASH) -> Run:
    """Run a step's script as the CI runner does (``bash --noprofile --norc <options>``), with only
    the given environment plus PATH and HOME."""
    full_env = {"PATH": path, "HOME": os.environ.get("HOME", str(cwd)), **env}
    proc = subprocess.run(["bash", "--noprofile", "--norc", *options, "-c", script], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=120, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def copy_example_fleet(target: Path) -> Path:
    """Copy the example fleet (``examples/``) and the chart (``charts/``) to ``target``, keeping
    their relative layout; return the copied fleet file."""
    shutil.copytree(REPO / "examples", target / "examples")
    shutil.copytree(REPO / "charts", target / "charts", ignore=shutil.ignore_patterns("*.tgz"))
    return target / "examples" / "fleet.yaml"


def break_eastus2(root: Path) -> Path:
    """Make maxReplicas of eastus2's CPU worker group a string (the platform override sets the GPU
    group's, so break the other one): the chart's values schema rejects it."""
    values = root / "examples" / "values" / "regions" / "eastus2.yaml"
    head, cpu_group, tail = values.read_text(encoding="utf-8").partition("    cpu:\n")
    assert cpu_group and "      maxReplicas: 4\n" in tail, "examples/values/regions/eastus2.yaml changed shape"
    values.write_text(head + cpu_group + tail.replace("      maxReplicas: 4\n", '      maxReplicas: "lots"\n', 1),
                      encoding="utf-8")
    return values
