"""rayfleet schema: the JSON Schemas rayfleet reads and writes, for editors and other tools."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..report_paths import check_report_path, write_report
from ..resources import load_schema
from .common import fail, handle_errors

SCHEMAS = {"fleet": "fleet.schema.json", "report": "report.schema.json", "status": "status.schema.json"}


@click.command()
@click.argument("name", type=click.Choice(list(SCHEMAS)), default="fleet")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the schema to this file (e.g. fleet.schema.json beside your fleet file).")
@handle_errors
def schema(name: str, out: str | None) -> None:
    """Print a JSON Schema: `fleet` (the fleet file), `report` (--report json), `status`.

    Point an editor at the fleet file's schema with a first line such as
    `# yaml-language-server: $schema=./fleet.schema.json` after
    `rayfleet schema fleet --out fleet.schema.json`.
    """
    text = json.dumps(load_schema(SCHEMAS[name]), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    target = Path(out)
    if not target.parent.is_dir():
        fail(f"{out}: folder {target.parent} does not exist")
    check_report_path(out, [])  # no symlink, no folder
    write_report(out, text)
    click.echo(f"wrote the {name} schema to {out}", err=True)
