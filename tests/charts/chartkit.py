"""Helpers for the chart tests: values folding and real Helm rendering.

Values files are folded with ``rayfleet.values.fold_values`` (Helm's ``-f`` rule: nested maps
merge, anything else is replaced by the later file) and rendered with Helm's own engine
(``helm_python``), so these tests see exactly what ``helm template -f ... -f ...`` would produce.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml
from rayfleet.values import fold_values

REPO = Path(__file__).resolve().parents[2]
UMBRELLA = REPO / "charts" / "ray-aks"
SUBCHARTS = ("ray-cluster", "blob-storage", "workload-identity", "scheduling", "admissionPolicies")
CHART_DIRS = (UMBRELLA, *(UMBRELLA / "charts" / name for name in SUBCHARTS))
EXAMPLES = REPO / "examples" / "values"
REGIONS = ("eastus2", "swedencentral", "westus3")  # the GPU regions (Kueue workers)
MANAGER = "manager"  # the MultiKueue manager's values file
RELEASE = "rayfleet"
NAMESPACE = "ray"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)


def region_layers(region: str, *, override: bool = True) -> list[Path]:
    """The example fleet's values files for one region, in Helm order."""
    layers = [EXAMPLES / "platform.yaml", EXAMPLES / "regions" / f"{region}.yaml"]
    if override:
        layers.append(EXAMPLES / "overrides" / "platform-team.yaml")
    return layers


def fold(layers: Iterable[Path | dict[str, Any]]) -> dict[str, Any]:
    """Fold values files and inline dicts left to right, like ``helm -f a -f b --set ...``."""
    maps = [load_yaml(layer) or {} if isinstance(layer, Path) else layer for layer in layers]
    return fold_values(maps)


@dataclass(frozen=True)
class Rendered:
    """One render: template path -> text, and the parsed objects with their template."""

    manifests: dict[str, str]
    objects: list[tuple[str, dict[str, Any]]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for _, obj in self.objects if obj.get("kind") == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}"
        return found[0]

    def notes(self) -> str:
        return next((text for path, text in self.manifests.items() if path.endswith("NOTES.txt")), "")


def _chart(path: Path = UMBRELLA) -> helm_python.Chart:
    """A freshly loaded umbrella chart (``path``: a copy with the upstream charts unpacked).

    Not cached on purpose: Helm's dependency processing drops disabled subcharts from the loaded
    chart object in place, so a chart that rendered with ``blob-storage.enabled: false`` would
    render without blob-storage from then on.
    """
    return helm_python.Chart.load(path)


def render_values(values: dict[str, Any], *, name: str = RELEASE, namespace: str = NAMESPACE,
                  chart: Path = UMBRELLA) -> Rendered:
    manifests = _chart(chart).render(values, name=name, namespace=namespace)
    objects: list[tuple[str, dict[str, Any]]] = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.load_all(text, Loader=_Loader):
            if doc:
                objects.append((path, doc))
    return Rendered(manifests, objects)


@functools.cache
def _render_region(region: str, override: bool) -> Rendered:
    return render_values(fold(region_layers(region, override=override)))
