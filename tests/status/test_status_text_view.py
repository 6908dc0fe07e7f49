"""The terminal view of a fleet status (rayfleet.report.status_text) on the hand-built fleet
(tests/status/handbuilt.py): every column of every row, the colours that carry a meaning, the
problems and drift below the table, the 160-column layout of files and pipes at, below and above
its limit, and rich markup in snapshot text shown as it is. Expected cells are written by hand."""

from __future__ import annotations

import re
from dataclasses import replace

from rayfleet.report.status_text import format_status, gpu_cell, job_summary, number, region_row, release_cell
from rich.text import Text

from tests.status.handbuilt import HOSTILE, NORTH, fleet_status

# region, role, state, release, RayClusters ready, RayJobs run/wait/fail, GPU nodes ready,
# GPUs used/alloc/quota, Kueue adm/pend, identity webhook, storage PVCs, read
ROWS = [
    ["eastus2", "worker", "healthy", "0.2.0 r4 deployed", "1/1", "1/0/0", "4/4", "3/4/10", "5/1", "✓", "1/1 bound",
     "0.8s"],
    ["swedencentral", "", "degraded", "0.1.0 r7 deployed (drift)", "1/2", "2/3/1", "3/4", "2.5/4/- +1 pending", "4/3",
     "missing", "1/2 bound", "1.2s"],
    ["westus3", "worker", "unauthorized", "-", "-", "-", "-", "-", "-", "-", "-", "0.3s"],
    ["manager", "manager", "healthy", "0.3.1 r2 deployed", "none", "0/0/0", "-", "0/0/-", "-", "✓", "none", "0.6s"],
    [NORTH, "", "degraded", "-", "none", "0/0/0", "-", "0/0/6", "-", "✓", "none", "1.1s"],
]
# the style of the state, identity and storage cells: colour only where it means something
STYLES = [
    ("green", "green", ""),
    ("yellow", "red", "red"),
    ("red", None, None),
    ("green", "green", ""),
    ("yellow", "green", ""),
]


def _plain(cells) -> list[str]:
    return [c.plain if isinstance(c, Text) else c for c in cells]


def test_region_rows_cell_by_cell():
    status = fleet_status()
    assert [_plain(region_row(r, roles=True)) for r in status.regions] == ROWS
    assert [_plain(region_row(r, roles=False)) for r in status.regions] == [row[:1] + row[2:] for row in ROWS]
    styles = []
    for region in status.regions:
        cells = region_row(region, roles=True)
        styles.append((cells[2].style, *(c.style if isinstance(c, Text) else None for c in cells[9:11])))
    assert styles == STYLES


def test_cells_on_their_own():
    east, sweden, west, manager, north = fleet_status().regions
    assert [release_cell(r) for r in (east, sweden, west, north)] == [
        "0.2.0 r4 deployed", "0.1.0 r7 deployed (drift)", "-", "-"]
    assert [gpu_cell(r) for r in (east, sweden, west, manager, north)] == [
        "3/4/10", "2.5/4/- +1 pending", "-", "0/0/-", "0/0/6"]
    assert [number(v) for v in (3, 3.0, 2.5, 0.04, 12.0)] == ["3", "3", "2.5", "0.0", "12"]


def test_job_summary_folds_every_status():
    rayjobs = (("Complete", 2), ("Failed", 1), ("Initializing", 1), ("New", 1), ("Retrying", 1), ("Running", 2),
               ("Suspended", 1), ("Suspending", 1), ("ValidationFailed", 4), ("Waiting", 3))
    assert job_summary(rayjobs) == {"running": 2, "waiting": 8, "failed": 5, "done": 2}
    assert job_summary(()) == {"running": 0, "waiting": 0, "failed": 0, "done": 0}


def _cells(line: str) -> list[str]:
    return re.split(r" {2,}", line.strip())


