"""The rollout plan: per region its wave, its values stack in Helm's order, and its helm command."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.table import Table

from .capacity import CapacityTable, capacity_table
from .fleet import Fleet
from .pipeline import format_command, helm_command, render_fleet
from .policies import FleetView
from .report.capacity import capacity_table_text
from .report.layout import natural_width, records, terminal_width


@dataclass(frozen=True)
class RegionPlan:
    region: str
    location: str
    wave: int
    cluster: str
    kube_context: str | None
    release: str
    namespace: str
    values: list[str]
    command: str
    failover_peers: list[str]


def build_plan(fleet: Fleet, regions: Sequence[str] | None = None) -> list[RegionPlan]:
    """The plan for the selected regions, ordered by wave then fleet order."""
    plans = [
        RegionPlan(
            region=r.name, location=r.location, wave=r.wave, cluster=r.cluster.name,
            kube_context=r.cluster.kube_context, release=r.release_name, namespace=r.namespace,
            values=[fleet.relative(p) for p in fleet.values_stack_paths(r)],
            command=format_command(helm_command(fleet, r)), failover_peers=list(r.failover_peers),
        )
        for r in fleet.select(regions)
    ]
    return sorted(plans, key=lambda p: p.wave)


def fleet_capacity(fleet: Fleet, regions: Sequence[str] | None = None) -> CapacityTable:
    """The GPU capacity table of the selected regions (they are rendered to know their demand)."""
    renders = render_fleet(fleet, regions)
    return capacity_table(FleetView(fleet, {n: r.release for n, r in renders.items() if r.rendered}))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def plan_as_json(plan: Sequence[RegionPlan], capacity: CapacityTable | None = None) -> str:
    """The plan as JSON, every key camelCase like the capacity table and the reports."""
    document: dict = {"regions": [{_camel(k): v for k, v in asdict(p).items()} for p in plan]}
    if capacity is not None:
        document["capacity"] = capacity.to_dict()
    return json.dumps(document, indent=2) + "\n"


def plan_as_text(plan: Sequence[RegionPlan], capacity: CapacityTable | None = None, *, color: bool = False,
                 width: int | None = None) -> str:
    """The plan for a terminal: a table (stacked records when it does not fit ``width``), then each
    region's helm command on one line of its own (never wrapped: it is copied into a shell)."""
    width = width or terminal_width()
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, soft_wrap=True)
    table = Table(title="rollout plan", box=None, show_edge=False, pad_edge=False, title_justify="left")
    for column in ("wave", "region", "cluster", "context", "values (in order)"):
        table.add_column(column, no_wrap=True)
    for p in plan:
        table.add_row(str(p.wave), p.region, p.cluster, p.kube_context or "-", "\n".join(p.values))
    if natural_width(table) <= width:
        console.print(table)
    else:
        console.print("rollout plan", markup=False)
        console.print(records([(f"wave {p.wave}  {p.region}", [
            ("cluster", p.cluster), ("context", p.kube_context or "-"), ("values", ", ".join(p.values))])
            for p in plan], width, compact=False), markup=False, end="")
    console.print()
    for p in plan:
        console.print(f"# wave {p.wave}: {p.region}", style="bold")
        console.print(p.command, markup=False)
    text = buffer.getvalue()
    if capacity is not None:
        text += "\n" + capacity_table_text(capacity, color=color, width=width)
    return text
