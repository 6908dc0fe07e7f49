"""A fleet written into a temporary folder and one policy run over it, the way the fleet fixtures
are run (``fixturekit.run_fleet_fixture``): for cases that need many small fleets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rayfleet.findings import Finding
from rayfleet.policies.base import Policy

from .fixturekit import run_fleet_fixture

CHART = Path(__file__).resolve().parents[2] / "charts" / "ray-aks"


def region(name: str, manifests: str | None = None, **extra: Any) -> dict[str, Any]:
    """A region entry: location = name, an AKS cluster ``aks-<name>``, its manifests file."""
    entry: dict[str, Any] = {"name": name, "location": name,
                             "cluster": {"name": f"aks-{name}", "kubernetesVersion": "1.33"}, "valuesFiles": []}
    if manifests:
        entry["manifests"] = manifests
    entry.update(extra)
    return entry


def run_fleet(tmp_path: Path, policy: Policy, regions: list[dict[str, Any]], files: dict[str, str],
              **top: Any) -> list[Finding]:
    """``policy`` over a fleet of ``regions`` whose manifests and values files are ``files``."""
    case = tmp_path / "case"
    case.mkdir()
    for name, text in files.items():
        (case / name).write_text(text)
    fleet = {"apiVersion": "rayfleet.dev/v1", "chart": str(CHART), "release": {"name": "ray", "namespace": "ray"},
             **top, "regions": regions}
    (case / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    return run_fleet_fixture(policy, tmp_path, "case")
