"""Fixtures every test folder may use: where the repository, the shared reference folder and the
example fleet are."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Parsed CRDs are cached between runs; tests keep that cache out of the user's home.
os.environ.setdefault("RAYFLEET_CACHE_DIR", tempfile.mkdtemp(prefix="rayfleet-test-cache-"))

# pytest-xdist's workers start with COLUMNS=80 (and LINES) in their environment although nothing they
# print reaches a terminal; reports wrap at $COLUMNS, so drop them: the golden files and the layout
# tests assume the width of a run without a terminal, however the suite is run.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository (CI clones the repo next to a copy of it)."""
    if not (SHARED / "crds" / "kuberay").is_dir():
        pytest.fail(f"the shared reference folder is missing: expected {SHARED}/crds/kuberay beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def crds_dir(shared_dir: Path) -> Path:
    return shared_dir / "crds" / "kuberay"


@pytest.fixture(scope="session")
def example_fleet() -> Path:
    return REPO / "examples" / "fleet.yaml"
