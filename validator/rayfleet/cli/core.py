"""validate, scan, render, plan, policies."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..admission.docs import admission_column, not_exported
from ..admission.twins import twins_of, why_not_exported
from ..findings import Severity
from ..fleet import load_fleet
from ..manifests import load_manifest_paths
from ..parallel import POOL_MIN_REGIONS
from ..pipeline import fleet_capacity, render_fleet, scan_manifests, validate_fleet
from ..plan import build_plan, format_command
from ..policies import ALL_POLICIES, get_policy
from ..region_loss import region_loss
from ..rendered_output import write_objects
from ..report.layout import records, terminal_width
from ..report.plan import format_plan_json, format_plan_text
from ..report.policy_docs import format_policies_json, format_policy_docs
from ..report.region_loss import format_loss_json, format_loss_text
from ..report_paths import fleet_inputs
from ..result import Result
from ..subjects import FleetView
from .common import check_reports, fail, finish, handle_errors, report_options

FLEET_ARG = click.argument("fleet", default="fleet.yaml")
REGION_OPT = click.option("--region", "regions", multiple=True, metavar="NAME",
                          help="Only this region (repeatable). Default: every region.")
CRDS_OPT = click.option("--crds", type=click.Path(), default=None,
                        help="Folder of CRD YAML files (KubeRay) to check custom resources against.")


def _print_profile(result: Result) -> None:
    stages = result.timings.stages
    total = sum(stages.values())
    lines = [f"  {name:<9} {seconds * 1000:9.1f} ms  {seconds / total * 100 if total else 0:5.1f}%"
             for name, seconds in stages.items()]
    click.echo("profile (seconds per stage, summed over regions):\n" + "\n".join(lines)
               + f"\n  {'total':<9} {total * 1000:9.1f} ms", err=True)


@click.command()
@FLEET_ARG
@REGION_OPT
@CRDS_OPT
@click.option("--helm-binary", metavar="PATH", default=None,
              help="Render with this helm binary (through pyhelm3) instead of the embedded Helm engine.")
@click.option("--profile", is_flag=True, help="Print the time spent in each stage on stderr.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes that render and check regions (default: one per core, in-process for fleets "
                   f"under {POOL_MIN_REGIONS} regions; 1: in-process). The result is the same for any N.")
@report_options
@handle_errors
def validate(fleet: str, regions: tuple[str, ...], crds: str | None, helm_binary: str | None, profile: bool,
             jobs: int | None, reports: tuple[str, ...], fail_on: str, color: bool | None) -> None:
    """Render every region of FLEET (default ./fleet.yaml) and check it.

    Each region is rendered as `helm upgrade --install` would render it (chart defaults, shared
    values, region values, overrides), then every object is checked against the schemas of that
    cluster's Kubernetes version and the KubeRay CRDs, then every policy runs, per region and
    across the fleet. Waivers in the fleet file suppress matching findings.
    """
    progress = None
    status_console = Console(stderr=True)
    if sys.stderr.isatty():
        status = status_console.status("rendering")
        status.start()

        def progress(region: str) -> None:
            status.update(f"rendering and checking region {region}")
    loaded = load_fleet(fleet)
    inputs = [*fleet_inputs(loaded), crds, helm_binary]
    check_reports(reports, inputs)  # before rendering: a refused path should not cost a run
    result = validate_fleet(loaded, regions=regions or None, crds=crds, helm_binary=helm_binary,
                            progress=progress, jobs=jobs)
    if progress is not None:
        status.stop()
    if profile:
        _print_profile(result)
    finish(result, reports, fail_on, color, inputs=inputs)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--kube-version", default="1.33", show_default=True, help="Kubernetes version of the schemas.")
@CRDS_OPT
@click.option("--fleet", "fleet_path", type=click.Path(dir_okay=False), default=None,
              help="Take policy settings (GPU taint, registries, external ServiceAccounts) and VM sizes "
                   "from this fleet file.")
@click.option("--stdin-name", metavar="PATH", default=None,
              help="What to call the manifests read from - in reports: the repository path they were rendered "
                   "from (e.g. charts/ray-aks), so code scanning can show them.")
@click.option("--profile", is_flag=True, help="Print the time spent in each stage on stderr.")
@report_options
@handle_errors
def scan(paths: tuple[str, ...], kube_version: str, crds: str | None, fleet_path: str | None, stdin_name: str | None,
         profile: bool, reports: tuple[str, ...], fail_on: str, color: bool | None) -> None:
    """Check manifests rendered elsewhere: files, folders or - for stdin.

    The same object schemas and policies as `validate`; fleet policies (quota, failover, the
    cross-checks against the fleet file) compare each region's rendered release, so they are
    skipped and listed: run `validate` for those.
    """
    inputs = [*paths, crds, fleet_path]
    check_reports(reports, inputs)
    loaded = load_fleet(fleet_path) if fleet_path else None
    result = scan_manifests(list(paths), kube_version=kube_version, crds=crds, fleet=loaded, stdin_name=stdin_name)
    if profile:
        _print_profile(result)
    finish(result, reports, fail_on, color, inputs=inputs)


@click.command()
@FLEET_ARG
@click.option("--region", "region_name", required=True, metavar="NAME", help="The region to render.")
@click.option("--out", "out_dir", required=True, type=click.Path(),
              help="Folder for the manifests, one file per object (created if missing). It is replaced "
                   "as a whole; a folder holding anything rayfleet did not write is refused.")
@handle_errors
def render(fleet: str, region_name: str, out_dir: str) -> None:
    """Write one region's rendered manifests to a folder, one file per object (for GitOps)."""
    loaded = load_fleet(fleet)
    region = loaded.region(region_name)
    result = render_fleet(loaded, [region.name])[region.name]
    if result.findings:
        fail("; ".join(f"{f.source}: {f.message}" if f.source else f.message for f in result.findings))
    write_objects(result.release.objects, Path(out_dir))
    click.echo(f"wrote {len(result.release.objects)} objects for region {region.name} to {out_dir}")


