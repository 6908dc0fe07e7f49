"""Drawing ``rollout --engine fleet-manager``: progress, the stage table, the dry-run plan."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..delivery.run import RunObserver, UpdateRunReport
from ..delivery.writer import dump_objects

_STYLE = {"succeeded": "green", "approved": "green", "failed": "red", "checking": "cyan", "updating": "cyan",
          "not-started": "yellow"}


class StageProgress(RunObserver):
    def __init__(self, console: Console) -> None:
        self.console = console

    def stage(self, stage: str, state: str, detail: str = "") -> None:
        style = _STYLE.get(state, "")
        shown = f"[{style}]{state}[/{style}]" if style else state
        self.console.print(f"  {stage:<10} {shown}" + (f"  {detail}" if detail else ""), highlight=False,
                           soft_wrap=True)


def plan_text(report: UpdateRunReport) -> str:
    """The stages and the objects the run would create (``--dry-run``)."""
    lines = [f"# placement {report.placement}, strategy {report.strategy}: "
             f"{len(report.stages)} stages, an approval after each"]
    for index, stage in enumerate(report.stages):
        label = " (canary)" if index == 0 and len(report.stages) > 1 else ""
        lines.append(f"# stage {stage.name}{label}: {', '.join(stage.regions)}")
        lines.append(f"#   then approve ClusterApprovalRequest {report.run}-after-{stage.name} once preflight is "
                     "clean, the HelmRelease (and the Anyscale operator's, where declared) is Ready and the "
                     "RayCluster is ready in each region")
    lines.append("# objects rayfleet creates on the hub (resourceSnapshotIndex: the latest, read at run time):")
    return "\n".join(lines) + "\n" + dump_objects(report.objects)


def stage_table(report: UpdateRunReport) -> Table:
    title = "fleet-manager rollout (dry run)" if report.dry_run else f"fleet-manager rollout {report.run}"
    table = Table(title=f"{title}: {report.status}", title_justify="left")
    for column in ("stage", "wave", "regions", "status", "message"):
        table.add_column(column, overflow="fold")
    for stage in report.stages:
        style = _STYLE.get(stage.status, "")
        table.add_row(stage.name, str(stage.wave), ", ".join(stage.regions), f"[{style}]{stage.status}[/{style}]"
                      if style else stage.status, stage.message)
    return table
