"""The machine and the versions a benchmark ran with, for the results header."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip('"')
    except OSError:
        return None
    return None


def machine() -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    memory = f"{int(mem_kb.split()[0]) / 1024 / 1024:.1f} GiB" if mem_kb else "?"
    os_name = _first("/etc/os-release", "PRETTY_NAME=") or platform.system()
    return {
        "CPU": _first("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "RAM": memory,
        "OS": f"{os_name} ({platform.system()} {platform.release()}, {platform.machine()})",
    }


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def tool_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (out.stdout or out.stderr).strip().splitlines()[-1] if (out.stdout or out.stderr).strip() else "?"


def versions(checkov: str | None) -> dict[str, str]:
    import helm_python
    import rayfleet
    from rayfleet.policies import ALL_POLICIES

    return {
        "python": sys.version.split()[0],
        "rayfleet": rayfleet.__version__,
        "rayfleet policies": str(len(ALL_POLICIES)),
        "helm-python-sdk": f"{_version('helm-python-sdk')} (Helm {helm_python.helm_sdk_version()})",
        "kubernetes-validate": _version("kubernetes-validate"),
        "jsonschema": _version("jsonschema"),
        "checkov": tool_version([checkov, "--version"]) if checkov else "not found",
    }
