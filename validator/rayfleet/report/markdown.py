"""Markdown for pull-request comments and ``$GITHUB_STEP_SUMMARY``: a table per region."""

from __future__ import annotations

from ..findings import Severity
from ..result import Result
from .capacity import capacity_markdown
from .common import group_by_region, summary, where

ICONS = {Severity.ERROR: "❌ error", Severity.WARNING: "⚠️ warning", Severity.INFO: "\N{INFORMATION SOURCE}\ufe0f info"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_result(result: Result) -> str:
    counts = summary(result)
    status = "❌ failed" if counts["error"] else "✅ passed"
    lines = [f"## rayfleet {result.command}: {status}", ""]
    lines.append(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info, "
                 f"{counts['suppressed']} waived · {len([r for r in result.regions if r.name])} regions · "
                 f"{sum(r.objects for r in result.regions)} objects")
    lines.append("")
    groups = group_by_region(result.findings)
    checked = [r.name for r in result.regions if r.name]
    names = checked + [g for g in groups if g not in checked]
    for name in names:
        findings = groups.get(name or "", [])
        counting = [f for f in findings if f.counts]
        failed = any(f.severity is Severity.ERROR for f in counting)
        mark = "❌" if failed else ("⚠️" if counting else "✅")
        lines.append(f"### {mark} {name}")
        lines.append("")
        if not findings:
            lines += ["No findings.", ""]
            continue
        lines.append("| Severity | Policy | Object | Message | Source |")
        lines.append("|---|---|---|---|---|")
        for finding in findings:
            severity = ICONS[finding.severity] + (" (waived)" if finding.suppressed else "")
            obj = f"`{finding.obj}`" if finding.obj else ""
            source = f"`{where(finding)}`" if where(finding) else ""
            lines.append(f"| {severity} | `{finding.policy}` | {obj} | {_cell(finding.message)} | {source} |")
        lines.append("")
    if result.capacity is not None:
        lines += capacity_markdown(result.capacity)
    for note in result.notes:
        lines.append(f"> {note}")
    return "\n".join(lines).rstrip() + "\n"
