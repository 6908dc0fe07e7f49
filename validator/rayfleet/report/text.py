"""Human text: findings grouped by region, colour in a terminal, a summary table."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import Severity
from ..result import Result
from .common import group_by_region, summary, where

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render(result: Result, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False,
                      soft_wrap=True)
    groups = group_by_region(result.findings)
    for region, findings in groups.items():
        console.print(Text(region, style="bold underline"))
        for finding in findings:
            line = Text("  ")
            line.append(f"{finding.severity.value:<7}", style=STYLES[finding.severity])
            line.append(f" {finding.policy}", style="bold")
            if finding.suppressed:
                line.append(" (waived)", style="dim")
            line.append(f"  {finding.message}")
            console.print(line)
            details = []
            if finding.obj:
                details.append(f"{finding.obj}" + (f" {finding.path}" if finding.path else ""))
            if where(finding):
                details.append(where(finding))
            if details:
                console.print(Text("          " + " · ".join(details), style="dim"))
            if finding.suppressed:
                console.print(Text(f"          waived: {finding.suppressed.reason} "
                                   f"(owner {finding.suppressed.owner}, until {finding.suppressed.expires})",
                                   style="dim"))
            elif finding.severity is not Severity.INFO:
                console.print(Text(f"          fix: {finding.remediation}", style="green" if color else ""))
        console.print()
    table = Table(title=f"rayfleet {result.command}", show_edge=False, box=None, pad_edge=False)
    for column in ("region", "objects", "errors", "warnings", "info", "waived"):
        table.add_column(column, justify="left" if column == "region" else "right")
    for region in result.regions:
        mine = [f for f in result.findings if f.region == region.name]
        table.add_row(region.name or "scan", str(region.objects),
                      *(str(sum(1 for f in mine if f.severity is s and f.counts))
                        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)),
                      str(sum(1 for f in mine if not f.counts)))
    console.print(table)
    counts = summary(result)
    verdict = Text()
    verdict.append("FAILED" if counts["error"] else "PASSED", style="bold red" if counts["error"] else "bold green")
    verdict.append(f": {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info, "
                   f"{counts['suppressed']} waived, {len(result.policies)} policies")
    console.print(verdict)
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    return buffer.getvalue()
