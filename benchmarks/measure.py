"""Timing: commands as subprocesses (wall, CPU, peak RSS of that one child) and in-process loops.

A child's CPU time and peak RSS come from ``os.wait4`` on that child, so they are its own (and its
reaped children's, e.g. checkov's forked workers), not the maximum over every child so far as
``getrusage(RUSAGE_CHILDREN)`` would give.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    returncode: int
    stderr: str = ""


@dataclass
class Measurement:
    """Several runs of one tool on one fleet size (after the warm-up runs, which are dropped)."""

    tool: str
    regions: int
    objects: int
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    stage_runs: list[dict[str, float]] = field(default_factory=list)  # seconds per stage, per run (--profile)
    inner: list[float] = field(default_factory=list)  # seconds measured inside the process (render only)
    returncodes: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def stages(self) -> dict[str, float]:
        """Median seconds per stage over the runs."""
        names = {name for run in self.stage_runs for name in run}
        return {name: statistics.median([run.get(name, 0.0) for run in self.stage_runs]) for name in sorted(names)}

    def add(self, run: Run) -> None:
        self.wall.append(run.wall)
        self.cpu.append(run.cpu)
        self.rss_mb.append(run.rss_mb)
        self.returncodes.append(run.returncode)


def same_report(a: Path, b: Path) -> bool:
    """Whether two ``--report json`` files are the same report (timings aside)."""
    import json

    def load(path: Path) -> object:
        return json.loads(re.sub(r'"(durationSeconds|seconds|time)": [0-9.e-]+', r'"\1": 0', path.read_text()))

    return load(a) == load(b)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def run_command(command: Sequence[str], *, stdout: Path | None = None, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Run:
    """Run one command to completion; stdout to a file (or nowhere), stderr kept."""
    stderr_file = (stdout.with_suffix(".stderr") if stdout else Path(os.devnull))
    out_target = stdout or Path(os.devnull)
    with open(out_target, "wb") as out, open(stderr_file, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen
    stderr = Path(stderr_file).read_text(errors="replace") if stdout else ""
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, stderr)


def repeat_command(tool: str, regions: int, objects: int, command: Sequence[str], *, runs: int, warmup: int = 1,
                   stdout: Path | None = None, cwd: Path | None = None, ok: Callable[[Run], bool] | None = None,
                   after: Callable[[Run, Measurement], None] | None = None) -> Measurement:
    """``warmup`` + ``runs`` runs; only the last ``runs`` are kept. ``ok`` rejects a broken run
    (wrong exit code) with its stderr; ``after`` may read more from each kept run."""
    measurement = Measurement(tool, regions, objects)
    for i in range(warmup + runs):
        run = run_command(command, stdout=stdout, cwd=cwd)
        if ok is not None and not ok(run):
            raise RuntimeError(f"{tool} failed (exit {run.returncode}): {' '.join(command)}\n{run.stderr[-2000:]}")
        if i >= warmup:
            measurement.add(run)
            if after is not None:
                after(run, measurement)
    return measurement


_PROFILE_LINE = re.compile(r"^\s+(\w+)\s+([0-9.]+) ms\s+[0-9.]+%$", re.MULTILINE)


def profile_stages(stderr: str) -> dict[str, float]:
    """Seconds per stage from ``rayfleet ... --profile`` (stderr), without the total line."""
    return {name: float(ms) / 1000 for name, ms in _PROFILE_LINE.findall(stderr) if name != "total"}


def collect_stages(run: Run, measurement: Measurement) -> None:
    """``after`` hook for ``rayfleet ... --profile``: keep each run's stage split."""
    measurement.stage_runs.append(profile_stages(run.stderr))


def collect_inner(run: Run, measurement: Measurement) -> None:
    """``after`` hook for ``benchmarks.render_only``: the seconds it printed on stderr."""
    match = re.search(r"render_fleet seconds: ([0-9.]+)", run.stderr)
    if match:
        measurement.inner.append(float(match.group(1)))


def time_loop(func: Callable[[], object], *, runs: int, warmup: int = 1) -> list[float]:
    """In-process: seconds per call of ``func``, after ``warmup`` calls."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times
