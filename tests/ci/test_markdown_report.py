"""The Markdown report (PR comments, ``$GITHUB_STEP_SUMMARY``): a status line, then a table per
region, built from a hand-made Result."""

from __future__ import annotations

from datetime import date
from typing import Any

from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation, Suppression
from rayfleet.report import FORMATS, format_report
from rayfleet.report.markdown import format_result
from rayfleet.result import RegionSummary, Result

RAYCLUSTER = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray-ray-cluster")
PVC = ObjectRef("v1", "PersistentVolumeClaim", "ray", "ray-data")
WAIVER = Suppression(reason="T4 spot tracks the platform tag", owner="platform@example.com",
                     expires=date(2027, 6, 30), waiver_index=0)
HEADER = "| Severity | Policy | Object | Message | Source |"


def _finding(policy: str, severity: Severity, message: str, region: str | None, **extra: Any) -> Finding:
    return Finding(policy=policy, severity=severity, message=message, remediation="fix it", region=region,
                   **extra)


def _result(*findings: Finding) -> Result:
    return Result(
        command="validate",
        findings=list(findings),
        regions=[RegionSummary("eastus2", objects=5), RegionSummary("swedencentral", objects=4),
                 RegionSummary("westus3", objects=6)],
    )


def _two_regions() -> Result:
    return _result(
        _finding("values-schema", Severity.ERROR, "maxReplicas: 'lots' is not of type 'integer' | 'null'",
                 "eastus2", source=SourceLocation("values/regions/eastus2.yaml", 27)),
        _finding("shared-pvc-read-write-many", Severity.WARNING, "claim is ReadWriteOnce\nshared by 3 pods",
                 "eastus2", obj=PVC, template="charts/ray-aks/charts/blob-storage/templates/pvc.yaml"),
        _finding("image-pinned", Severity.INFO, "image by tag only", "westus3", obj=RAYCLUSTER),
        _finding("image-pinned", Severity.WARNING, "head image by tag only", "westus3", obj=RAYCLUSTER,
                 suppressed=WAIVER),
        _finding("waiver-unmatched", Severity.WARNING, "waiver #2 matches no finding", None,
                 source=SourceLocation("fleet.yaml", 87)),
    )


def _sections(markdown: str) -> dict[str, list[str]]:
    """``### <mark> <region>`` heading -> the lines under it."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("### "):
            current = sections.setdefault(line[4:], [])
        elif line:
            current.append(line)
    return sections


def _cells(row: str) -> list[str]:
    """Split a table row on the pipes Markdown sees (not the escaped ``\\|``)."""
    cells, cell, escaped = [], "", False
    for char in row.strip()[1:-1]:
        if char == "|" and not escaped:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
        escaped = char == "\\" and not escaped
    return [*cells, cell.strip()]


def test_markdown_is_a_registered_report_format():
    assert FORMATS["markdown"] is format_result
    assert format_report("markdown", _two_regions()) == format_result(_two_regions())


def test_status_line_and_totals():
    lines = format_result(_two_regions()).splitlines()
    assert lines[0] == "## rayfleet validate: ❌ failed"
    assert lines[2] == "1 errors, 2 warnings, 1 info, 1 waived · 3 regions · 15 objects"


def test_passes_when_the_only_error_is_waived():
    waived = _finding("values-schema", Severity.ERROR, "bad", "eastus2", suppressed=WAIVER)
    markdown = format_result(_result(waived))
    assert markdown.startswith("## rayfleet validate: ✅ passed\n")
    assert "0 errors, 0 warnings, 0 info, 1 waived" in markdown
    assert "| ❌ error (waived) | `values-schema` |" in markdown


def test_one_section_per_region_in_fleet_order_then_the_fleet():
    sections = _sections(format_result(_two_regions()))
    assert list(sections) == ["❌ eastus2", "✅ swedencentral", "⚠️ westus3", "⚠️ (fleet)"]


def test_an_empty_region_says_so_without_a_table():
    assert _sections(format_result(_two_regions()))["✅ swedencentral"] == ["No findings."]


def test_region_table_rows_in_severity_order():
    eastus2 = _sections(format_result(_two_regions()))["❌ eastus2"]
    assert eastus2[:2] == [HEADER, "|---|---|---|---|---|"]
    rows = [_cells(row) for row in eastus2[2:]]
    assert rows == [
        ["❌ error", "`values-schema`", "", "maxReplicas: 'lots' is not of type 'integer' \\| 'null'",
         "`values/regions/eastus2.yaml:27`"],
        ["⚠️ warning", "`shared-pvc-read-write-many`", "`PersistentVolumeClaim/ray/ray-data`",
         "claim is ReadWriteOnce shared by 3 pods", "`charts/ray-aks/charts/blob-storage/templates/pvc.yaml`"],
    ]


def test_pipes_are_escaped_and_every_row_keeps_five_cells():
    markdown = format_result(_two_regions())
    assert "'integer' \\| 'null'" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and line != HEADER]
    assert rows and all(len(_cells(row)) == 5 for row in rows)


def test_waived_findings_are_listed_and_marked_but_do_not_colour_the_region():
    westus3 = _sections(format_result(_two_regions()))["⚠️ westus3"]
    assert [_cells(row)[:2] for row in westus3[2:]] == [
        ["⚠️ warning (waived)", "`image-pinned`"],
        ["ℹ️ info", "`image-pinned`"],  # noqa: RUF001 (the report's info icon)
    ]
    waived = _finding("image-pinned", Severity.WARNING, "tag", "westus3", suppressed=WAIVER)
    only_waived = format_result(_result(waived))
    assert "### ✅ westus3" in only_waived


def test_fleet_findings_and_notes():
    result = _two_regions()
    result.notes.append("skipped: gpu-quota-fit")
    markdown = format_result(result)
    fleet = _sections(markdown)["⚠️ (fleet)"]
    assert _cells(fleet[2]) == ["⚠️ warning", "`waiver-unmatched`", "", "waiver #2 matches no finding",
                                "`fleet.yaml:87`"]
    assert markdown.endswith("> skipped: gpu-quota-fit\n")


def test_nothing_found():
    markdown = format_result(_result())
    assert markdown.splitlines()[0] == "## rayfleet validate: ✅ passed"
    assert "0 errors, 0 warnings, 0 info, 0 waived · 3 regions · 15 objects" in markdown
    assert list(_sections(markdown).values()) == [["No findings."]] * 3
    assert "|" not in markdown
