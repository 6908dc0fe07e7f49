"""``rayfleet quota``: the GPU capacity table and the quota findings, from the fleet file or live."""

from __future__ import annotations

import sys

import click

from ..azure.arm import ArmClient
from ..azure.quota import live_quotas, subscription_for, usages_path
from ..capacity.quota import with_quotas
from ..commands.quota import check_capacity
from ..fleet import load_fleet
from ..pipeline import render_fleet
from ..report.capacity import format_capacity_table
from ..report_paths import fleet_inputs
from ..subjects import FleetView
from .common import azure_options, check_reports, finish, handle_errors, parse_report_spec, report_options


@click.command()
@click.argument("fleet", default="fleet.yaml")
@click.option("--live", is_flag=True,
              help="Read each region's free quota from Azure (Compute usages API; needs Reader on the subscription).")
@click.option("--region", "regions", multiple=True, metavar="NAME",
              help="Only this region (repeatable). Failover still needs the peers: select them too.")
@azure_options
@report_options
@handle_errors
def quota(fleet: str, live: bool, regions: tuple[str, ...], arm_endpoint: str | None, timeout: float,
          reports: tuple[str, ...], fail_on: str, color: bool | None) -> None:
    """Max GPU demand of every region against its vCPU quota, and failover headroom.

    Renders each region of FLEET (default ./fleet.yaml), turns every Ray worker group's
    maxReplicas into nodes and vCPUs of its VM size, and compares them with the region's quota
    per VM family, total regional vCPUs and spot vCPUs: from the fleet file, or with --live from
    Azure (limit - current usage). Then checks that each region's failover peers could host its
    GPU nodes if it were lost. Runs the policies unknown-vm-size, gpu-quota-fit and
    failover-headroom.
    """
    loaded = load_fleet(fleet)
    check_reports(reports, fleet_inputs(loaded))
    renders = render_fleet(loaded, regions or None)
    view = FleetView(loaded, {name: r.release for name, r in renders.items() if r.rendered and not r.findings})
    source, origins = "fleet file", None
    if live:
        with ArmClient.for_fleet(loaded, endpoint=arm_endpoint, timeout=timeout) as client:
            quotas = live_quotas(loaded, client, list(view.releases))
            endpoint = client.endpoint
        view = with_quotas(view, quotas)
        source = f"live from {endpoint} (limit - current usage)"
        origins = {r.name: endpoint + usages_path(subscription_for(loaded, r), r.location)
                   for r in loaded.select(list(view.releases))}
    result, table = check_capacity(view, quota_source=source, quota_origins=origins)
    for name, render in renders.items():
        if render.findings or not render.rendered:
            result.findings.extend(render.findings)
            result.notes.append(f"{name}: not rendered, left out of the capacity table")
    specs = [parse_report_spec(r) for r in reports] or [("text", None)]
    if ("text", None) in specs:
        use_color = sys.stdout.isatty() if color is None else color
        click.echo(format_capacity_table(table, color=use_color), nl=False)
    finish(result, reports, fail_on, color, inputs=fleet_inputs(loaded))
