"""The release as ``helm dependency build`` leaves it: a temporary copy of the repository's charts/
and examples/ with the upstream charts the umbrella declares (kuberay-operator, and kueue once it is
declared) unpacked from ../shared/charts into charts/ray-aks/charts/. Never into the repository."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
UMBRELLA = REPO / "charts" / "ray-aks"


def declared_upstream(shared: Path) -> dict[str, Path]:
    """Upstream dependencies the umbrella declares (with a repository) that ../shared/charts holds."""
    chart = yaml.safe_load((UMBRELLA / "Chart.yaml").read_text())
    found = {}
    for dep in chart.get("dependencies") or []:
        if str(dep.get("repository", "")).startswith(("https://", "oci://")):
            tgz = shared / "charts" / f"{dep['name']}-{dep['version']}.tgz"
            if tgz.exists():
                found[dep["name"]] = tgz
    return found


def ship(root: Path, shared: Path) -> dict[str, Path]:
    """Copy charts/ and examples/ under ``root`` and unpack the declared upstream charts there."""
    upstream = declared_upstream(shared)
    shutil.copytree(REPO / "charts", root / "charts")
    shutil.copytree(REPO / "examples", root / "examples")
    for tgz in upstream.values():
        with tarfile.open(tgz) as archive:
            archive.extractall(root / "charts" / "ray-aks" / "charts", filter="data")
    return upstream
