"""The results: a markdown report, the scaling plot and a JSON dump, from a set of measurements."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .corpus import Detection
from .measure import Measurement, median
from .schema_cost import SchemaCost

VALIDATE, RENDER, SCAN, CHECKOV, KUBE_VALIDATE = (
    "rayfleet validate", "render only", "rayfleet scan", "checkov", "kubernetes-validate")
TOOLS = (VALIDATE, RENDER, SCAN, CHECKOV, KUBE_VALIDATE)
STAGES = ("load", "merge", "render", "schemas", "policies")
TABLE_COLUMNS = ("Tool", "Regions", "Objects", "Runs", "Wall median (s)", "Wall min-max (s)", "CPU median (s)",
                 "Peak RSS median (MB)", "Wall per region (ms)")


@dataclass
class Results:
    machine: dict[str, str]
    versions: dict[str, str]
    runs: int
    measurements: list[Measurement] = field(default_factory=list)
    schema_cost: SchemaCost | None = None
    detection: list[Detection] = field(default_factory=list)
    detection_tools: list[str] = field(default_factory=list)
    crds: str | None = None  # the CRD folder passed to rayfleet (None: custom resources not checked)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)  # label -> top functions (text)

    def find(self, tool: str, regions: int) -> Measurement | None:
        return next((m for m in self.measurements if m.tool == tool and m.regions == regions), None)

    def sizes(self) -> list[int]:
        return sorted({m.regions for m in self.measurements})


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    lines = [_row(list(header)), _row(["---"] * len(header))]
    return "\n".join(lines + [_row(r) for r in rows])


def results_table(measurements: list[Measurement]) -> str:
    """One row per tool and size: wall (median, spread), CPU, peak RSS, wall per region."""
    order = {t: i for i, t in enumerate(TOOLS)}
    rows = []
    for m in sorted(measurements, key=lambda m: (m.regions, order.get(m.tool, 99))):
        wall = m.wall_median
        rows.append([m.tool + (f" ({m.note})" if m.note else ""), str(m.regions), str(m.objects), str(len(m.wall)),
                     _f(wall), f"{min(m.wall):.2f}-{max(m.wall):.2f}", _f(median(m.cpu)), _f(median(m.rss_mb), 0),
                     _f(wall / m.regions * 1000, 1)])
    return _table(TABLE_COLUMNS, rows)


def stage_table(measurements: list[Measurement]) -> str:
    """rayfleet validate's own split (--profile, median per stage) and what lies outside it."""
    rows = []
    for m in sorted((m for m in measurements if m.tool == VALIDATE and m.stage_runs), key=lambda m: m.regions):
        stages = m.stages
        inside = sum(stages.values())
        rows.append([str(m.regions), _f(m.wall_median)] + [_f(stages.get(s), 3) for s in STAGES]
                    + [_f(m.wall_median - inside, 3)])
    header = ["Regions", "Wall (s)", *(f"{s} (s)" for s in STAGES), "outside stages (s)"]
    return _table(header, rows)


@dataclass
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def evaluate_targets(results: Results) -> list[Target]:
    """The issue's targets against the measurements (None where a size or tool did not run)."""
    wall = {n: (m.wall_median if (m := results.find(VALIDATE, n)) else None) for n in (3, 30, 300)}
    rss300 = median(m.rss_mb) if (m := results.find(VALIDATE, 300)) else None
    targets = [Target("3 regions warm ≤ 1 s wall", f"{_f(wall[3])} s", None if wall[3] is None else wall[3] <= 1.0)]
    if wall[3] is not None and wall[30] is not None and wall[300] is not None:
        early = (wall[30] - wall[3]) / 27 * 1000
        late = (wall[300] - wall[30]) / 270 * 1000
        targets.append(Target("per-region cost flat from 30 to 300 (marginal cost 30→300 ≤ 1.25x 3→30)",
                              f"{early:.1f} ms/region (3→30), {late:.1f} ms/region (30→300)", late <= 1.25 * early))
    else:
        targets.append(Target("per-region cost flat from 30 to 300", "not measured", None))
    targets.append(Target("300 regions ≤ 10 s wall", f"{_f(wall[300])} s",
                          None if wall[300] is None else wall[300] <= 10))
    targets.append(Target("300 regions ≤ 500 MB peak RSS", f"{_f(rss300, 0)} MB",
                          None if rss300 is None else rss300 <= 500))
    checkov30 = results.find(CHECKOV, 30)
    speed = _ratio(checkov30.wall_median if checkov30 else None, wall[30])
    targets.append(Target("30 regions: rayfleet validate ≥ 10x faster than checkov",
                          f"{_f(speed, 1)}x" if speed else "not measured", None if speed is None else speed >= 10))
    if results.detection and CHECKOV in results.detection_tools:
        missed = [d.cls.id for d in results.detection
                  if d.cls.kind == "credential" and d.found.get(CHECKOV) and not d.found.get("rayfleet")]
        targets.append(Target("no credential class that checkov finds is missed by rayfleet",
                              "missed: " + (", ".join(missed) if missed else "none"), not missed))
    else:
        targets.append(Target("no credential class that checkov finds is missed by rayfleet", "not measured", None))
    cost = results.schema_cost
    targets.append(Target("object schema checks ≥ 20x faster per object than kubernetes_validate.validate",
                          f"{cost.speedup:.1f}x ({cost.rayfleet_us:.0f} µs vs {cost.kubernetes_validate_us:.0f} µs)"
                          if cost else "not measured", None if cost is None else cost.speedup >= 20))
    return targets


