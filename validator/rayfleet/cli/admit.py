"""rayfleet admit, and rayfleet policies export --format admission."""

from __future__ import annotations

from pathlib import Path

import click

from ..admission.build import MODES
from ..admission.commands import admit_manifests, export_text, options_for, policy_files
from ..fleet import PolicySettings, load_fleet
from .common import check_reports, finish, handle_errors, report_options

FLEET_OPT = click.option("--fleet", "fleet_path", type=click.Path(dir_okay=False), default=None,
                         help="Take policy settings (registries, GPU taint), the namespace and the release "
                              "name from this fleet file.")
NAMESPACE_OPT = click.option("--namespace", default=None,
                             help="The release namespace the bindings select (default: the fleet's; admit "
                                  "without one judges objects in any namespace).")
MODE_OPT = click.option("--mode", type=click.Choice(MODES), default="Deny", show_default=True,
                        help="Deny: error policies deny, warnings warn. Warn: every policy only warns.")


@click.command("export")
@click.option("--format", "output", type=click.Choice(["admission"]), required=True,
              help="admission: ValidatingAdmissionPolicies and bindings (admissionregistration.k8s.io/v1).")
@click.option("--out", "out_dir", type=click.Path(), default=None,
              help="Folder to write, one file per policy (new, empty, or an earlier export; replaced whole). "
                   "Default: stdout.")
@FLEET_OPT
@NAMESPACE_OPT
@MODE_OPT
@handle_errors
def export_policies(output: str, out_dir: str | None, fleet_path: str | None, namespace: str | None,
                    mode: str) -> None:
    """Every release policy CEL can express as a ValidatingAdmissionPolicy and binding, scoped to
    the release namespace. `rayfleet policies` lists the others and why (docs/policies.md)."""
    fleet = load_fleet(fleet_path) if fleet_path else None
    settings = fleet.settings if fleet else PolicySettings()
    options = options_for(fleet, namespace, mode, required=True)
    if out_dir is None:
        click.echo(export_text(settings, options), nl=False)
        return
    written = policy_files(Path(out_dir), settings, options)
    click.echo(f"wrote {len(written)} admission policies (each with its binding) to {out_dir}")


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(exists=True), metavar="PATH",
              help="Evaluate these exported admission policies (files or folders) instead of the catalogue's.")
@FLEET_OPT
@NAMESPACE_OPT
@MODE_OPT
@report_options
@handle_errors
def admit(paths: tuple[str, ...], policy_paths: tuple[str, ...], fleet_path: str | None, namespace: str | None,
          mode: str, reports: tuple[str, ...], fail_on: str, color: bool | None) -> None:
    """Would the cluster admit these manifests? Evaluates the admission policies (files, folders or
    - for stdin) offline with a CEL engine; each violation is a finding. Exit 1 on denials."""
    inputs = [*paths, *policy_paths, fleet_path]
    check_reports(reports, inputs)  # refused before any work: no report over or into an input
    fleet = load_fleet(fleet_path) if fleet_path else None
    settings = fleet.settings if fleet else PolicySettings()
    result = admit_manifests(list(paths), settings, options_for(fleet, namespace, mode, required=False),
                             policy_paths=list(policy_paths))
    finish(result, reports, fail_on, color, inputs=inputs)


__all__ = ["admit", "export_policies"]
