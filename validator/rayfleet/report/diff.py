"""``rayfleet diff`` as Markdown (the pull-request comment), plain text and JSON."""

from __future__ import annotations

import json
from typing import Any

from ..diff import ABSENT, FleetDiff, ObjectChange, RegionDiff
from ..findings import Finding

SYMBOL = {"added": "+", "removed": "-", "changed": "~", "unchanged": "="}


def _value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _finding(finding: Finding) -> str:
    where = f" {finding.obj}" if finding.obj else ""
    where += f" {finding.path}" if finding.path else ""
    waived = " (waived)" if finding.suppressed is not None else ""
    return f"{finding.severity.value} {finding.policy}{where}: {finding.message}{waived}"


def _counts(region: RegionDiff) -> dict[str, int]:
    return {status: sum(1 for o in region.objects if o.status == status) for status in ("added", "removed", "changed")}


# --- text ---------------------------------------------------------------------------------------

def _text_object(change: ObjectChange) -> list[str]:
    status = "" if change.status == "changed" else f" ({change.status})"
    lines = [f"  {SYMBOL[change.status]} {change.label}{status}"]
    for item in change.fields:
        lines.append(f"      {item.path}: {_value(item.before)} -> {_value(item.after)}")
    if change.more_fields:
        lines.append(f"      … and {change.more_fields} more fields")
    return lines


def format_text(diff: FleetDiff) -> str:
    lines = [f"rayfleet diff: {diff.base} -> working tree", *(f"note: {n}" for n in diff.notes)]
    for region in diff.regions:
        counts = _counts(region)
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no object changes"
        lines += ["", f"{region.name} ({region.status}): {summary}", *(f"  note: {n}" for n in region.notes)]
        for change in region.objects:
            lines += _text_object(change)
        lines += [f"  new finding: {_finding(f)}" for f in region.new_findings]
        lines += [f"  gone finding: {_finding(f)}" for f in region.fixed_findings]
    if diff.fleet_new_findings or diff.fleet_fixed_findings:
        lines += ["", "fleet"]
        lines += [f"  new finding: {_finding(f)}" for f in diff.fleet_new_findings]
        lines += [f"  gone finding: {_finding(f)}" for f in diff.fleet_fixed_findings]
    if not diff.changed:
        lines += ["", "no region changes"]
    return "\n".join(lines) + "\n"


# --- markdown -----------------------------------------------------------------------------------

def _cell(text: str) -> str:
    """Text safe in a Markdown table cell, as code."""
    text = text.replace("\n", "⏎").replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _md_object(change: ObjectChange) -> list[str]:
    if change.status != "changed":
        return [f"- **{change.status}** {_cell(change.label)}"]
    lines = [f"- **changed** {_cell(change.label)}", "", "  | Field | Before | After |", "  |---|---|---|"]
    lines += [f"  | {_cell(c.path)} | {_cell(_value(c.before))} | {_cell(_value(c.after))} |" for c in change.fields]
    if change.more_fields:
        lines.append(f"  | … and {change.more_fields} more fields | | |")
    return [*lines, ""]


def _md_findings(new: list[Finding], gone: list[Finding]) -> list[str]:
    lines = [f"- 🆕 {_cell(_finding(f))}" for f in new]
    lines += [f"- ✅ fixed: {_cell(_finding(f))}" for f in gone]
    return lines


def format_markdown(diff: FleetDiff) -> str:
    lines = [f"## rayfleet diff: {_cell(diff.base)} → this change", ""]
    lines += [f"> {note}" for note in diff.notes]
    lines += ["| Region | Status | Objects added | removed | changed | New findings | Fixed findings |",
              "|---|---|---|---|---|---|---|"]
    for region in diff.regions:
        counts = _counts(region)
        lines.append(f"| {region.name} | {region.status} | {counts['added']} | {counts['removed']} | "
                     f"{counts['changed']} | {len(region.new_findings)} | {len(region.fixed_findings)} |")
    for region in diff.regions:
        if region.status == "unchanged":
            continue
        lines += ["", f"<details><summary><b>{region.name}</b>: {region.status}</summary>", ""]
        lines += [f"> {note}" for note in region.notes]
        for change in region.objects:
            lines += _md_object(change)
        if region.new_findings or region.fixed_findings:
            lines += ["", "Findings:", "", *_md_findings(region.new_findings, region.fixed_findings)]
        lines += ["", "</details>"]
    if diff.fleet_new_findings or diff.fleet_fixed_findings:
        lines += ["", "**Fleet-wide findings**", "", *_md_findings(diff.fleet_new_findings, diff.fleet_fixed_findings)]
    if not diff.changed:
        lines += ["", "No region's release changes."]
    return "\n".join(lines) + "\n"


# --- json ---------------------------------------------------------------------------------------

def _finding_json(finding: Finding) -> dict[str, Any]:
    return {"policy": finding.policy, "severity": finding.severity.value, "region": finding.region,
            "object": str(finding.obj) if finding.obj else None, "path": finding.path, "message": finding.message,
            "waived": finding.suppressed is not None}


def _json_value(value: Any) -> dict[str, Any]:
    return {"absent": True} if value is ABSENT else {"value": value}


def format_json(diff: FleetDiff) -> str:
    document = {
        "base": diff.base, "changed": diff.changed, "notes": diff.notes,
        "regions": [{
            "name": r.name, "status": r.status, "notes": r.notes,
            "objects": [{"kind": o.kind, "namespace": o.namespace, "name": o.name, "status": o.status,
                         "fields": [{"path": c.path, "before": _json_value(c.before), "after": _json_value(c.after)}
                                    for c in o.fields], "moreFields": o.more_fields} for o in r.objects],
            "newFindings": [_finding_json(f) for f in r.new_findings],
            "fixedFindings": [_finding_json(f) for f in r.fixed_findings],
        } for r in diff.regions],
        "fleetNewFindings": [_finding_json(f) for f in diff.fleet_new_findings],
        "fleetFixedFindings": [_finding_json(f) for f in diff.fleet_fixed_findings],
    }
    return json.dumps(document, indent=2, default=str) + "\n"


FORMATTERS = {"text": format_text, "markdown": format_markdown, "json": format_json}
