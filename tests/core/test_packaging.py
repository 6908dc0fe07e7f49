"""The wheel ships the JSON Schemas and data files, and the public API is what __all__ says."""

from __future__ import annotations

import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import rayfleet

from .helpers import REPO


def test_wheel_ships_schemas_and_loads_them_from_the_installed_package(tmp_path: Path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("rayfleet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rayfleet/schemas/fleet.schema.json" in names
    assert "rayfleet/schemas/report.schema.json" in names
    assert "rayfleet/schemas/status.schema.json" in names
    assert not [n for n in names if n.startswith("tests/")]
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = ("import rayfleet, rayfleet.resources as r; "
             "print(rayfleet.__file__); print(r.load_schema('fleet.schema.json')['title'])")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stderr
    where, title = ran.stdout.splitlines()
    assert where.startswith(str(target))  # the installed copy, not the source tree
    assert title == "rayfleet fleet file"
    # The README's status example works from the installed package alone (no source tree).
    page = tmp_path / "status.html"
    status = ("import sys, rayfleet.cli as c; sys.argv = ['rayfleet', 'status', '--from', sys.argv[1], "
              "'--format', 'html', '--out', sys.argv[2]]; c.main()")
    ran = subprocess.run([sys.executable, "-c", status, str(REPO / "examples" / "status" / "snapshot.json"),
                          str(page)], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stderr
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_public_api_is_exactly_all():
    # Submodules are reachable as attributes once imported; everything else must be declared.
    # dir(), not vars(): the public names are imported on first use (PEP 562).
    exported = {name for name in dir(rayfleet)
                if not name.startswith("_") and not inspect.ismodule(getattr(rayfleet, name))}
    assert exported == set(rayfleet.__all__) - {"__version__"}
    assert len(rayfleet.__all__) == len(set(rayfleet.__all__))
    for name in rayfleet.__all__:
        assert hasattr(rayfleet, name), name
