"""The results: a markdown report, the scaling plot and a JSON dump, from a set of measurements."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rayfleet.parallel import POOL_MIN_REGIONS

from .corpus import Detection
from .measure import Measurement, median
from .schema_cost import SchemaCost

VALIDATE, VALIDATE_1, RENDER, SCAN, CHECKOV, KUBE_VALIDATE = (
    "rayfleet validate", "rayfleet validate --jobs 1", "render only", "rayfleet scan", "checkov",
    "kubernetes-validate")
TOOLS = (VALIDATE, VALIDATE_1, RENDER, SCAN, CHECKOV, KUBE_VALIDATE)
# Start-up rows (regions = 0): not fleet sizes, kept out of the scaling table and plot.
VERSION, HELP = "rayfleet --version", "rayfleet --help"
STARTUP = (VERSION, HELP)
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
    identical: dict[int, bool] = field(default_factory=dict)  # regions -> pooled report == in-process report
    warmup: int = 1  # warm-up runs dropped before each measurement
    load: str = ""  # the machine's load average (1, 5, 15 min) before and after the run

    def find(self, tool: str, regions: int) -> Measurement | None:
        return next((m for m in self.measurements if m.tool == tool and m.regions == regions), None)

    def sizes(self) -> list[int]:
        return sorted({m.regions for m in self.measurements if m.regions})

    def wall(self, tool: str, regions: int) -> float | None:
        m = self.find(tool, regions)
        return m.wall_median if m else None

    def cpu(self, tool: str, regions: int) -> float | None:
        m = self.find(tool, regions)
        return median(m.cpu) if m and m.cpu else None

    def single(self, regions: int) -> float | None:
        """validate in one process: ``--jobs 1`` where measured, else the default (in-process below
        rayfleet's pool threshold)."""
        return self.wall(VALIDATE_1, regions) or self.wall(VALIDATE, regions)



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
    for m in sorted((m for m in measurements if m.regions), key=lambda m: (m.regions, order.get(m.tool, 99))):
        wall = m.wall_median
        rows.append([m.tool + (f" ({m.note})" if m.note else ""), str(m.regions), str(m.objects), str(len(m.wall)),
                     _f(wall), f"{min(m.wall):.2f}-{max(m.wall):.2f}", _f(median(m.cpu)), _f(median(m.rss_mb), 0),
                     _f(wall / m.regions * 1000, 1)])
    return _table(TABLE_COLUMNS, rows)


def stage_table(measurements: list[Measurement]) -> str:
    """rayfleet validate's own split (--profile, median per stage) and what lies outside it."""
    rows = []
    validate = [m for m in measurements if m.tool in (VALIDATE, VALIDATE_1) and m.stage_runs]
    for m in sorted(validate, key=lambda m: (m.regions, m.tool)):
        stages = m.stages
        inside = sum(stages.values())
        rows.append([m.tool, str(m.regions), _f(m.wall_median)] + [_f(stages.get(s), 3) for s in STAGES]
                    + [_f(m.wall_median - inside, 3) if m.tool == VALIDATE_1 or m.regions < POOL_MIN_REGIONS else "-"])
    header = ["Run", "Regions", "Wall (s)", *(f"{s} (s)" for s in STAGES), "outside stages (s)"]
    return _table(header, rows)


@dataclass
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _marginal(results: Results, wall: Callable[[int], float | None]) -> tuple[float, int, int] | None:
    """Seconds per added region between the two largest sizes (≤ 300) where ``wall`` was measured."""
    sizes = [n for n in results.sizes() if n <= 300 and wall(n) is not None]
    if len(sizes) < 2:
        return None
    low, high = sizes[-2], sizes[-1]
    return (wall(high) - wall(low)) / (high - low), low, high  # type: ignore[operator]


def evaluate_targets(results: Results) -> list[Target]:
    """The issue's targets against the measurements (None where a size or tool did not run).
    Ratios, not absolute times, except start-up and the 1,000-region budget, which the issue
    states for this machine class."""
    targets = []
    for regions, limit in ((30, 0.2), (300, 0.1)):
        ratio = _ratio(results.wall(VALIDATE, regions), results.wall(CHECKOV, regions))
        targets.append(Target(f"{regions} regions: rayfleet validate ≤ {limit} x checkov's wall time",
                              f"{_f(ratio)} x ({_f(results.wall(VALIDATE, regions))} s vs "
                              f"{_f(results.wall(CHECKOV, regions))} s)" if ratio else "not measured",
                              None if ratio is None else ratio <= limit))
    mine = _marginal(results, results.single)
    floor = _marginal(results, lambda n: results.wall(RENDER, n))
    mine_cpu = _marginal(results, lambda n: results.cpu(VALIDATE_1, n) or results.cpu(VALIDATE, n))
    floor_cpu = _marginal(results, lambda n: results.cpu(RENDER, n))
    if mine and floor and floor[1:] == mine[1:]:
        ratio = mine[0] / floor[0]
        cpu = (f"; CPU time {mine_cpu[0] / floor_cpu[0]:.2f} x ({mine_cpu[0] * 1000:.1f} vs "
               f"{floor_cpu[0] * 1000:.1f} ms)" if mine_cpu and floor_cpu and floor_cpu[1:] == mine_cpu[1:] else "")
        targets.append(Target("per-region cost (one process) ≤ 1.5 x the Helm render floor",
                              f"{ratio:.2f} x wall ({mine[0] * 1000:.1f} vs {floor[0] * 1000:.1f} ms per region, "
                              f"{mine[1]}→{mine[2]} regions){cpu}", ratio <= 1.5))
    else:
        targets.append(Target("per-region cost (one process) ≤ 1.5 x the Helm render floor", "not measured", None))
    # The issue states 300 regions; a shorter run compares at its largest size with both rows.
    both = [n for n in results.sizes() if results.wall(VALIDATE, n) and results.wall(VALIDATE_1, n)]
    size = 300 if 300 in both else max(both, default=300)
    pooled, single = results.wall(VALIDATE, size), results.wall(VALIDATE_1, size)
    ratio = _ratio(pooled, single)
    same = results.identical.get(size)
    targets.append(Target(f"{size} regions on {results.machine.get('cores', '?')} cores ≤ 0.6 x one process, "
                          "report identical", f"{_f(ratio)} x ({_f(pooled)} s vs {_f(single)} s), report "
                          + ("identical" if same else "DIFFERENT" if same is False else "not compared")
                          if ratio else "not measured",
                          None if ratio is None else ratio <= 0.6 and same is True))
    for tool in STARTUP:
        wall = results.wall(tool, 0)
        targets.append(Target(f"`{tool}` ≤ 0.25 s", f"{_f(wall)} s", None if wall is None else wall <= 0.25))
    wall3 = results.wall(VALIDATE, 3)
    targets.append(Target("3 regions: validate ≤ 0.5 s", f"{_f(wall3)} s", None if wall3 is None else wall3 <= 0.5))
    wall1k = results.wall(VALIDATE, 1000)
    m1k = results.find(VALIDATE_1, 1000) or results.find(VALIDATE, 1000)
    rss1k = median(m1k.rss_mb) if m1k else None
    targets.append(Target("1,000 regions ≤ 15 s and ≤ 300 MB peak RSS (one process)",
                          f"{_f(wall1k)} s, {_f(rss1k, 0)} MB" if wall1k else "not measured",
                          None if wall1k is None or rss1k is None else wall1k <= 15 and rss1k <= 300))
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


def startup_table(measurements: list[Measurement]) -> str:
    rows = [[m.tool, str(len(m.wall)), _f(m.wall_median, 3), f"{min(m.wall):.3f}-{max(m.wall):.3f}",
             _f(median(m.rss_mb), 0)] for m in measurements if m.tool in STARTUP]
    return _table(["Command", "Runs", "Wall median (s)", "Wall min-max (s)", "Peak RSS median (MB)"], rows)


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
             f"Runs per measurement: {results.runs} after {results.warmup} warm-up run(s) (dropped). "
             f"CRD checks: {'ran, with --crds ' + results.crds if results.crds else 'did not run (no CRD folder)'}. "
             f"Load average (1, 5, 15 min): {results.load or 'not recorded'}.",
             "", "## Targets", "", targets_table(evaluate_targets(results)), "",
             "## Wall time, CPU and memory", "", results_table(results.measurements), "",
             "## Where rayfleet validate's time goes", "",
             "Median seconds per stage from `rayfleet validate --profile` (summed over regions); "
             "'outside stages' is process start, imports, argument parsing and writing the report.", "",
             stage_table(results.measurements), "",
             "## Start-up", "", startup_table(results.measurements), ""]
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
        points = sorted((m for m in measurements if m.tool == tool and m.regions), key=lambda m: m.regions)
        if not points:
            continue
        xs = [m.regions for m in points]
        ys = [m.wall_median for m in points]
        err = [[y - min(m.wall) for y, m in zip(ys, points, strict=True)],
               [max(m.wall) - y for y, m in zip(ys, points, strict=True)]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=tool)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sorted({m.regions for m in measurements if m.regions}))
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

