"""A CI-sized benchmark: keeps validate's per-region cost near Helm's render floor.

Ratios of CPU time measured in the same process, best of N, never absolute seconds: a slow or busy
CI machine slows both sides alike (CPU time, not wall time, so other processes on a shared machine
do not count). The full measurement (checkov, 300 and 1,000 regions, the
process pool, start-up) is ``python -m benchmarks``; see docs/benchmarks.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import render_fleet, validate_fleet

from benchmarks.generate import generate_fleet

SMALL, LARGE = 2, 8
CRDS = Path(__file__).resolve().parents[2].parent / "shared" / "crds" / "kuberay"
# The target is 1.5x; twice that absorbs CI noise while still catching a stage that
# starts costing as much as rendering itself (a second parse, an uncached schema compile).
MAX_VALIDATE_OVER_RENDER = 3.0


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("speed")
    return {n: generate_fleet(root / str(n), n) for n in (SMALL, LARGE)}


def _best(func: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def test_per_region_cost_stays_near_the_render_floor(fleets):
    def validate(n: int) -> Callable[[], object]:
        return lambda: validate_fleet(load_fleet(fleets[n]), crds=CRDS, jobs=1)

    def render(n: int) -> Callable[[], object]:
        return lambda: render_fleet(load_fleet(fleets[n]))

    for n in fleets:  # warm: schemas compiled, CRDs parsed, charts read once
        validate(n)()
    cost = {}
    for name, make in (("validate", validate), ("render", render)):
        cost[name] = (_best(make(LARGE)) - _best(make(SMALL))) / (LARGE - SMALL)
    assert cost["render"] > 0
    ratio = cost["validate"] / cost["render"]
    assert ratio <= MAX_VALIDATE_OVER_RENDER, (
        f"validate costs {ratio:.2f}x Helm's render per region ({cost['validate'] * 1000:.1f} ms vs "
        f"{cost['render'] * 1000:.1f} ms): profile with `rayfleet validate --profile`")
