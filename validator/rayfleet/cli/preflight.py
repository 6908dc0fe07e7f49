"""rayfleet preflight: is each region's cluster ready for its release?"""

from __future__ import annotations

import click

from ..commands.preflight import run_preflight
from ..fleet import load_fleet
from ..report_paths import fleet_inputs
from .common import check_reports, finish, handle_errors, report_options


@click.command()
@click.argument("fleet", default="fleet.yaml")
@click.option("--region", "regions", multiple=True, metavar="NAME",
              help="Only this region (repeatable). Default: every region.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None, envvar="KUBECONFIG",
              help="Kubeconfig holding every region's cluster.kubeContext (default: $KUBECONFIG, ~/.kube/config).")
@click.option("--create-namespace/--no-create-namespace", default=True, show_default=True,
              help="Whether the rollout creates a missing release namespace.")
@report_options
@handle_errors
def preflight(fleet: str, regions: tuple[str, ...], kubeconfig: str | None, create_namespace: bool,
              reports: tuple[str, ...], fail_on: str, color: bool | None) -> None:
    """Check each region's cluster (its kube context) before a rollout.

    Kubernetes version, KubeRay CRDs (ray.io/v1), the Blob CSI driver's workload identity token
    requests, the workload identity webhook, GPU nodes for every GPU worker group, and the
    release namespace. Read-only. A cluster that cannot be read (unreachable, expired
    credentials) is a one-line error naming the region (exit 2).
    """
    loaded = load_fleet(fleet)
    inputs = [*fleet_inputs(loaded), kubeconfig]
    check_reports(reports, inputs)
    result = run_preflight(loaded, regions=regions or None, kubeconfig=kubeconfig,
                           create_namespace=create_namespace)
    finish(result, reports, fail_on, color, inputs=inputs)
