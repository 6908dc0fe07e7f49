"""identity plan, identity check, identity probe."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..azure.arm import ArmClient
from ..azure.probe import run_probe
from ..commands.identity import run_identity_check
from ..errors import InputError
from ..fleet import Fleet, load_fleet
from ..identity import IdentityPlan, plan_credentials
from ..identity_rbac import RbacPlan
from ..identity_rbac import plan_role_assignments as plan_manager_roles
from ..pipeline import render_fleet
from ..report.identity import az_commands, bicep, bicep_files, format_json
from ..report.identity_table import format_identity_table
from ..report.layout import terminal_width
from ..report.probe import format_probe, format_probe_json
from ..report.rbac import az_rbac_commands, format_rbac_table, rbac_plan_to_dict
from ..report.roles import az_role_commands, format_role_lines, role_to_dict
from ..report_paths import check_report_path, fleet_inputs, write_report
from ..storage_roles import PlannedRoleAssignment, plan_role_assignments
from ..subjects import ReleaseObjects
from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    azure_options,
    check_reports,
    fail,
    finish,
    handle_errors,
    report_options,
)

FLEET_ARG = click.argument("fleet", default="fleet.yaml")
REGION_OPT = click.option("--region", "regions", multiple=True, metavar="NAME",
                          help="Only this region (repeatable). Default: every region.")


def _releases(fleet: Fleet) -> dict[str, ReleaseObjects]:
    """Every region's release (the 20-credential limit counts the whole fleet)."""
    renders = render_fleet(fleet)
    broken = [r for r in renders.values() if not r.rendered]
    if broken:
        first = broken[0]
        why = first.findings[0].message if first.findings else "it does not render"
        raise InputError(f"region {first.region.name} does not render ({why}); "
                         f"run `rayfleet validate {fleet.path}` first", file=str(fleet.path))
    return {name: render.release for name, render in renders.items()}


@click.group()
def identity() -> None:
    """Workload identity: federated credential plan, live check, in-pod probe.

    \b
    rayfleet identity plan fleet.yaml --format az > create-fics.sh
    rayfleet identity check fleet.yaml --live
    rayfleet identity probe --account ACCOUNT --container CONTAINER   (inside a Ray pod)
    """


@identity.command()
@FLEET_ARG
@REGION_OPT
@click.option("--format", "output", type=click.Choice(["table", "json", "az", "bicep"]), default="table",
              show_default=True, help="table; json; az: a bash script of `az identity federated-credential "
                                      "create` commands run one after another; bicep.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="With --format bicep: write one .bicep file per resource group into this folder "
                   "(created if missing) instead of printing them.")
@handle_errors
def plan(fleet: str, regions: tuple[str, ...], output: str, out_dir: str | None) -> None:
    """The federated identity credential every ServiceAccount of FLEET needs, and the role the Blob
    CSI controller needs.

    One credential per region and ServiceAccount annotated with azure.workload.identity/client-id:
    the managed identity, the region's OIDC issuer, the subject
    system:serviceaccount:<namespace>:<name> and the audience api://AzureADTokenExchange. With a
    dynamic blob StorageClass: Storage Account Contributor for the AKS control-plane identity on
    the storage account. With a scheduling section: the MultiKueue manager identity's Azure role
    on each worker cluster (custom resources of ray.io and kueue.x-k8s.io).
    Exits 1 (after printing the plan) when a managed identity would need more than 20.
    """
    if out_dir is not None and output != "bicep":
        fail("--out writes Bicep files: use it with --format bicep")
    loaded = load_fleet(fleet)
    selected = {r.name for r in loaded.select(regions)}
    releases = _releases(loaded)
    whole = plan_credentials(loaded, releases)
    shown = IdentityPlan(tuple(c for c in whole.credentials if c.region in selected),
                         tuple(n for n in whole.notes if any(n.startswith(f"region {r}:") for r in selected)))
    roles = plan_role_assignments(loaded, releases, selected)
    rbac = plan_manager_roles(loaded, releases)  # the MultiKueue manager's role on each selected worker
    rbac = RbacPlan(tuple(a for a in rbac.assignments if a.worker in selected), rbac.notes)
    if out_dir is not None:
        files = bicep_files(shown, loaded)
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for name in files:  # all checked before any is written: no input overwritten, no symlink followed
            check_report_path(str(folder / name), fleet_inputs(loaded))
        for name, content in files.items():
            write_report(str(folder / name), content)
        click.echo(f"wrote {len(files)} Bicep file(s) to {out_dir}" + "".join(f"\n  {folder / n}" for n in files))
    else:
        text = {"table": lambda: format_identity_table(shown, terminal_width()) + format_role_lines(roles)
                + format_rbac_table(rbac),
                "json": lambda: json.dumps({**json.loads(_json_with_roles(format_json(shown), roles)),
                                            "azureRbac": rbac_plan_to_dict(rbac)}, indent=2) + "\n",
                "az": lambda: az_commands(shown, loaded) + az_role_commands(roles) + az_rbac_commands(rbac),
                "bicep": lambda: bicep(shown, loaded)}[output]()
        click.echo(text, nl=False)
    if output == "bicep" and roles:  # stdout stays deployable Bicep; the roles go to stderr
        click.echo(format_role_lines(roles).lstrip("\n") + "create them with: rayfleet identity plan --format az",
                   err=True)
    if output == "bicep" and rbac.assignments:
        click.echo(format_rbac_table(rbac).lstrip("\n") + "create them with: rayfleet identity plan --format az",
                   err=True)
    over = whole.over_limit()
    for creds in over.values():
        click.echo(f"rayfleet: error: managed identity {creds[0].identity_label} would need {len(creds)} federated "
                   "credentials, over the limit of 20 (federated-credential-limit): use one managed identity "
                   "per region", err=True)
    sys.exit(EXIT_FINDINGS if over else EXIT_OK)


