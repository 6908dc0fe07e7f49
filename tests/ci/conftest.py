"""Fixtures for the CI-integration tests: paths, and a ``rayfleet`` command on PATH for the
shell scripts (pre-commit hooks, the GitHub Action's steps) that call it by name."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CI = REPO / "ci"


@pytest.fixture(scope="session")
def crds() -> Path:
    """The KubeRay CRDs of the shared reference folder, cloned next to the repository."""
    folder = SHARED / "crds" / "kuberay"
    if not folder.is_dir():
        pytest.fail(f"KubeRay CRDs not found at {folder}: check out shared/ next to the repository", pytrace=False)
    return folder


@pytest.fixture(scope="session")
def rayfleet_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH whose first folder holds ``rayfleet`` and ``python``, both this interpreter's.

    A wrapper rather than the installed console script, so the tests need no particular install
    layout; it is the same entry point (``rayfleet.cli:main``). ``python`` is there for the CI
    steps that read the fleet file with PyYAML, as they do after installing rayfleet.
    """
    bin_dir = tmp_path_factory.mktemp("bin")
    script = bin_dir / "rayfleet"
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom rayfleet.cli import main\nsys.exit(main())\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (bin_dir / "python").symlink_to(sys.executable)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
