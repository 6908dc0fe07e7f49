"""scheduling sync."""

from __future__ import annotations

import click

from ..fleet import load_fleet
from ..scheduling_sync import sync_cluster_profiles
from .common import handle_errors


@click.group()
def scheduling() -> None:
    """Multi-region job routing with Kueue MultiKueue (docs/scheduling.md).

    \b
    rayfleet scheduling sync fleet.yaml --dry-run
    rayfleet scheduling sync fleet.yaml --kubeconfig ~/.kube/config
    """


@scheduling.command()
@click.argument("fleet", default="fleet.yaml")
@click.option("--region", "regions", multiple=True, metavar="NAME",
              help="Only this worker region (repeatable). Default: every worker.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help="Kubeconfig with the manager's and the workers' contexts (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@handle_errors
def sync(fleet: str, regions: tuple[str, ...], kubeconfig: str | None, dry_run: bool) -> None:
    """Write each worker's API server URL and CA into its ClusterProfile on the manager.

    Reads every worker's kube context (cluster.kubeContext in FLEET) from the kubeconfig and sets
    status.accessProviders of the ClusterProfile labelled rayfleet.io/region=<worker> on the
    manager, through the status subresource. Writes only what differs: a second run changes
    nothing. Run it after the manager's release is rolled out, and when a worker's API server
    address or CA changes.
    """
    actions = sync_cluster_profiles(load_fleet(fleet), kubeconfig=kubeconfig, dry_run=dry_run,
                                    regions=regions or None)
    for action in actions:
        click.echo(action.describe())
