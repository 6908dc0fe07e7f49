"""rayfleet rollout: validate, then per wave and region preflight, helm upgrade --install and a
readiness gate. Progress and the final table are drawn here; the library only calls back."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from ..commands.fleet_manager import rollout_fleet_manager
from ..commands.rollout import rollout_fleet
from ..findings import Severity
from ..fleet import Fleet, load_fleet
from ..plan import DEFAULT_TIMEOUT, RegionPlan, format_command
from ..report import format_report
from ..report.layout import natural_width, records, terminal_width
from ..report_paths import fleet_inputs, write_report
from ..rollout import PyHelm3Deployer, RegionOutcome, RegionStatus, RolloutObserver, RolloutReport
from .common import EXIT_FINDINGS, EXIT_OK, check_reports, fail, handle_errors, parse_report_spec
from .rollout_fleet import StageProgress, stage_table
from .rollout_fleet import plan_text as stage_plan_text

_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow", "started": "cyan", "waiting": "dim"}
_STATUS_STYLE = {RegionStatus.SUCCEEDED: "green", RegionStatus.CHECKED: "green", RegionStatus.PLANNED: "green",
                 RegionStatus.FAILED: "red",
                 RegionStatus.BLOCKED: "red", RegionStatus.NOT_STARTED: "yellow"}


class ConsoleProgress(RolloutObserver):
    """One line per wave and per step, on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def wave_started(self, wave: int, plans: Sequence[RegionPlan]) -> None:
        self.console.print(f"[bold]wave {wave}[/bold]: {', '.join(p.name for p in plans)}")

    def step(self, region: str, step: str, state: str, detail: str = "") -> None:
        style = _STYLE.get(state, "")
        text = f"  {region:<16} {step:<10} [{style}]{state}[/{style}]" if style else f"  {region} {step} {state}"
        self.console.print(text + (f"  {detail}" if detail else ""), markup=True, highlight=False,
                           soft_wrap=True)

    def region_finished(self, outcome: RegionOutcome) -> None:
        pass


def _summary(report: RolloutReport, objects: dict[str, int] | None) -> tuple[str, list[str], list[list[str]]]:
    """The summary's title, columns and one row of cells per region (for the table and the records)."""
    title = "rollout plan (dry run)" if report.dry_run else "rollout"
    operator = any(o.plan.anyscale for o in report.regions)  # the column only when a region runs it
    steps_shown = ("preflight", "crds", "deploy", *(("anyscale",) if operator else ()), "readiness")
    columns = ["wave", "region", "objects", "context", "status", *steps_shown, "message"]
    rows = []
    for outcome in report.regions:
        steps = {s.name: s.status.value for s in outcome.steps}
        count = (objects or {}).get(outcome.name)
        rows.append([str(outcome.plan.wave), outcome.name, "-" if count is None else str(count),
                     outcome.plan.kube_context or "", outcome.status.value,
                     *(steps.get(s, "-") for s in steps_shown), outcome.message])
    return f"{title}: {report.status}", columns, rows


def summary_table(report: RolloutReport, objects: dict[str, int] | None = None) -> Table:
    """One row per region; ``objects`` is what validate counted per region (the same numbers)."""
    title, columns, rows = _summary(report, objects)
    table = Table(title=title, title_justify="left")
    for column in columns:
        # Names are copied from here: only the message may wrap (at spaces).
        table.add_column(column, no_wrap=column != "message", justify="right" if column == "objects" else "left")
    status = columns.index("status")
    for outcome, row in zip(report.regions, rows, strict=True):
        style = _STATUS_STYLE.get(outcome.status, "")
        row[status] = f"[{style}]{row[status]}[/{style}]"
        table.add_row(*row)
    return table


def summary_records(report: RolloutReport, objects: dict[str, int] | None, width: int) -> str:
    """The summary as stacked records, for terminals narrower than the table (names stay whole)."""
    title, columns, rows = _summary(report, objects)
    items = [(f"wave {row[0]} · {row[1]}",
              [(column, cell or "-") for column, cell in zip(columns[2:], row[2:], strict=True)
               if column != "message" or cell])
             for row in rows]
    return f"{title}\n" + records(items, width)


def print_summary(out: Console, report: RolloutReport, objects: dict[str, int]) -> None:
    table = summary_table(report, objects)
    if natural_width(table) <= out.width:
        out.print(table)
    else:
        out.print(summary_records(report, objects, out.width), markup=False, end="")


def plan_text(report: RolloutReport) -> str:
    lines = []
    current = None
    for outcome in report.regions:
        if outcome.plan.wave != current:
            current = outcome.plan.wave
            lines.append(f"# wave {current}")
        lines.append(format_command(outcome.plan.command(helm=report.helm, helm4=report.helm4)))
        if outcome.plan.anyscale is not None:  # then the region's Anyscale operator
            lines.append(format_command(outcome.plan.anyscale.command(helm=report.helm, helm4=report.helm4)))
    return "\n".join(lines)


@click.command()
@click.argument("fleet", default="fleet.yaml")
@click.option("--region", "regions", multiple=True, metavar="NAME",
              help="Only this region (repeatable). Default: every region.")
@click.option("--dry-run", is_flag=True,
              help="Validate and print the waves and the exact helm commands; change nothing. Offline: reads "
                   "no cluster unless --preflight is given.")
