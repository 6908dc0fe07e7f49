"""rayfleet status: one view of every region, in the terminal, as JSON or as an HTML page."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..fleet import Fleet, load_fleet
from ..report import status_html, status_text
from ..report.status_json import format_status_json
from ..report_paths import check_report_path, write_report
from ..status import DEFAULT_TIMEOUT, FleetStatus, RegionStatus, StatusObserver, collect_status, load_snapshot
from ..status import snapshot_regions as only_regions
from .common import EXIT_OK, fail, handle_errors

_STYLE = {"healthy": "green", "degraded": "yellow"}


class ProgressObserver(StatusObserver):
    """A progress bar on stderr (a terminal only) and one line per region as it finishes."""

    def __init__(self, progress: Progress, total: int, *, lines: bool) -> None:
        self.progress = progress
        self.task = progress.add_task("reading regions", total=total)
        self.lines = lines

    def region_started(self, region: str) -> None:
        self.progress.update(self.task, description=f"reading {region}")

    def region_finished(self, status: RegionStatus) -> None:
        self.progress.advance(self.task)
        if self.lines:
            style = _STYLE.get(status.state, "red")
            detail = f"  {status.message}" if status.message else ""
            self.progress.console.print(f"  {status.name:<16} [{style}]{status.state}[/{style}] "
                                        f"({status.seconds:.1f}s){detail}", highlight=False, soft_wrap=True)


def format_status(status: FleetStatus, fmt: str, *, color: bool) -> str:
    if fmt == "json":
        return format_status_json(status)
    if fmt == "html":
        return status_html.format_status(status)
    return status_text.format_status(status, color=color)


def _check_target(path: str | None) -> None:
    if path and not Path(path).parent.exists():
        fail(f"{path}: folder {Path(path).parent} does not exist")


@click.command()
@click.argument("fleet", default="fleet.yaml")
@click.option("--region", "regions", multiple=True, metavar="NAME",
              help="Only this region (repeatable). Default: every region.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="text: a table for the terminal; json: the snapshot (schemas/status.schema.json); "
                   "html: one self-contained page.")
@click.option("--out", metavar="FILE", default=None, help="Write the view here instead of stdout.")
@click.option("--save", metavar="FILE", default=None, help="Also write the JSON snapshot here (for --from).")
@click.option("--from", "source", metavar="FILE", default=None,
              help="Render a saved snapshot instead of reading the clusters.")
@click.option("--watch", metavar="SECONDS", type=click.FloatRange(min=1), default=None,
              help="Read again every SECONDS and redraw (text view in a terminal); Ctrl-C stops.")
@click.option("--watch-count", type=click.IntRange(min=1), default=None, hidden=True)
@click.option("--timeout", type=click.FloatRange(min=1), default=DEFAULT_TIMEOUT, show_default=True, metavar="S",
              help="Seconds each region may take; a slower region is shown as timed out.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None, envvar="KUBECONFIG",
              help="Kubeconfig holding every region's cluster.kubeContext (default: $KUBECONFIG, ~/.kube/config).")
@click.option("--color/--no-color", default=None, help="Colour in the text view (default: when stdout is a terminal).")
@handle_errors
def status(fleet: str, regions: tuple[str, ...], fmt: str, out: str | None, save: str | None, source: str | None,
           watch: float | None, watch_count: int | None, timeout: float, kubeconfig: str | None,
           color: bool | None) -> None:
    """Show every region of FLEET: Helm release and drift from plan, RayClusters, RayJobs, GPU
    nodes and use against quota, Kueue queues (and, on a MultiKueue manager, where recent
    RayJobs were dispatched), workload identity webhook and storage.

    Regions are read in parallel, read-only, each within --timeout; a region that cannot be read
    (unreachable, expired credentials, forbidden, too slow) is shown as such. Exit 0 when at least
    one region answered, 2 when none did or on bad input.
    """
    if source and watch:
        fail("--watch reads the clusters again; it cannot be used with --from")
    if watch and (fmt != "text" or out):
        fail("--watch redraws the text view on the terminal; drop --format/--out")
    _check_target(out)
    _check_target(save)
    for target in (out, save):  # as --report: never over an input, never through a symlink
        if target:
            check_report_path(target, [fleet, source, kubeconfig])
    use_color = sys.stdout.isatty() if color is None else color
    if source:
        snapshot = only_regions(load_snapshot(source), regions)
        _emit(snapshot, fmt, out, save, use_color)
        if not snapshot.answered:
            fail(f"{source}: no region answered when this snapshot was taken")
        sys.exit(EXIT_OK)
    loaded = load_fleet(fleet)
    err = Console(stderr=True, no_color=not sys.stderr.isatty(), highlight=False)
    rounds = 0
    while True:
        try:
            snapshot = _collect(loaded, regions, err, kubeconfig, timeout, lines=not watch)
        except KeyboardInterrupt:
            if watch and rounds:
                sys.exit(EXIT_OK)
            raise
        if watch:
            console = Console(force_terminal=use_color, no_color=not use_color, highlight=False)
            console.clear()
            click.echo(format_status(snapshot, "text", color=use_color), nl=False)
            if save:
                write_report(save, format_status_json(snapshot))
            rounds += 1
            if watch_count is not None and rounds >= watch_count:
                break
            try:
                time.sleep(watch)
            except KeyboardInterrupt:
                sys.exit(EXIT_OK)
            continue
        _emit(snapshot, fmt, out, save, use_color)
        break
    if not snapshot.answered:
        fail(f"no region answered ({', '.join(f'{r.name}: {r.state}' for r in snapshot.regions)})")
    sys.exit(EXIT_OK)


def _collect(loaded: Fleet, regions: tuple[str, ...], err: Console, kubeconfig: str | None, timeout: float, *,
             lines: bool) -> FleetStatus:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as progress:
        observer = ProgressObserver(progress, len(loaded.select(list(regions) or None)), lines=lines)
        return collect_status(loaded, regions or None, kubeconfig=kubeconfig, timeout=timeout, observer=observer)


def _emit(snapshot: FleetStatus, fmt: str, out: str | None, save: str | None, color: bool) -> None:
    if save:
        write_report(save, format_status_json(snapshot))
    text = format_status(snapshot, fmt, color=color and out is None)
    if out:
        write_report(out, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
