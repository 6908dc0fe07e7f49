"""The GPU capacity table as text (``plan``, ``quota``) and as markdown (the markdown report)."""

from __future__ import annotations

from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..capacity.table import CapacityRow, CapacityTable
from .layout import hanging, natural_width, records, terminal_width


def row_to_dict(row: CapacityRow) -> dict[str, Any]:
    return {
        "region": row.region, "quota": row.quota_name, "kind": row.kind,
        "gpuModels": list(row.gpu_models), "maxGpus": row.max_gpus, "maxVCpus": row.max_vcpus,
        "limit": row.quota, "usedPercent": None if row.used_pct is None else round(row.used_pct, 1),
        "headroomAfterFailover": row.headroom_after_failover,
    }


def capacity_to_dict(table: CapacityTable) -> dict[str, Any]:
    """The capacity table in the JSON report (``data.capacity``) and ``plan --format json``."""
    return {"quotaSource": table.quota_source, "rows": [row_to_dict(r) for r in table.rows],
            "totals": [row_to_dict(r) for r in table.totals], "notes": list(table.notes)}


def format_capacity_table(table: CapacityTable, *, color: bool = False, width: int | None = None) -> str:
    """The capacity table as text (rich), for a terminal or a log: a grid when it fits ``width``
    (default: the terminal's), else one stacked record per row (so a cell never needs to wrap)."""
    width = width or terminal_width()
    title = f"GPU capacity (quota: {table.quota_source})"
    grid = Table(title=Text(title), title_justify="left")
    headers = ("region", "quota", "GPU", "max GPUs", "max vCPUs", "quota vCPUs", "used", "after failover")
    for header in headers:
        grid.add_column(header, justify="left" if header in headers[:3] else "right")
    rows = list(table.rows)
    cells: list[tuple[str, ...]] = []
    for index, row in enumerate([*rows, *table.totals]):
        if index == len(rows):
            grid.add_section()
        used = "-" if row.quota is None else ("over" if row.used_pct is None else f"{row.used_pct:.0f}%")
        style = "red" if row.fits is False else ("yellow" if (row.used_pct or 0) > 90 else "")
        headroom = row.headroom_after_failover
        cells.append((row.region, row.quota_name, ", ".join(row.gpu_models) or "-", str(row.max_gpus),
                      str(row.max_vcpus), "-" if row.quota is None else str(row.quota), used,
                      "-" if headroom is None else str(headroom)))
        grid.add_row(*(Text(cell) for cell in cells[-1]), style=style or None)  # data, never markup
    buffer = StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    if natural_width(grid) <= width:
        console.print(grid)
    else:  # too wide for the terminal: one record per row rather than a broken grid
        console.print(title, markup=False, highlight=False)
        console.print(records([(f"{c[0]}  {c[1]}", list(zip(headers[2:], c[2:], strict=True))) for c in cells],
                              width), markup=False, end="")
    for note in table.notes:
        console.print(hanging(f"note: {note}", width, 6), markup=False)
    return buffer.getvalue()


def capacity_markdown(table: CapacityTable) -> list[str]:
    """Markdown lines for the capacity table (the markdown report)."""
    capacity = capacity_to_dict(table)
    rows = [*capacity.get("rows", []), *capacity.get("totals", [])]
    if not rows:
        return []
    lines = [f"### GPU capacity (quota: {capacity.get('quotaSource', 'fleet file')})", "",
             "| Region | Quota | GPU | Max GPUs | Max vCPUs | Quota vCPUs | Used | After failover |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        used = "-" if row["usedPercent"] is None else f"{row['usedPercent']:.0f}%"
        if row["limit"] is not None and row["maxVCpus"] > row["limit"]:
            used = f"**{used} over**"
        lines.append(" | ".join([
            f"| {row['region']}", row["quota"], ", ".join(row["gpuModels"]) or "-", str(row["maxGpus"]),
            str(row["maxVCpus"]), "-" if row["limit"] is None else str(row["limit"]), used,
            "-" if row["headroomAfterFailover"] is None else str(row["headroomAfterFailover"])]) + " |")
    lines.append("")
    return lines