def _json_with_roles(text: str, roles: list[PlannedRoleAssignment]) -> str:
    data = json.loads(text)
    data["roleAssignments"] = [role_to_dict(r) for r in roles]
    return json.dumps(data, indent=2) + "\n"


@identity.command()
@FLEET_ARG
@REGION_OPT
@click.option("--live", is_flag=True,
              help="Read the AKS clusters and the managed identities' federated credentials from Azure Resource "
                   "Manager (azure-identity DefaultAzureCredential; needs Reader).")
@azure_options
@report_options
@handle_errors
def check(fleet: str, regions: tuple[str, ...], live: bool, arm_endpoint: str | None, timeout: float,
          reports: tuple[str, ...], fail_on: str, color: bool | None) -> None:
    """Check FLEET's workload identity wiring.

    Without --live: the 20-credentials-per-identity limit. With --live, per region: the AKS
    cluster's OIDC issuer (enabled, equal to the fleet file's URL), workload identity and Blob CSI
    driver; per managed identity: missing, mismatched (issuer, subject, audience) and stale
    federated credentials. Authentication or network failures exit 2 naming the region.
    """
    loaded = load_fleet(fleet)
    loaded.select(regions)  # unknown region names fail before any rendering
    check_reports(reports, fleet_inputs(loaded))
    releases = _releases(loaded)
    if not live:
        result = run_identity_check(loaded, releases, regions=regions or None)
        finish(result, reports, fail_on, color, inputs=fleet_inputs(loaded))
    with ArmClient.for_fleet(loaded, endpoint=arm_endpoint, timeout=timeout) as arm:
        result = run_identity_check(loaded, releases, regions=regions or None, arm=arm)
    finish(result, reports, fail_on, color, inputs=fleet_inputs(loaded))


@identity.command()
@click.option("--account", metavar="NAME", default=None, help="Storage account to list one blob from.")
@click.option("--container", metavar="NAME", default=None, help="Blob container to list (with --account).")
@click.option("--blob-endpoint", metavar="URL", default=None,
              help="Blob service URL instead of https://ACCOUNT.blob.core.windows.net (private endpoints, tests).")
@click.option("--scope", default="https://storage.azure.com/.default", show_default=True,
              help="Scope of the token to request.")
@click.option("--timeout", type=click.FloatRange(min=1), default=20.0, show_default=True,
              help="Seconds to wait for each call.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def probe(account: str | None, container: str | None, blob_endpoint: str | None, scope: str, timeout: float,
          output: str) -> None:
    """Check workload identity from inside a pod, step by step.

    Reads AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST,
    decodes the projected ServiceAccount token (without verifying it) to show its issuer, subject
    and audience, exchanges it for a Storage token with WorkloadIdentityCredential and, with
    --account and --container, lists one blob. Exit 0 when every step passes, 1 when one fails.
    """

    if container and not (account or blob_endpoint):
        fail("--container needs --account (or --blob-endpoint)")
    if (account or blob_endpoint) and not container:
        fail("--account needs --container")
    result = run_probe(os.environ, account=account, container=container, blob_endpoint=blob_endpoint,
                       scope=scope, timeout=timeout)
    if output == "json":
        click.echo(format_probe_json(result))
    else:
        click.echo(format_probe(result))
    sys.exit(result.exit_code)

