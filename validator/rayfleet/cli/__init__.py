"""The ``rayfleet`` command line: parses arguments, calls one library function, picks reporters,
sets the exit code. Commands are registered in one explicit list, ``LAZY_COMMANDS``.

Commands are imported when they run, not at start-up: ``rayfleet --version`` and ``--help`` stay
under a quarter of a second, and ``rayfleet validate`` never imports the Azure or Kubernetes
clients (``tests/core/test_startup.py`` checks both)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click

from .._version import __version__
from .process import configure_client_logging, fail

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


@dataclass(frozen=True)
class LazyCommand:
    """A command by where it lives; ``summary`` is its help's first sentence, shown by ``--help``
    without importing it (a test keeps it equal to the command's own)."""

    name: str
    module: str
    attr: str
    summary: str
    subcommands: tuple[tuple[str, str], ...] = ()  # (module, attr) added to a group once it is loaded


# The one explicit list of commands, in the order of this list.
LAZY_COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("validate", "core", "validate", "Render every region of FLEET (default ./fleet.yaml) and check it."),
    LazyCommand("scan", "core", "scan", "Check manifests rendered elsewhere: files, folders or - for stdin."),
    LazyCommand("render", "core", "render", "Write one region's rendered manifests to a folder, one file per "
                "object (for GitOps)."),
    LazyCommand("plan", "core", "plan", "Per region: the wave, the values stack in Helm's order, the exact helm "
                "command, and the GPU capacity table (max GPUs and vCPUs per VM family against the quota, headroom "
                "after a failover)."),
    LazyCommand("quota", "quota", "quota", "Max GPU demand of every region against its vCPU quota, and failover "
                "headroom."),
    LazyCommand("identity", "identity", "identity", "Workload identity: federated credential plan, live check, "
                "in-pod probe."),
    LazyCommand("preflight", "preflight", "preflight", "Check each region's cluster (its kube context) before a "
                "rollout."),
    LazyCommand("rollout", "rollout", "rollout", "Roll FLEET out wave by wave (ascending wave; fleet order inside "
                "a wave)."),
    LazyCommand("export", "export", "export", "Write the fleet as Flux or Azure Kubernetes Fleet Manager objects "
                "(docs/gitops.md)."),
    LazyCommand("scheduling", "scheduling", "scheduling", "Multi-region job routing with Kueue MultiKueue "
                "(docs/scheduling.md)."),
    LazyCommand("status", "status", "status", "Show every region of FLEET: Helm release and drift from plan, "
                "RayClusters, RayJobs, GPU nodes and use against quota, Kueue queues (and, on a MultiKueue manager, "
                "where recent RayJobs were dispatched), workload identity webhook and storage."),
    LazyCommand("policies", "core", "policies", "The policy catalogue (`policies show ID` for one policy).",
                subcommands=(("admit", "export_policies"),)),
    LazyCommand("diff", "diff", "diff", "Per region: objects added, removed and changed (field by field, secret "
                "values redacted) between the base and the working tree, and the findings that appear or "
                "disappear."),
    LazyCommand("schema", "schema", "schema", "Print a JSON Schema: `fleet` (the fleet file), `report` "
                "(--report json), `status`."),
    LazyCommand("admit", "admit", "admit", "Would the cluster admit these manifests? Evaluates the admission "
                "policies (files, folders or - for stdin) offline with a CEL engine; each violation is a finding."),
)
_BY_NAME = {c.name: c for c in LAZY_COMMANDS}


def _load(lazy: LazyCommand) -> click.Command:
    command = getattr(importlib.import_module(f"{__name__}.{lazy.module}"), lazy.attr)
    for module, attr in lazy.subcommands:
        assert isinstance(command, click.Group)
        command.add_command(getattr(importlib.import_module(f"{__name__}.{module}"), attr))
    return command


class RayfleetGroup(click.Group):
    """Usage errors (an unknown option, a bad value, a missing argument) are one line and exit 2,
    like every other error, instead of click's usage block. Commands come from ``LAZY_COMMANDS``,
    imported when first asked for."""

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _BY_NAME:
            self.add_command(_load(_BY_NAME[cmd_name]), cmd_name)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_BY_NAME)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, from the summaries: --help imports no command module.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, click.Command(n, help=_BY_NAME[n].summary).get_short_help_str(limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


def __getattr__(name: str) -> Any:
    # ``COMMANDS``: every command object, imported on first use (tests and docs generators).
    if name == "COMMANDS":
        return [main.get_command(None, c.name) for c in LAZY_COMMANDS]  # type: ignore[arg-type]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