def test_the_whole_view():
    text = format_status(fleet_status(), width=1000)  # wide enough for every cell on one line
    lines = text.splitlines()
    assert lines[0] == "fleet status: fleets/prod.yaml (2 healthy, 2 degraded, 1 unauthorized)"
    assert _cells(lines[2]) == ["RayClusters", "RayJobs", "GPU nodes", "GPUs", "Kueue", "identity", "storage"]
    assert _cells(lines[3]) == ["region", "role", "state", "release", "ready", "run/wait/fail", "ready",
                                "used/alloc/quota", "adm/pend", "webhook", "PVCs", "read"]
    rows = [_cells(line) for line in lines[5:10]]
    assert rows == [[c for c in row if c] for row in ROWS]
    assert lines[10:] == [
        "",
        "swedencentral (degraded)",
        "  - GPU node pool a100: 2/3 nodes ready",
        "  - the workload identity webhook is not installed",
        "  - drift: chart ray-aks 0.1.0 is deployed; plan would deploy ray-aks 0.2.0",
        "westus3 (unauthorized)",
        f"  - {HOSTILE}",
        f"{NORTH} (degraded)",
        "  - no Helm release ray in namespace ray",
        "taken 2026-12-02T01:30:00Z in 2.5s; 4/5 regions answered",
    ]
    # For files and pipes: no colour, no padding to the console's width.
    assert "\x1b[" not in text and all(line == line.rstrip() for line in lines) and text.endswith("\n")


def test_role_column_only_when_a_region_has_a_role():
    status = fleet_status()
    status = replace(status, regions=tuple(replace(r, role=None) for r in status.regions))
    lines = format_status(status, width=1000).splitlines()
    assert _cells(lines[3])[:4] == ["region", "state", "release", "ready"]
    assert _cells(lines[5])[:3] == ["eastus2", "healthy", "0.2.0 r4 deployed"]


def _wide(width: int):
    """westus3 alone, renamed so that the table needs exactly ``width`` columns (its last column's
    right pad included, which the view strips)."""
    west = fleet_status().regions[2]
    status = replace(fleet_status(), regions=(west,))
    natural = max(len(line) for line in format_status(status, width=1000).splitlines()[1:6]) + 1
    return replace(status, regions=(replace(west, name=west.name + "x" * (width - natural)),))


def test_files_and_pipes_get_160_columns():
    at_limit = _wide(160)
    view = format_status(at_limit)
    assert view == format_status(at_limit, width=1000)  # fits: nothing folded
    assert max(len(line) for line in view.splitlines()) == 159
    above = _wide(161)
    folded = format_status(above)
    assert folded != format_status(above, width=1000)
    assert max(len(line) for line in folded.splitlines()) <= 160
    below = _wide(159)
    assert format_status(below) == format_status(below, width=1000)


def test_a_given_width_is_used():
    table = format_status(fleet_status(), width=100).splitlines()[:-9]
    assert max(len(line) for line in table) <= 100
    assert max(len(line) for line in format_status(fleet_status()).splitlines()[:-9]) == 159  # 160 less the pad


def test_colour_view():
    view = format_status(fleet_status(), color=True, width=200)
    assert "\x1b[32mhealthy" in view and "\x1b[33mdegraded" in view and "\x1b[31munauthorized" in view
    assert "\x1b[1;33mswedencentral (degraded)" in view
    # Only the states and marks are coloured: numbers and the closing line are not highlighted.
    last = view.rstrip("\n").splitlines()[-1]
    assert last == "taken 2026-12-02T01:30:00Z in 2.5s; 4/5 regions answered"
    assert "\x1b[" not in view.splitlines()[4].split("healthy")[0]


def test_snapshot_text_is_never_rich_markup_and_never_wrapped():
    long = "[bold]evicted[/bold] " + "x" * 200
    status = fleet_status()
    sweden = replace(status.regions[1], problems=(long,))
    status = replace(status, taken_at="[red]now[/red]", regions=(status.regions[0], sweden))
    lines = format_status(status).splitlines()
    assert f"  - {long}" in lines
    assert lines[-1] == "taken [red]now[/red] in 2.5s; 2/2 regions answered"

