"""Fixtures for the chart tests: real Helm rendering of the example fleet, shared reference data.

The helpers live in ``chartkit``: values files are folded with ``rayfleet.values.fold_values``
(Helm's ``-f`` rule) and rendered with Helm's own engine (``helm_python``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python
import pytest

from .chartkit import (
    NAMESPACE,
    RELEASE,
    REPO,
    Rendered,
    _chart,
    _render_region,
    fold,
    load_yaml,
    region_layers,
    render_values,
)


@pytest.fixture
def chart() -> helm_python.Chart:
    """The umbrella chart, for schema and metadata checks only (render with ``render``)."""
    return _chart()


@pytest.fixture(scope="session")
def render() -> Callable[..., Rendered]:
    """``render(*layers, name=..., namespace=...)``: fold values files/dicts, render the umbrella."""

    def _render(*layers: Path | dict[str, Any], name: str = RELEASE, namespace: str = NAMESPACE) -> Rendered:
        return render_values(fold(layers), name=name, namespace=namespace)

    return _render


@pytest.fixture(scope="session")
def render_region() -> Callable[..., Rendered]:
    """``render_region(region, override=True)``: the example region, rendered once per session."""
    return lambda region, override=True: _render_region(region, override)


@pytest.fixture(scope="session")
def region_values() -> Callable[..., dict[str, Any]]:
    return lambda region, override=True: fold(region_layers(region, override=override))


@pytest.fixture(scope="session")
def raycluster_schema(shared_dir: Path) -> dict[str, Any]:
    """The ``v1`` openAPIV3Schema of the KubeRay 1.7.0 RayCluster CRD."""
    crd = load_yaml(shared_dir / "crds" / "kuberay" / "ray.io_rayclusters.yaml")
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return version["schema"]["openAPIV3Schema"]