def targets_table(targets: list[Target]) -> str:
    mark = {True: "met", False: "**missed**", None: "not measured"}
    return _table(["Target", "Measured", "Result"], [[t.name, t.measured, mark[t.met]] for t in targets])


def detection_table(detection: list[Detection], tools: list[str]) -> str:
    rows = []
    for d in detection:
        cells = [f"`{d.cls.id}`", d.cls.kind, d.cls.description]
        for tool in tools:
            cells.append(("found" if d.found.get(tool) else "**missed**")
                         + (f" ({', '.join(d.evidence[tool])})" if d.evidence.get(tool) else ""))
        rows.append(cells)
    totals = ["**total found**", "", ""] + [f"{sum(d.found.get(t, False) for d in detection)}/{len(detection)}"
                                            for t in tools]
    return _table(["Class", "Kind", "Planted", *tools], [*rows, totals])


def schema_table(cost: SchemaCost) -> str:
    rows = [["rayfleet `ObjectSchemas.check` (compiled once)", str(cost.objects), _f(cost.rayfleet_us, 0), "1.0x"],
            ["rayfleet, first pass in the process (reads and compiles)", str(cost.objects),
             _f(cost.rayfleet_cold_us, 0), f"{cost.rayfleet_cold_us / cost.rayfleet_us:.1f}x"],
            ["`kubernetes_validate.validate(obj, \"1.33\", strict=True)`", str(cost.objects),
             _f(cost.kubernetes_validate_us, 0), f"{cost.speedup:.1f}x"]]
    if cost.rayfleet_custom_us is not None:
        rows.append(["rayfleet, RayCluster against its CRD (kubernetes-validate cannot)", str(cost.custom_objects),
                     _f(cost.rayfleet_custom_us, 0), "-"])
    return _table(["Checker", "Objects", "µs per object (median)", "vs rayfleet"], rows)


def render_markdown(results: Results) -> str:
    parts = ["# rayfleet benchmarks: results", "",
             "Generated by `python -m benchmarks` (see docs/benchmarks.md for what each row measures).", "",
             "## Machine and versions", "",
             _table(["", ""], [[k, v] for k, v in {**results.machine, **results.versions}.items()]), "",
             f"Runs per measurement: {results.runs} after one warm-up run (dropped). "
             f"CRD checks: {'ran, with --crds ' + results.crds if results.crds else 'did not run (no CRD folder)'}.",
             "", "## Targets", "", targets_table(evaluate_targets(results)), "",
             "## Wall time, CPU and memory", "", results_table(results.measurements), "",
             "## Where rayfleet validate's time goes", "",
             "Median seconds per stage from `rayfleet validate --profile` (summed over regions); "
             "'outside stages' is process start, imports, argument parsing and writing the report.", "",
             stage_table(results.measurements), ""]
    if results.schema_cost:
        parts += ["## Object schema checks, per object", "", schema_table(results.schema_cost), ""]
    if results.detection:
        parts += ["## Detection: planted credentials and misconfigurations", "",
                  "Found = a failed check on the planted file that the clean control file does not have "
                  "(the check IDs are shown).", "", detection_table(results.detection, results.detection_tools), ""]
    for label, text in results.profiles.items():
        parts += [f"## Profile: {label}", "", "```", text.rstrip(), "```", ""]
    if results.notes:
        parts += ["## Notes", "", *(f"- {n}" for n in results.notes), ""]
    return "\n".join(parts)


def plot_scaling(measurements: list[Measurement], path: Path) -> bool:
    """Wall time (median, with min-max bars) against regions, log-log, one line per tool."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import LogLocator, ScalarFormatter
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for tool in TOOLS:
        points = sorted((m for m in measurements if m.tool == tool), key=lambda m: m.regions)
        if not points:
            continue
        xs = [m.regions for m in points]
        ys = [m.wall_median for m in points]
        err = [[y - min(m.wall) for y, m in zip(ys, points, strict=True)],
               [max(m.wall) - y for y, m in zip(ys, points, strict=True)]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=tool)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sorted({m.regions for m in measurements}))
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("regions")
    ax.set_ylabel("wall time, median (s)")
    ax.set_title("Validation wall time vs fleet size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def to_json(results: Results) -> str:
    data = asdict(results)
    for m, raw in zip(results.measurements, data["measurements"], strict=True):
        raw["stages_median"] = m.stages
        raw["wall_median"] = m.wall_median
    for d, raw in zip(results.detection, data["detection"], strict=True):
        raw["cls"] = {"id": d.cls.id, "kind": d.cls.kind, "description": d.cls.description}
    if results.schema_cost:
        data["schema_cost"]["speedup"] = results.schema_cost.speedup
    data["targets"] = [asdict(t) for t in evaluate_targets(results)]
    return json.dumps(data, indent=2, default=str) + "\n"


def write_results(results: Results, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.md", out / "results.json"]
    written[0].write_text(render_markdown(results), encoding="utf-8")
    written[1].write_text(to_json(results), encoding="utf-8")
    if plot_scaling(results.measurements, out / "scaling.png"):
        written.append(out / "scaling.png")
    return written

