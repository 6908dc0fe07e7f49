"""The terminal view of a fleet status: one row per region, then what is wrong where."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..status import DEGRADED, HEALTHY, FleetStatus, RegionStatus

STATE_STYLE = {HEALTHY: "green", DEGRADED: "yellow"}  # every other state: the region could not be read
RUNNING_JOBS = ("Running",)
WAITING_JOBS = ("New", "Initializing", "Waiting", "Suspended", "Suspending", "Retrying")
FAILED_JOBS = ("Failed", "ValidationFailed")


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def job_summary(rayjobs: tuple[tuple[str, int], ...]) -> dict[str, int]:
    """RayJob counts folded to running / waiting / failed / done."""
    out = {"running": 0, "waiting": 0, "failed": 0, "done": 0}
    for status, count in rayjobs:
        key = ("running" if status in RUNNING_JOBS else "waiting" if status in WAITING_JOBS
               else "failed" if status in FAILED_JOBS else "done")
        out[key] += count
    return out


def release_cell(region: RegionStatus) -> str:
    release = region.facts.release if region.facts else None
    if release is None:
        return "-"
    return f"{release.chart_version} r{release.revision} {release.status}" + (" (drift)" if region.drift else "")


def gpu_cell(region: RegionStatus) -> str:
    if region.facts is None:
        return "-"
    quota = f"/{region.gpu_quota.gpus}" if region.gpu_quota else "/-"
    if not region.facts.gpu_pools:
        return f"0/0{quota}"
    pending = f" +{number(region.facts.gpus_pending)} pending" if region.facts.gpus_pending else ""
    return f"{number(region.gpus_requested)}/{number(region.gpus_allocatable)}{quota}{pending}"


def region_row(region: RegionStatus, *, roles: bool) -> list[str | Text]:
    style = STATE_STYLE.get(region.state, "red")
    cells: list[str | Text] = [region.name] + ([region.role or ""] if roles else []) + [Text(region.state, style=style)]
    facts = region.facts
    if facts is None:
        return [*cells, "-", "-", "-", "-", "-", "-", "-", "-", f"{region.seconds:.1f}s"]
    ready = sum(rc.ready for rc in facts.rayclusters)
    jobs = job_summary(facts.rayjobs)
    nodes_ready = sum(p.nodes_ready for p in facts.gpu_pools)
    nodes_total = sum(p.nodes_total for p in facts.gpu_pools)
    kueue = "-"
    if facts.kueue is not None:
        admitted = sum(q.admitted for q in facts.kueue.cluster_queues)
        pending = sum(q.pending for q in facts.kueue.cluster_queues)
        kueue = f"{admitted}/{pending}"
    bound = sum(c.phase == "Bound" for c in facts.volume_claims)
    storage = f"{bound}/{len(facts.volume_claims)} bound" if facts.volume_claims else "none"
    return [
        *cells, release_cell(region),
        f"{ready}/{len(facts.rayclusters)}" if facts.rayclusters else "none",
        f"{jobs['running']}/{jobs['waiting']}/{jobs['failed']}",
        f"{nodes_ready}/{nodes_total}" if nodes_total else "-",
        gpu_cell(region), kueue,
        Text("✓", style="green") if facts.identity_webhook else Text("missing", style="red"),
        Text(storage, style="" if bound == len(facts.volume_claims) else "red"),
        f"{region.seconds:.1f}s",
    ]


def format_status(status: FleetStatus, *, color: bool = False, width: int | None = None) -> str:
    """The table, then each region's problems and drift. ``width``: the terminal's when in colour,
    else 160 columns."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, highlight=False,
                      width=width or (None if color else 160))
    counts = ", ".join(f"{n} {state}" for state, n in status.counts().items())
    roles = any(r.role for r in status.regions)
    table = Table(title=f"fleet status: {status.fleet} ({counts})", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("region", *(["role"] if roles else []), "state", "release", "RayClusters\nready",
                   "RayJobs\nrun/wait/fail", "GPU nodes\nready", "GPUs\nused/alloc/quota", "Kueue\nadm/pend",
                   "identity\nwebhook", "storage\nPVCs", "read"):
        table.add_column(column, overflow="fold")
    for region in status.regions:
        table.add_row(*region_row(region, roles=roles))
    console.print(table)
    for region in status.regions:
        lines = ([region.message] if region.message else []) + list(region.problems)
        lines += [f"drift: {d}" for d in region.drift]
        if not lines:
            continue
        console.print(Text(f"{region.name} ({region.state})", style=STATE_STYLE.get(region.state, "red") + " bold"))
        for line in lines:
            console.print(f"  - {line}", markup=False, soft_wrap=True)
    console.print(f"taken {status.taken_at} in {status.seconds:.1f}s; {status.answered}/{len(status.regions)} "
                  "regions answered", markup=False)
    text = buffer.getvalue()
    # Without colour the text is for files and pipes: no padding to the console's width.
    return text if color else "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
