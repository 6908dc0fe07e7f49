"""rayfleet diff: what a change does to every region's rendered release."""

from __future__ import annotations

from pathlib import Path

import click

from ..diff import diff_fleet
from ..fleet import load_fleet
from ..report.diff import FORMATTERS
from ..report_paths import check_report_path, fleet_inputs, write_report
from .common import fail, handle_errors


@click.command()
@click.argument("fleet", default="fleet.yaml")
@click.option("--base", "base_ref", metavar="GITREF", default=None,
              help="Compare with this commit, branch or tag (e.g. origin/main); read with `git archive` into "
                   "a temporary folder, your working tree is not touched.")
@click.option("--base-dir", type=click.Path(file_okay=False), default=None,
              help="Compare with this folder: a checkout of the base (the fleet file at the same path "
                   "relative to the repository root).")
@click.option("--region", "regions", multiple=True, metavar="NAME", help="Only this region (repeatable).")
@click.option("--crds", type=click.Path(), default=None, help="Folder of CRD YAML files (KubeRay).")
@click.option("--format", "output", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="markdown is made for a pull-request comment.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@handle_errors
def diff(fleet: str, base_ref: str | None, base_dir: str | None, regions: tuple[str, ...], crds: str | None,
         output: str, out: str | None) -> None:
    """Per region: objects added, removed and changed (field by field, secret values redacted)
    between the base and the working tree, and the findings that appear or disappear.

    Exit 0 whatever changed (run `rayfleet validate` to gate on findings), 2 for bad input.
    """
    if not Path(fleet).is_file():
        fail(f"{fleet}: fleet file not found")
    if (base_ref is None) == (base_dir is None):
        fail("give the base as --base GITREF or --base-dir DIR (one of them)")
    if out is not None:  # checked before the work: never over an input of the run
        if not Path(out).parent.is_dir():
            fail(f"{out}: folder {Path(out).parent} does not exist")
        check_report_path(out, [*fleet_inputs(load_fleet(fleet)), crds, base_dir])
    result = diff_fleet(fleet, base_ref=base_ref, base_dir=base_dir, regions=regions or None, crds=crds)
    text = FORMATTERS[output](result)
    if out is None:
        click.echo(text, nl=False)
        return
    write_report(out, text)
