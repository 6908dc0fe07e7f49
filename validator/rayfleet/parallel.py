"""Checking regions in parallel: a pool of processes, one per core, for the per-region work of
``validate`` (render, object schemas, release policies).

Each worker gets the fleet, the engine and the policies once, renders and checks a chunk of
regions, and sends back plain data: the objects, the values stack, the findings. The parent merges
the chunks in region order and rebuilds each ``ReleaseObjects`` around its own fleet, so the
result (findings, their order, the report bytes) is the one a single process gives; fleet
policies run after, in the parent.

Workers are started with ``spawn``, never ``fork``: Helm's engine is a Go runtime inside the
process, and a forked copy of a Go runtime has lost its threads. A spawned worker pays Python's
start-up and rayfleet's imports (about half a second), so small fleets are checked in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .anyscale import AnyscaleRelease
    from .findings import Finding
    from .fleet import Fleet
    from .manifests import KubeObject
    from .policies import Policy
    from .render import Engine
    from .result import RegionSummary
    from .subjects import ReleaseObjects
    from .values import ValuesStack

# Below this many regions ``jobs=None`` (auto) checks in-process: starting the workers costs more
# than they save (measured in benchmarks/: the pool breaks even at about 25 regions on 2 cores).
POOL_MIN_REGIONS = 40
# Chunks per worker: small enough that the last chunk leaves the other worker idle briefly (a
# region costs tens of milliseconds), large enough that sending a chunk's results back in one
# piece keeps the pickling overhead low (shared values files are pickled once per chunk).
CHUNKS_PER_WORKER = 12


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def pool_size(jobs: int | None, regions: int) -> int:
    """Processes to check ``regions`` regions with; 1 means in-process, no pool.

    ``jobs=None`` is automatic: one per core, in-process below ``POOL_MIN_REGIONS``. An explicit
    ``jobs`` is honoured (never more processes than regions)."""
    if jobs is None:
        if regions < POOL_MIN_REGIONS:
            return 1
        jobs = available_cores()
    return max(1, min(jobs, regions))


def picklable(*items: object) -> bool:
    """Whether ``items`` can be sent to a worker (an engine or policy defined in a test or a
    notebook may not be; those runs stay in-process)."""
    try:
        pickle.dumps(items)
    except Exception:  # pickling raises whatever the object's reducer raises
        return False
    return True


@dataclass
class RegionOutcome:
    """One region's share of a validate run, as plain data a worker can send back."""

    name: str
    objects: tuple[KubeObject, ...]
    values: ValuesStack | None
    anyscale: AnyscaleRelease | None
    rendered: bool
    findings: list[Finding]  # render, object schema and release policy findings, in that order
    summary: RegionSummary
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (worker runs only)
    release: ReleaseObjects | None = None  # in-process only: a worker leaves it out (it holds the fleet)


# (fleet, engine, policies, CRD folder) -> (the per-region check, the Timings it adds to)
MakeChecker = Callable[..., tuple[Callable[[Any], "RegionOutcome"], Any]]

# A worker's state, set once by ``_start_worker``.
_worker: dict[str, Any] = {}


def _start_worker(make_checker: MakeChecker, fleet: Fleet, engine: Engine | None, chosen: tuple[Policy, ...],
                  crds: Any) -> None:
    _worker["fleet"] = fleet
    try:
        _worker["check"], _worker["timings"] = make_checker(fleet, engine, chosen, crds)
    except Exception as exc:  # raised with the first chunk: a failing initializer would be restarted forever
        _worker["error"] = exc


def _check_chunk(names: Sequence[str]) -> list[RegionOutcome]:
    if "error" in _worker:
        raise _worker["error"]
    fleet: Fleet = _worker["fleet"]
    timings = _worker["timings"]
    by_name = {r.name: r for r in fleet.regions}
    out = []
    for name in names:
        timings.stages.clear()
        outcome = _worker["check"](by_name[name])
        outcome.stages = dict(timings.stages)
        outcome.release = None
        out.append(outcome)
    return out


def chunks(names: Sequence[str], processes: int) -> list[list[str]]:
    """Consecutive chunks of region names, about ``CHUNKS_PER_WORKER`` per process."""
    size = max(1, -(-len(names) // (processes * CHUNKS_PER_WORKER)))
    return [list(names[i:i + size]) for i in range(0, len(names), size)]


def check_in_pool(make_checker: MakeChecker, fleet: Fleet, names: Sequence[str], processes: int,
                  engine: Engine | None, chosen: tuple[Policy, ...], crds: Any) -> Iterator[RegionOutcome]:
    """Every region's outcome, in the order of ``names``, checked by ``processes`` workers; each
    worker builds its checker once with ``make_checker`` (``pipeline.region_checker``, a
    module-level function, so it is sent by name)."""
    context = multiprocessing.get_context("spawn")
    initargs = (make_checker, fleet, engine, chosen, crds)
    with context.Pool(processes, initializer=_start_worker, initargs=initargs) as pool:
        for outcomes in pool.imap(_check_chunk, chunks(names, processes)):
            yield from outcomes
