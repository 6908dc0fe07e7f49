"""Fixtures for the live Kubernetes checks: a fake AKS API server over HTTPS and a kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rayfleet.fleet import Fleet, load_fleet
from rayfleet.pipeline import render_fleet
from rayfleet.subjects import ReleaseObjects

from tests.kube.fake_kube import FakeCluster, write_kubeconfig
from tests.support.https_server import HttpsServer

REPO = Path(__file__).resolve().parents[2]
CONTEXTS = {"eastus2": "rayfleet-eus2", "swedencentral": "rayfleet-sdc", "westus3": "rayfleet-wus3",
            "manager": "rayfleet-manager"}


@dataclass
class FakeAks:
    server: HttpsServer
    clusters: dict[str, FakeCluster]  # region → cluster
    kubeconfig: Path

    @property
    def cluster(self) -> FakeCluster:
        return self.clusters["eastus2"]


@pytest.fixture(scope="session")
def example() -> Fleet:
    return load_fleet(REPO / "examples" / "fleet.yaml")


@pytest.fixture(scope="session")
def releases(example: Fleet) -> dict[str, ReleaseObjects]:
    return {name: r.release for name, r in render_fleet(example).items()}


@pytest.fixture
def fake_aks(tmp_path: Path) -> Iterator[FakeAks]:
    """One HTTPS server playing the three example clusters (each under its own path prefix)."""
    with HttpsServer() as server:
        clusters = {region: FakeCluster(prefix=f"/{region}").serve(server) for region in CONTEXTS}
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {
            ctx: (f"{server.url}/{region}", server.ca_path) for region, ctx in CONTEXTS.items()})
        yield FakeAks(server, clusters, kubeconfig)
