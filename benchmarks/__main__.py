"""``python -m benchmarks``: rayfleet's validation speed, scaling, memory and detection, side by
side with checkov and kubernetes-validate. See docs/benchmarks.md.

    python -m benchmarks                       # sizes 3,30,300,1000, 3 runs each, checkov from PATH
    python -m benchmarks --checkov /tmp/bench-venv/bin/checkov
    python -m benchmarks --quick               # sizes 3,30, 1 run: a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import sys
import sysconfig
import tempfile
from io import StringIO
from pathlib import Path

from rayfleet.parallel import POOL_MIN_REGIONS

from . import corpus, environment
from .generate import REPO, generate_fleet, write_rendered
from .measure import Measurement, Run, collect_inner, collect_stages, repeat_command, run_command, same_report
from .report import (
    CHECKOV,
    HELP,
    KUBE_VALIDATE,
    RENDER,
    SCAN,
    VALIDATE,
    VALIDATE_1,
    VERSION,
    Results,
    write_results,
)
from .schema_cost import KUBE_VERSION, measure_schema_cost

SHARED_CRDS = REPO.parent / "shared" / "crds" / "kuberay"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _beside_python(name: str) -> str | None:
    """A console script of this interpreter's environment, else from PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.is_file() else shutil.which(name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="3,30,300,1000", help="fleet sizes in regions (default: 3,30,300,1000)")
    parser.add_argument("--peers-max", type=int, default=300,
                        help="largest size checkov, kubernetes-validate, render only and scan run at (default: "
                             "300; checkov takes minutes and gigabytes beyond); larger sizes run validate alone")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per tool and size, after one warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per tool and size, dropped (default: 1)")
    parser.add_argument("--runs-large", type=int, default=None,
                        help="measured runs at 300 regions and more (default: --runs)")
    parser.add_argument("--peer-runs", type=int, default=None,
                        help="measured runs of checkov and kubernetes-validate (default: --runs)")
    parser.add_argument("--kv-max", type=int, default=None,
                        help="largest size kubernetes-validate runs at (default: --peers-max)")
    parser.add_argument("--quick", action="store_true", help="sizes 3,30 and 1 run: a smoke test")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="results folder")
    parser.add_argument("--checkov", metavar="PATH", default=None,
                        help="checkov executable (default: `checkov` on PATH); install it in its own venv")
    parser.add_argument("--skip-checkov", action="store_true", help="do not run checkov")
    parser.add_argument("--crds", type=Path, default=SHARED_CRDS if SHARED_CRDS.is_dir() else None,
                        help=f"KubeRay CRD folder for rayfleet's custom-resource checks (default: {SHARED_CRDS} "
                             "when it exists)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the generated fleets, manifests and raw outputs in this folder")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs = "3,30,60", 1
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    args.runs_large = args.runs if args.runs_large is None else args.runs_large
    args.peer_runs = args.runs if args.peer_runs is None else args.peer_runs
    args.kv_max = args.peers_max if args.kv_max is None else args.kv_max
    if not args.sizes or min(args.sizes) < 1 or args.runs < 1 or args.warmup < 0:
        parser.error("--sizes must be positive integers and --runs at least 1")
    return args


def find_checkov(args: argparse.Namespace) -> str | None:
    if args.skip_checkov:
        return None
    path = args.checkov or shutil.which("checkov")
    if path is None or (not Path(path).exists() and shutil.which(path) is None):
        log("checkov NOT FOUND: pass --checkov PATH or put it on PATH "
            "(python -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install checkov); "
            "running without checkov")
        return None
    return path


def _ok_0_or_1(run: Run) -> bool:
    return run.returncode in (0, 1)