@click.command()
@FLEET_ARG
@REGION_OPT
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-capacity", is_flag=True, help="Skip the GPU capacity table (which renders every region).")
@click.option("--lose", "lose", metavar="REGION", default=None,
              help="Instead: what MultiKueue does with the remaining quota if this worker region is lost.")
@click.option("--jobs", "jobs", multiple=True, metavar="PATH",
              help="With --lose: queued RayJob manifests (files or folders) to place on the remaining workers.")
@handle_errors
def plan(fleet: str, regions: tuple[str, ...], output: str, no_capacity: bool, lose: str | None,
         jobs: tuple[str, ...]) -> None:
    """Per region: the wave, the values stack in Helm's order, the exact helm command, and the
    GPU capacity table (max GPUs and vCPUs per VM family against the quota, headroom after a
    failover). With --lose REGION: the region-loss plan of a MultiKueue fleet (docs/scheduling.md)."""
    loaded = load_fleet(fleet)
    if jobs and not lose:
        fail("--jobs needs --lose REGION")
    if lose:
        loaded.region(lose)  # an unknown region fails before rendering
        queued = load_manifest_paths(list(jobs)) if jobs else []
        renders = render_fleet(loaded)
        loss = region_loss(FleetView(loaded, {n: r.release for n, r in renders.items() if r.rendered}), lose, queued)
        click.echo(format_loss_json(loss) if output == "json" else format_loss_text(loss, color=sys.stdout.isatty()),
                   nl=False)
        return
    the_plan = build_plan(loaded, regions or None)
    capacity = None if no_capacity else fleet_capacity(loaded, regions or None)
    text = format_plan_json(the_plan, capacity) if output == "json" else \
        format_plan_text(the_plan, capacity, color=sys.stdout.isatty())
    click.echo(text, nl=False)


@click.group(invoke_without_command=True)
@click.option("--format", "output", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.pass_context
def policies(ctx: click.Context, output: str) -> None:
    """The policy catalogue (`policies show ID` for one policy)."""
    if ctx.invoked_subcommand is not None:
        return
    if output == "json":
        click.echo(format_policies_json(ALL_POLICIES), nl=False)
        return
    if output == "markdown":
        click.echo(format_policy_docs(ALL_POLICIES), nl=False)
        return
    width = terminal_width()
    id_width = max(len(p.id) for p in ALL_POLICIES)
    if width < id_width + 40:  # too narrow for a title column: one record per policy
        click.echo(records([(p.id, [(p.severity.value, f"({p.scope.value}) {p.title}")]) for p in ALL_POLICIES],
                           width), nl=False)
        _print_not_enforced(Console(width=width, highlight=False))
        return
    # Policy IDs are copied into waivers: their column never wraps or truncates; titles wrap.
    table = Table(box=None, show_edge=False, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=id_width)
    table.add_column("severity", no_wrap=True)
    table.add_column("scope", no_wrap=True)
    table.add_column("admission", no_wrap=True)
    table.add_column("title", overflow="fold")
    for policy in ALL_POLICIES:
        table.add_row(policy.id, policy.severity.value, policy.scope.value, admission_column(policy), policy.title)
    console = Console(width=width, highlight=False)
    console.print(table)
    _print_not_enforced(console)


def _print_not_enforced(console: Console) -> None:
    console.print("\nNot enforced at admission (`rayfleet policies export --format admission`), release policies:")
    for policy_id, reason in not_exported(ALL_POLICIES):
        console.print(f"  {policy_id}: {reason}")
    console.print("  fleet, live and pipeline policies: they need the fleet, live state or the pipeline")


@policies.command("show")
@click.argument("policy_id")
@handle_errors
def show_policy(policy_id: str) -> None:
    """One policy: severity, rationale, remediation, references."""
    policy = get_policy(policy_id)
    lines = [f"{policy.id}  ({policy.severity.value}, {policy.scope.value})", policy.title, "",
             f"Why: {policy.rationale}", "", f"Fix: {policy.remediation}"]
    twins = twins_of(policy.id)
    admission = (f"exported as {', '.join(t.name for t in twins)}"
                 + "".join(f"; weaker: {t.weaker}" for t in twins if t.weaker)) if twins else \
        f"not exported: {why_not_exported(policy)}"
    lines += ["", f"Admission: {admission}"]
    if policy.references:
        lines += ["", "References:", *(f"  {ref}" for ref in policy.references)]
    click.echo("\n".join(lines))


__all__ = ["Severity", "format_command", "plan", "policies", "render", "scan", "validate"]
