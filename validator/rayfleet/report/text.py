"""Human text: findings grouped by region, colour in a terminal, a summary table."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import Finding, Severity
from ..result import Result
from .common import group_by_region, summary, where
from .layout import hanging, terminal_width

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def format_result(result: Result, *, color: bool = False, width: int | None = None) -> str:
    """Findings by region, then a summary. Lines fit ``width`` (default: the terminal's), wrapped
    at spaces with a hanging indent; policy IDs, paths and URLs are never broken or cut."""
    width = width or terminal_width()
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False,
                      soft_wrap=True)
    groups = group_by_region(result.findings)
    for region, findings in groups.items():
        console.print(Text(region, style="bold underline"))
        for finding in findings:
            console.print(_finding_line(finding, width))
            details = []
            if finding.obj:
                details.append(f"{finding.obj}" + (f" {finding.path}" if finding.path else ""))
            if where(finding):
                details.append(where(finding))
            if details:
                console.print(Text(hanging(" · ".join(details), width, _DETAIL + 2, _DETAIL), style="dim"))
            if finding.suppressed:
                waived = (f"waived: {finding.suppressed.reason} (owner {finding.suppressed.owner}, "
                          f"until {finding.suppressed.expires})")
                console.print(Text(hanging(waived, width, _DETAIL + 8, _DETAIL), style="dim"))
            elif finding.severity is not Severity.INFO:
                console.print(Text(hanging(f"fix: {finding.remediation}", width, _DETAIL + 5, _DETAIL),
                                   style="green" if color else ""))
        console.print()
    table = Table(title=f"rayfleet {result.command}", box=None, pad_edge=False)
    for column in ("region", "objects", "errors", "warnings", "info", "waived"):
        table.add_column(column, justify="left" if column == "region" else "right", no_wrap=True)
    for region in result.regions:
        mine = [f for f in result.findings if f.region == region.name]
        table.add_row(Text(region.name or "scan"), str(region.objects),
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
        console.print(Text(hanging(f"note: {note}", width, 6), style="dim"))
    return buffer.getvalue()


_DETAIL = 10  # where the detail lines under a finding start


def _finding_line(finding: Finding, width: int) -> Text:
    """``  error   policy-id  message…`` wrapped with the message's continuation under the details."""
    head = f"{finding.severity.value:<7} {finding.policy}" + (" (waived)" if finding.suppressed else "")
    line = Text(hanging(f"{head}  {finding.message}", width, _DETAIL, 2))
    line.stylize(STYLES[finding.severity], 2, 2 + len(finding.severity.value))
    line.stylize("bold", 10, 10 + len(finding.policy))
    if finding.suppressed:
        line.stylize("dim", 10 + len(finding.policy), 10 + len(finding.policy) + len(" (waived)"))
    return line
