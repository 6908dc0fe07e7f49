"""rayfleet export flux | fleet-manager: the fleet as objects for GitOps engines."""

from __future__ import annotations

from pathlib import Path

import click

from ..commands.fleet_manager import HubApi, member_check_result
from ..delivery.fleet_manager import hub_export, stages
from ..delivery.flux import flux_files
from ..delivery.writer import write_export
from ..fleet import load_fleet
from .common import finish, handle_errors

FLEET_ARG = click.argument("fleet", default="fleet.yaml")
REGION_OPT = click.option("--region", "regions", multiple=True, metavar="NAME",
                          help="Only this region (repeatable). Default: every region.")
OUT_OPT = click.option("--out", "out_dir", required=True, type=click.Path(file_okay=True),
                       help="Folder to write (new, empty, or an earlier export of the same kind; replaced whole).")


@click.group()
def export() -> None:
    """Write the fleet as Flux or Azure Kubernetes Fleet Manager objects (docs/gitops.md)."""


@export.command("flux")
@FLEET_ARG
@REGION_OPT
@OUT_OPT
@handle_errors
def export_flux(fleet: str, regions: tuple[str, ...], out_dir: str) -> None:
    """Per region, a folder clusters/<region>/ with a Flux HelmRelease, the chart's source and one
    ConfigMap per values layer (plan's order). Point the AKS GitOps extension (or a Flux
    Kustomization) of each cluster at its folder. Same input, byte-identical output."""
    loaded = load_fleet(fleet)
    files = flux_files(loaded, loaded.select(regions or None))
    written = write_export(Path(out_dir), "flux", files)
    folders = sorted({f.split("/")[1] for f in written})
    click.echo(f"wrote {len(written)} files for {len(folders)} regions to {out_dir}")
    for name in folders:
        click.echo(f"  {out_dir.rstrip('/')}/clusters/{name}")


@export.command("fleet-manager")
@FLEET_ARG
@REGION_OPT
@OUT_OPT
@click.option("--live", is_flag=True, help="Also read the hub's MemberClusters and check they match the fleet.")
@click.option("--hub-context", metavar="NAME", default=None,
              help="Kube context of the Fleet Manager hub (default: delivery.fleetManager.hubContext).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None, envvar="KUBECONFIG",
              help="Kubeconfig holding the hub context (default: $KUBECONFIG, ~/.kube/config).")
@handle_errors
def export_fleet_manager(fleet: str, regions: tuple[str, ...], out_dir: str, live: bool, hub_context: str | None,
                         kubeconfig: str | None) -> None:
    """Hub objects for Azure Kubernetes Fleet Manager: one ClusterResourcePlacement (External
    strategy) over every region's namespace, one ClusterResourceOverride per region keeping it on
    its own member, and a ClusterStagedUpdateStrategy with one stage per wave (canary first) and
    an approval gate after each. Apply them to the hub; roll out with
    `rayfleet rollout --engine fleet-manager`."""
    loaded = load_fleet(fleet)
    chosen = loaded.select(regions or None)
    hub = hub_export(loaded, chosen)
    written = write_export(Path(out_dir), "fleet-manager", hub.files())
    click.echo(f"wrote {len(written)} files to {out_dir}: placement {hub.placement['metadata']['name']}, "
               f"strategy {hub.strategy['metadata']['name']}")
    for stage in stages(chosen):
        click.echo(f"  stage {stage.name}: {', '.join(r.name for r in stage.regions)}")
    if not live:
        return
    with HubApi.connect(loaded, hub_context, kubeconfig) as api:
        result = member_check_result(loaded, api, chosen)
    finish(result, (), "error", None, inputs=())
