"""The rollout plan as text (a table, then each region's helm command) and as JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..capacity.table import CapacityTable
from ..plan import OperatorPlan, RegionPlan, format_command
from .capacity import capacity_to_dict, format_capacity_table
from .layout import natural_width, records, terminal_width


def region_plan_to_dict(plan: RegionPlan) -> dict[str, Any]:
    """One region of the plan, every key camelCase like the capacity table and the reports."""
    region = plan.region
    return {"region": region.name, "location": region.location, "wave": plan.wave, "cluster": region.cluster.name,
            "kubeContext": plan.kube_context, "release": plan.release, "namespace": plan.namespace,
            "values": list(plan.values_files), "command": format_command(plan.command()),
            "anyscale": _operator_to_dict(plan.anyscale), "failoverPeers": list(region.failover_peers)}


def _operator_to_dict(operator: OperatorPlan | None) -> dict[str, Any] | None:
    """The region's Anyscale operator release, run after the region's (None: the region runs none)."""
    if operator is None:
        return None
    return {"release": operator.release, "namespace": operator.namespace, "chart": operator.chart,
            "version": operator.version, "values": list(operator.values_files),
            "command": format_command(operator.command())}


def format_plan_json(plan: Sequence[RegionPlan], capacity: CapacityTable | None = None) -> str:
    """The plan as JSON, every key camelCase like the capacity table and the reports."""
    document: dict[str, Any] = {"regions": [region_plan_to_dict(p) for p in plan]}
    if capacity is not None:
        document["capacity"] = capacity_to_dict(capacity)
    return json.dumps(document, indent=2) + "\n"


def format_plan_text(plan: Sequence[RegionPlan], capacity: CapacityTable | None = None, *, color: bool = False,
                 width: int | None = None) -> str:
    """The plan for a terminal: a table (stacked records when it does not fit ``width``), then each
    region's helm command on one line of its own (never wrapped: it is copied into a shell)."""
    width = width or terminal_width()
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, soft_wrap=True)
    table = Table(title="rollout plan", box=None, pad_edge=False, title_justify="left")
    for column in ("wave", "region", "cluster", "context", "values (in order)"):
        table.add_column(column)
    for p in plan:
        # Text, not str: a values path like v/[eu].yaml is data, never rich markup
        table.add_row(*(Text(cell) for cell in (str(p.wave), p.name, p.region.cluster.name, p.kube_context or "-",
                                                "\n".join(p.values_files))))
    if natural_width(table) <= width:
        console.print(table)
    else:
        console.print("rollout plan")
        console.print(records([(f"wave {p.wave}  {p.name}", [
            ("cluster", p.region.cluster.name), ("context", p.kube_context or "-"),
            ("values", ", ".join(p.values_files))])
            for p in plan], width, compact=False), markup=False, end="")
    console.print()
    for p in plan:
        console.print(f"# wave {p.wave}: {p.name}", style="bold")
        console.print(format_command(p.command()), markup=False)
        if p.anyscale is not None:  # after the region's release: docs/anyscale.md says why
            console.print(f"# then the Anyscale operator {p.anyscale.release} (chart {p.anyscale.version})",
                          style="bold")
            console.print(format_command(p.anyscale.command()), markup=False)
    text = buffer.getvalue()
    if capacity is not None:
        text += "\n" + format_capacity_table(capacity, color=color, width=width)
    return text