def _checkov_command(checkov: str, folder: Path) -> list[str]:
    return [checkov, "-d", str(folder), "--framework", "kubernetes", "secrets", "--skip-download", "--quiet",
            "-o", "json"]


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.rayfleet = _beside_python("rayfleet")
        self.kube_validate = _beside_python("kubernetes-validate")
        self.checkov = find_checkov(args)
        if self.rayfleet is None:
            raise SystemExit("rayfleet is not installed in this environment (pip install -e .)")
        self.crd_args = ["--crds", str(args.crds)] if args.crds else []
        self.results = Results(environment.machine(), environment.versions(self.checkov), args.runs,
                               crds=str(args.crds) if args.crds else None)
        if self.checkov is None:
            self.results.notes.append("checkov was not run (" + ("--skip-checkov" if args.skip_checkov
                                                                 else "not found") + ").")
        if self.kube_validate is None:
            self.results.notes.append("kubernetes-validate's CLI was not found; its row is missing.")
        self.results.warmup = args.warmup
        self.rendered: dict[int, list[Path]] = {}
        self.objects_per_region = 0  # from the sizes whose manifests were written

    def _repeat(self, tool: str, size: int, objects: int, command: list[str], *, peer: bool = False,
                **kwargs) -> Measurement:
        runs = self.args.peer_runs if peer else self.args.runs_large if size >= 300 else self.args.runs
        # a single run of a slow peer gets no warm-up (checkov at 300 regions takes minutes)
        warmup = 0 if peer and runs == 1 else self.args.warmup
        log(f"{size} regions: {tool} ({runs} runs + {warmup} warm-up)")
        measurement = repeat_command(tool, size, objects, command, runs=runs, warmup=warmup, **kwargs)
        self.results.measurements.append(measurement)
        log(f"  median wall {measurement.wall_median:.2f} s")
        return measurement

    def size(self, size: int) -> None:
        folder = self.work / f"fleet-{size}"
        fleet = generate_fleet(folder, size)
        rendered = folder / "rendered"
        large = size > self.args.peers_max  # validate alone: time and memory (the 1,000-region target)
        if large:
            folders, objects, files = [], self.objects_per_region * size, []
        else:
            folders, objects = write_rendered(fleet, rendered)
            self.objects_per_region = objects // size
            self.rendered[size] = folders
            files = sorted(str(p) for f in folders for p in f.glob("*.yaml"))
        log(f"{size} regions: generated {fleet} and {objects} rendered objects")
        self._repeat(VALIDATE, size, objects,
                     [self.rayfleet, "validate", str(fleet), "--profile",
                      "--report", f"json={folder / 'validate.json'}", *self.crd_args],
                     stdout=folder / "validate.out", ok=_ok_0_or_1, after=collect_stages)
        if size >= POOL_MIN_REGIONS:  # the default runs a process pool here: measure one process too
            self._repeat(VALIDATE_1, size, objects,
                         [self.rayfleet, "validate", str(fleet), "--jobs", "1", "--profile",
                          "--report", f"json={folder / 'validate-1.json'}", *self.crd_args],
                         stdout=folder / "validate-1.out", ok=_ok_0_or_1, after=collect_stages)
            self.results.identical[size] = same_report(folder / "validate.json", folder / "validate-1.json")
            log(f"  pooled report identical to one process: {self.results.identical[size]}")
        if large:
            return
        self._repeat(RENDER, size, objects, [sys.executable, "-m", "benchmarks.render_only", str(fleet)],
                     stdout=folder / "render.out", ok=lambda r: r.returncode == 0, after=collect_inner,
                     cwd=REPO)
        self._repeat(SCAN, size, objects,
                     [self.rayfleet, "scan", str(rendered), "--fleet", str(fleet), "--kube-version", KUBE_VERSION,
                      "--profile", "--report", f"json={folder / 'scan.json'}", *self.crd_args],
                     stdout=folder / "scan.out", ok=_ok_0_or_1, after=collect_stages)
        if size > self.args.peers_max:
            return
        if self.checkov:
            self._repeat(CHECKOV, size, objects, _checkov_command(self.checkov, rendered),
                         stdout=folder / "checkov.json", ok=_ok_0_or_1, peer=True)
        if self.kube_validate and size <= self.args.kv_max:
            self._repeat(KUBE_VALIDATE, size, objects,
                         [self.kube_validate, "-k", KUBE_VERSION, "--strict", "--quiet", *files],
                         stdout=folder / "kubernetes-validate.out", peer=True).note = "schema only, no CRDs"

    def startup(self) -> None:
        for tool, flag in ((VERSION, "--version"), (HELP, "--help")):
            log(f"start-up: {tool}")
            m = repeat_command(tool, 0, 0, [self.rayfleet, flag], runs=max(5, self.args.runs),
                               ok=lambda r: r.returncode == 0)
            self.results.measurements.append(m)
            log(f"  median wall {m.wall_median:.3f} s")

    def schema_cost(self) -> None:
        size = 30 if 30 in self.rendered else max(self.rendered)
        log(f"per-object schema cost over the {size}-region fleet's objects")
        self.results.schema_cost = measure_schema_cost(self.rendered[size], self.args.crds,
                                                       runs=max(3, self.args.runs))

    def detection(self) -> None:
        log("detection corpus")
        base_region = self.rendered[min(self.rendered)][0]
        planted, control = corpus.write_corpus(self.work / "corpus", corpus.bases_from_rendered(base_region))
        per_tool = {}

        def rayfleet_scan(folder: Path) -> dict[str, set[str]]:
            out = self.work / "corpus" / f"rayfleet-{folder.name}.json"
            run = run_command([self.rayfleet, "scan", str(folder), "--kube-version", KUBE_VERSION,
                               "--report", f"json={out}", *self.crd_args], stdout=out.with_suffix(".out"))
            if not _ok_0_or_1(run):
                raise RuntimeError(f"rayfleet scan failed on the corpus: {run.stderr[-2000:]}")
            return corpus.rayfleet_failures(json.loads(out.read_text()))

        per_tool["rayfleet"] = (rayfleet_scan(planted), rayfleet_scan(control))
        if self.checkov:
            def checkov_scan(folder: Path) -> dict[str, set[str]]:
                out = self.work / "corpus" / f"checkov-{folder.name}.json"
                run = run_command(_checkov_command(self.checkov, folder), stdout=out)
                if not _ok_0_or_1(run):
                    raise RuntimeError(f"checkov failed on the corpus: {run.stderr[-2000:]}")
                return corpus.checkov_failures(json.loads(out.read_text()))

            per_tool[CHECKOV] = (checkov_scan(planted), checkov_scan(control))
        self.results.detection = corpus.score(per_tool)
        self.results.detection_tools = list(per_tool)

    def profile(self, size: int) -> None:
        log(f"cProfile of rayfleet validate, {size} regions")
        fleet = self.work / f"fleet-{size}" / "fleet.yaml"
        stats_file = self.work / f"validate-{size}.prof"
        run = run_command([sys.executable, "-m", "cProfile", "-o", str(stats_file), self.rayfleet, "validate",
                           str(fleet), "--report", f"json={self.work / 'profiled.json'}", *self.crd_args],
                          stdout=self.work / "profiled.out")
        if not _ok_0_or_1(run):
            self.results.notes.append(f"the cProfile run at {size} regions failed: {run.stderr[-300:]}")
            return
        text = StringIO()
        stats = pstats.Stats(str(stats_file), stream=text)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(25)
        lines = [ln for ln in text.getvalue().splitlines()
                 if ln.strip() and not ln.startswith(("Ordered by", "   List"))]
        full = self.args.out / f"profile-validate-{size}.txt"
        full.write_text(_shorten(text.getvalue()), encoding="utf-8")
        self.results.profiles[f"rayfleet validate, {size} regions (cProfile; full output in {full.name})"] = \
            "\n".join(_shorten(ln) for ln in lines[:60])


def _shorten(text: str) -> str:
    """Drop the site-packages and repository prefixes from profile lines."""
    return text.replace(sysconfig.get_paths()["purelib"] + "/", "").replace(str(REPO) + "/", "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="rayfleet-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        bench = Bench(args, work)
        log(f"work folder {work}; rayfleet {bench.rayfleet}; checkov {bench.checkov or 'missing'}; "
            f"CRDs {args.crds or 'none'}")
        before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        bench.startup()
        for size in args.sizes:
            bench.size(size)
        bench.schema_cost()
        bench.detection()
        if not args.no_profile:
            for size in sorted({min(args.sizes), max(n for n in args.sizes if n <= 300)}):
                bench.profile(size)
        after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        bench.results.load = f"{before} before, {after} after"
        for path in write_results(bench.results, args.out):
            log(f"wrote {path}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