@click.option("--preflight", "run_preflight", is_flag=True,
              help="With --dry-run: also run the preflight against every region's kube context.")
@click.option("--timeout", type=click.IntRange(min=1), default=DEFAULT_TIMEOUT, show_default=True, metavar="S",
              help="Seconds per region for helm (--atomic --wait --timeout) and again for the RayCluster to be ready.")
@click.option("--helm-binary", metavar="PATH", default="helm", show_default=True,
              help="The helm binary that deploys (driven through pyhelm3).")
# No envvar: helm and the kubernetes client read $KUBECONFIG themselves, so the printed command
# stays the one `plan` prints unless --kubeconfig is given.
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help="Kubeconfig holding every region's cluster.kubeContext (default: $KUBECONFIG, ~/.kube/config); "
                   "added to the helm commands when given.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT=PATH",
              help="Also write a report (json, sarif, junit, markdown, text); the JSON report holds the "
                   "rollout under data.rollout (docs/rollout.md). Repeatable.")
@click.option("--color/--no-color", default=None, help="Colour (default: when the output is a terminal).")
@click.option("--engine", type=click.Choice(["helm", "fleet-manager"]), default="helm", show_default=True,
              help="helm: helm upgrade per region from here; fleet-manager: a staged update run on the Azure "
                   "Kubernetes Fleet Manager hub, each stage approved after rayfleet's checks (docs/rollout.md).")
@click.option("--hub-context", metavar="NAME", default=None,
              help="fleet-manager: kube context of the hub (default: delivery.fleetManager.hubContext).")
@click.option("--poll-interval", type=click.FloatRange(min=0), default=10.0, show_default=True, metavar="S",
              help="fleet-manager: seconds between reads of the update run.")
@handle_errors
def rollout(fleet: str, regions: tuple[str, ...], dry_run: bool, run_preflight: bool, timeout: int,
            helm_binary: str, kubeconfig: str | None, reports: tuple[str, ...], color: bool | None, engine: str,
            hub_context: str | None, poll_interval: float) -> None:
    """Roll FLEET out wave by wave (ascending wave; fleet order inside a wave).

    Validates first and refuses on errors. Then, per region: preflight, `helm upgrade --install`
    (atomic, with the region's values files in `plan` order), the Anyscale operator's own
    `helm upgrade --install` where the region declares it, and a wait until the RayCluster
    reports ready. Stops at the first failed region; later regions and waves are not touched.
    Exit 0 when every region is ready, 1 when validation, preflight, helm or readiness failed,
    2 for bad input or a cluster that cannot be read.
    """
    if any(path is None for _, path in (parse_report_spec(r) for r in reports)):
        fail("--report needs a path here (FORMAT=PATH): the rollout's own output goes to stdout")
    loaded = load_fleet(fleet)
    inputs = [*fleet_inputs(loaded), kubeconfig, shutil.which(helm_binary) or helm_binary]
    specs = check_reports(reports, inputs)
    use_color = sys.stdout.isatty() if color is None else color
    out = Console(no_color=not use_color, highlight=False, soft_wrap=True, width=terminal_width())
    err = Console(stderr=True, no_color=not use_color, highlight=False, width=terminal_width())
    if engine == "fleet-manager":
        _fleet_manager(loaded, regions, dry_run, timeout, kubeconfig, hub_context, poll_interval, specs, use_color,
                       out, err)
    deployer = None if dry_run else PyHelm3Deployer(helm_binary, kubeconfig=kubeconfig)
    result = rollout_fleet(loaded, regions=regions or None, dry_run=dry_run, timeout=timeout, deployer=deployer,
                           observer=ConsoleProgress(err), kubeconfig=kubeconfig,
                           preflight=run_preflight or not dry_run)
    report = result.rollout
    assert report is not None
    if dry_run:
        out.print(plan_text(report), markup=False)
    counting = [f for f in result.findings if f.counts and f.severity is not Severity.INFO]
    if counting or report.status == "refused":
        click.echo(format_report("text", result, color=use_color), nl=False)
    print_summary(out, report, {r.name: r.objects for r in result.regions if r.name})
    for name, path in specs:
        assert path is not None
        write_report(path, format_report(name, result, color=False))
    if report.error:
        fail(report.error)
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)


def _fleet_manager(loaded: Fleet, regions: tuple[str, ...], dry_run: bool, timeout: int, kubeconfig: str | None,
                   hub_context: str | None, poll_interval: float, specs: list[tuple[str, str | None]],
                   use_color: bool, out: Console, err: Console) -> NoReturn:
    result = rollout_fleet_manager(loaded, regions=regions or None, dry_run=dry_run, hub_context=hub_context,
                                   kubeconfig=kubeconfig, timeout=timeout, poll_interval=poll_interval,
                                   observer=StageProgress(err))
    report = result.update_run
    assert report is not None
    if dry_run:
        out.print(stage_plan_text(report), markup=False, end="")
    counting = [f for f in result.findings if f.counts and f.severity is not Severity.INFO]
    if counting or report.status == "refused":
        click.echo(format_report("text", result, color=use_color), nl=False)
    out.print(stage_table(report))
    if report.message and not report.ok:
        err.print(f"rollout {report.status}: {report.message}", markup=False)
    for name, path in specs:
        assert path is not None
        write_report(path, format_report(name, result, color=False))
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)
