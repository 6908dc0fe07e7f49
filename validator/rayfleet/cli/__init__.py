"""The ``rayfleet`` command line: parses arguments, calls one library function, picks reporters,
sets the exit code. Commands are registered in one explicit list at the bottom."""

from __future__ import annotations

from typing import Any

import click

from .._version import __version__
from .admit import admit, export_policies
from .common import configure_client_logging, fail
from .core import plan, policies, render, scan, validate
from .diff import diff
from .export import export
from .identity import identity
from .preflight import preflight
from .quota import quota
from .rollout import rollout
from .scheduling import scheduling
from .schema import schema
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
  rayfleet scheduling sync examples/fleet.yaml --dry-run
  rayfleet plan examples/fleet.yaml --lose eastus2
  rayfleet export flux examples/fleet.yaml --out gitops/
  rayfleet rollout examples/fleet.yaml --engine fleet-manager --dry-run
  rayfleet status examples/fleet.yaml --format html --out status.html
  rayfleet status --from examples/status/snapshot.json
  rayfleet render examples/fleet.yaml --region eastus2 --out out/eastus2
  rayfleet policies show blob-token-only-auth
  rayfleet policies export --format admission --fleet examples/fleet.yaml --out admission/
  rayfleet admit rendered/ --fleet examples/fleet.yaml
  rayfleet diff fleet.yaml --base origin/main --format markdown
  rayfleet schema fleet --out fleet.schema.json

Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 bad input or usage.
"""


class RayfleetGroup(click.Group):
    """Usage errors (an unknown option, a bad value, a missing argument) are one line and exit 2,
    like every other error, instead of click's usage block."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            fail(exc.format_message() + hint)
        except click.ClickException as exc:
            fail(exc.format_message())
        except click.Abort:
            fail("aborted")


@click.group(cls=RayfleetGroup, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rayfleet")
@click.option("-v", "--verbose", is_flag=True,
              help="Also show the Azure and Kubernetes client libraries' own log lines on stderr "
                   "(requests, retries, Entra ID's full answers).")
def main(verbose: bool) -> None:
    """Validate and roll out Ray on AKS across regions: one Helm release per region,
    rendered with Helm's own engine and checked before it ships."""
    configure_client_logging(verbose)


COMMANDS: list[click.Command] = [validate, scan, render, plan, quota, identity, preflight, rollout, export,
                               scheduling, status, policies, diff, schema, admit]
policies.add_command(export_policies)

for command in COMMANDS:
    main.add_command(command)
