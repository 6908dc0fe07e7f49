"""The rollout plan as text (a rich table, then each region's helm command) and as JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ..capacity.table import CapacityTable
from ..plan import RegionPlan, format_command
from .capacity import capacity_table_text, capacity_to_dict


def region_plan_to_dict(plan: RegionPlan) -> dict[str, Any]:
    region = plan.region
    return {"region": region.name, "location": region.location, "wave": plan.wave, "cluster": region.cluster.name,
            "kube_context": plan.kube_context, "release": plan.release, "namespace": plan.namespace,
            "values": list(plan.values_files), "command": format_command(plan.install_command),
            "failover_peers": list(region.failover_peers)}


def plan_as_json(plan: Sequence[RegionPlan], capacity: CapacityTable | None = None) -> str:
    document: dict[str, Any] = {"regions": [region_plan_to_dict(p) for p in plan]}
    if capacity is not None:
        document["capacity"] = capacity_to_dict(capacity)
    return json.dumps(document, indent=2) + "\n"


def plan_as_text(plan: Sequence[RegionPlan], capacity: CapacityTable | None = None, *, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=160, soft_wrap=True)
    table = Table(title="rollout plan", box=None, show_edge=False, pad_edge=False)
    for column in ("wave", "region", "cluster", "context", "values (in order)"):
        table.add_column(column)
    for p in plan:
        table.add_row(str(p.wave), p.name, p.region.cluster.name, p.kube_context or "-", "\n".join(p.values_files))
    console.print(table)
    console.print()
    for p in plan:
        console.print(f"# wave {p.wave}: {p.name}", style="bold")
        console.print(format_command(p.install_command), markup=False)
    text = buffer.getvalue()
    if capacity is not None:
        text += "\n" + capacity_table_text(capacity, color=color)
    return text
