"""The ``rayfleet`` command line: parses arguments, calls one library function, picks reporters,
sets the exit code. Commands are registered in one explicit list at the bottom."""

from __future__ import annotations

import click

from .._version import __version__
from .core import plan, policies, render, scan, validate
from .export import export
from .identity import identity
from .preflight import preflight
from .quota import quota
from .rollout import rollout
from .status import status

EPILOG = """\b
Examples:
  rayfleet validate examples/fleet.yaml
  rayfleet validate fleet.yaml --region eastus2 --report sarif=rayfleet.sarif --report text
  rayfleet scan rendered/ --kube-version 1.33 --crds crds/
  helm template ray charts/ray-aks -f values.yaml | rayfleet scan -
  rayfleet plan examples/fleet.yaml
  rayfleet quota examples/fleet.yaml --live
  rayfleet identity plan examples/fleet.yaml --format az
  rayfleet preflight examples/fleet.yaml --region eastus2
  rayfleet rollout examples/fleet.yaml --dry-run
  rayfleet export flux examples/fleet.yaml --out gitops/
  rayfleet rollout examples/fleet.yaml --engine fleet-manager --dry-run
  rayfleet status examples/fleet.yaml --format html --out status.html
  rayfleet status --from examples/status/snapshot.json
  rayfleet render examples/fleet.yaml --region eastus2 --out out/eastus2
  rayfleet policies show blob-token-only-auth

Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 bad input or usage.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rayfleet")
def main() -> None:
    """Validate and roll out Ray on AKS across regions: one Helm release per region,
    rendered with Helm's own engine and checked before it ships."""


COMMANDS: list[click.Command] = [validate, scan, render, plan, quota, identity, preflight, rollout, export,
                               status, policies]

for command in COMMANDS:
    main.add_command(command)
