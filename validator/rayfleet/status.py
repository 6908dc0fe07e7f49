"""``rayfleet status``: one snapshot of every region, read in parallel.

Each region's cluster is read by ``rayfleet.kube.status`` in its own thread, under a per-region
timeout; a region that cannot be read (unreachable, expired or rejected credentials, forbidden,
too slow) is recorded as such and the others are still shown. Each answering region is then
judged here: ``healthy`` or ``degraded`` with the problems that make it so, and its Helm release
is compared with what ``plan`` would deploy now (chart version, digest of the folded values).

A snapshot is plain data (``FleetStatus.to_dict``, shaped by ``schemas/status.schema.json``); it
can be saved and rendered later without any cluster (``load_snapshot``).
"""

from __future__ import annotations

import json
import threading
import time
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import jsonschema
import yaml

from .capacity import lookup_vm_size, normalise_family, vm_catalogue
from .errors import InputError, LiveCheckError
from .fleet import Fleet, Region
from .kube.client import CONNECT_TIMEOUT, KubeApi
from .kube.status import ClusterSnapshot, HelmRelease, read_status, values_digest
from .resources import load_schema
from .text import one_line
from .values import fold_values, load_values_file
from .yamlio import read_text

SNAPSHOT_KIND = "FleetStatus"
SNAPSHOT_API_VERSION = "rayfleet.dev/v1"
DEFAULT_TIMEOUT = 20.0
MAX_PARALLEL = 16
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024

HEALTHY, DEGRADED = "healthy", "degraded"
UNREACHABLE, UNAUTHORIZED, FORBIDDEN, TIMEOUT, ERROR = "unreachable", "unauthorized", "forbidden", "timeout", "error"
STATES = (HEALTHY, DEGRADED, UNREACHABLE, UNAUTHORIZED, FORBIDDEN, TIMEOUT, ERROR)
ANSWERED = (HEALTHY, DEGRADED)


@dataclass(frozen=True)
class ExpectedRelease:
    """What ``plan`` would deploy to the region now."""

    chart: str
    chart_version: str
    values_digest: str | None  # None: the region ships pre-rendered manifests


@dataclass(frozen=True)
class FamilyQuota:
    family: str
    vcpus: int
    vm_size: str
    gpus: int  # whole VMs of vm_size that fit in vcpus, times its GPUs


@dataclass(frozen=True)
class GpuQuota:
    """The GPUs the region's declared vCPU quota allows, per GPU VM family."""

    gpus: int
    families: tuple[FamilyQuota, ...]


@dataclass(frozen=True)
class RegionStatus:
    name: str
    location: str
    cluster: str
    kube_context: str | None
    role: str | None  # "manager" / "worker" in a MultiKueue fleet
    state: str  # one of STATES
    seconds: float
    message: str = ""  # why the region could not be read
    problems: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()
    expected: ExpectedRelease | None = None
    gpu_quota: GpuQuota | None = None
    facts: ClusterSnapshot | None = None

    @property
    def answered(self) -> bool:
        return self.state in ANSWERED

    @property
    def gpus_allocatable(self) -> float:
        return sum(p.gpus_allocatable for p in self.facts.gpu_pools) if self.facts else 0.0

    @property
    def gpus_requested(self) -> float:
        return sum(p.gpus_requested for p in self.facts.gpu_pools) if self.facts else 0.0


@dataclass(frozen=True)
class FleetStatus:
    fleet: str
    taken_at: str  # ISO 8601, UTC
    seconds: float
    regions: tuple[RegionStatus, ...]

    @property
    def answered(self) -> int:
        return sum(r.answered for r in self.regions)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for region in self.regions:
            out[region.state] = out.get(region.state, 0) + 1
        return out

    def worker_region(self, cluster_name: str) -> str | None:
        """The region a MultiKueueCluster name stands for (its region, cluster or context name)."""
        for region in self.regions:
            if cluster_name in (region.name, region.cluster, region.kube_context):
                return region.name
        return None


# --- what plan would deploy --------------------------------------------------------------------

def expected_release(fleet: Fleet, region: Region) -> ExpectedRelease:
    """The chart version and values digest ``plan``'s helm command would deploy now. The values
    are the ``-f`` files folded as Helm does: what Helm stores as the release's ``config``."""
    chart_file = fleet.chart / "Chart.yaml"
    try:
        meta = yaml.safe_load(read_text(chart_file, label="Chart.yaml")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {one_line(exc)}", file=str(chart_file)) from None
    if not isinstance(meta, dict):
        raise InputError("Chart.yaml is not a mapping", file=str(chart_file))
    if region.manifests is not None:
        digest = None
    else:
        files = [load_values_file(p, display=fleet.relative(p)).data for p in fleet.values_stack_paths(region)]
        digest = values_digest(fold_values(files))
    return ExpectedRelease(str(meta.get("name", "")), str(meta.get("version", "")), digest)


def drift(release: HelmRelease | None, expected: ExpectedRelease | None) -> tuple[str, ...]:
    if release is None or expected is None:
        return ()
    out = []
    if (release.chart, release.chart_version) != (expected.chart, expected.chart_version):
        out.append(f"chart {release.chart} {release.chart_version} is deployed; plan would deploy "
                   f"{expected.chart} {expected.chart_version}")
    if expected.values_digest is not None and release.values_digest != expected.values_digest:
        out.append(f"values differ from plan's (deployed {release.values_digest[:19]}, "
                   f"plan {expected.values_digest[:19]})")
    return tuple(out)


# --- declared GPU quota --------------------------------------------------------------------------

def gpu_quota(fleet: Fleet, region: Region, facts: ClusterSnapshot | None = None) -> GpuQuota | None:
    """GPUs the region's declared family quotas allow. A family's VM size is the one its GPU
    nodes run (when read), else the catalogue's GPU size of that family with the most GPUs."""
    if region.quota is None:
        return None
    seen_sizes = [s.strip() for p in (facts.gpu_pools if facts else ()) for s in (p.vm_size or "").split(",")]
    families = []
    for family, vcpus in sorted(region.quota.families.items()):
        key = normalise_family(family)
        observed = [vm for vm in (lookup_vm_size(s, fleet) for s in seen_sizes if s)
                    if vm is not None and vm.gpus and vm.family_key == key]
        known = sorted((vm for vm in vm_catalogue().values() if vm.gpus and vm.family_key == key),
                       key=lambda vm: (-vm.gpus, vm.name))
        vm = (observed or known or [None])[0]
        if vm is None:
            continue
        families.append(FamilyQuota(family, vcpus, vm.name, (vcpus // vm.vcpus) * vm.gpus))
    if not families:
        return None
    return GpuQuota(sum(f.gpus for f in families), tuple(families))


# --- judging one region --------------------------------------------------------------------------

def _count(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


def problems(facts: ClusterSnapshot, *, release: str, namespace: str) -> tuple[str, ...]:
    """Why an answering region is not healthy (empty: it is)."""
    out: list[str] = [f"could not read {note}" for note in facts.notes]
    if facts.release is None and not any(n.startswith("Helm release") for n in facts.notes):
        out.append(f"no Helm release {release} in namespace {namespace}")
    elif facts.release is not None and facts.release.status != "deployed":
        why = f": {facts.release.description}" if facts.release.description else ""
        out.append(f"Helm release {facts.release.name} revision {facts.release.revision} is "
                   f"{facts.release.status}{why}")
    for rc in facts.rayclusters:
        if not rc.ready:
            out.append(f"RayCluster {rc.namespace}/{rc.name} is not ready"
                       + (f": {rc.reason}" if rc.reason else ""))
        for group in rc.groups:
            if group.ready < group.desired:
                out.append(f"RayCluster {rc.namespace}/{rc.name} worker group {group.name}: "
                           f"{group.ready}/{group.desired} ready")
    for pool in facts.gpu_pools:
        if pool.nodes_ready < pool.nodes_total:
            out.append(f"GPU node pool {pool.name}: {pool.nodes_ready}/{pool.nodes_total} nodes ready")
    if not facts.identity_webhook:
        out.append("the workload identity webhook is not installed")
    for claim in facts.volume_claims:
        if claim.phase != "Bound":
            out.append(f"PersistentVolumeClaim {claim.namespace}/{claim.name} is {claim.phase}")
    if facts.kueue is not None:
        for worker in facts.kueue.workers:
            if worker.active is not True:
                out.append(f"MultiKueue worker {worker.name} is not connected"
                           + (f": {worker.message}" if worker.message else ""))
    return tuple(out)


def _failure_state(exc: LiveCheckError) -> str:
    if exc.status == 401:
        return UNAUTHORIZED
    if exc.status == 403:
        return FORBIDDEN
    if exc.status is None and "cannot reach" in exc.cause:
        return UNREACHABLE
    return ERROR


# --- reading the fleet ---------------------------------------------------------------------------

class StatusObserver:
    """Called from the collecting thread as regions start and finish (for progress displays)."""

    def region_started(self, region: str) -> None:
        pass

    def region_finished(self, status: RegionStatus) -> None:
        pass


Reader = Callable[[Region, float], ClusterSnapshot]


def kube_reader(kubeconfig: str | Path | None = None) -> Reader:
    """Read a region through its kube context, every call bounded by the region's timeout."""
    def read(region: Region, timeout: float) -> ClusterSnapshot:
        api = KubeApi.connect(region, kubeconfig)
        api.request_timeout = (min(CONNECT_TIMEOUT, timeout), timeout)
        try:
            return read_status(api, release=region.release_name, namespace=region.namespace)
        finally:
            api.close()

    return read


def collect_status(fleet: Fleet, regions: Sequence[str] | None = None, *, kubeconfig: str | Path | None = None,
                   timeout: float = DEFAULT_TIMEOUT, observer: StatusObserver | None = None,
                   reader: Reader | None = None, clock: Callable[[], float] = time.monotonic) -> FleetStatus:
    """Read every selected region in parallel (at most ``MAX_PARALLEL`` at once), each within
    ``timeout`` seconds from when its read starts. Never raises for a region's cluster; raises
    ``InputError`` for a bad fleet, chart or values file."""
    observer = observer or StatusObserver()
    read = reader or kube_reader(kubeconfig)
    selected = fleet.select(list(regions) if regions else None)
    expected = {r.name: expected_release(fleet, r) for r in selected}
    taken_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    begin = clock()
    results: Queue[tuple[str, ClusterSnapshot | BaseException, float]] = Queue()
    slots = threading.BoundedSemaphore(MAX_PARALLEL)
    started: dict[str, float] = {}

    def work(region: Region) -> None:
        with slots:
            started[region.name] = clock()
            observer.region_started(region.name)
            try:
                outcome: ClusterSnapshot | BaseException = read(region, timeout)
            except Exception as exc:  # reported as the region's state, never raised
                outcome = exc
            results.put((region.name, outcome, clock() - started[region.name]))

    # Daemon threads: a region that hangs past its timeout must not keep the process alive.
    for region in selected:
        threading.Thread(target=work, args=(region,), name=f"status-{region.name}", daemon=True).start()
    done: dict[str, RegionStatus] = {}
    by_name = {r.name: r for r in selected}
    while len(done) < len(selected):
        try:
            name, outcome, seconds = results.get(timeout=0.05)
        except Empty:
            now = clock()
            for late in [n for n, t in started.items() if n not in done and now - t > timeout]:
                done[late] = _failed(fleet, by_name[late], TIMEOUT, f"no answer within {timeout:g}s",
                                     now - started[late])
                observer.region_finished(done[late])
            continue
        if name in done:  # it answered after being given up on
            continue
        done[name] = _judge(fleet, by_name[name], outcome, seconds, expected[name])
        observer.region_finished(done[name])
    statuses = [done[r.name] for r in selected]
    statuses = _with_roles(fleet, selected, statuses)
    return FleetStatus(fleet.relative(fleet.path), taken_at, round(clock() - begin, 3), tuple(statuses))


def _failed(fleet: Fleet, region: Region, state: str, message: str, seconds: float) -> RegionStatus:
    return RegionStatus(region.name, region.location, region.cluster.name, region.cluster.kube_context,
                        None, state, round(seconds, 3), message=message, gpu_quota=gpu_quota(fleet, region))


def _judge(fleet: Fleet, region: Region, outcome: ClusterSnapshot | BaseException, seconds: float,
           expected: ExpectedRelease) -> RegionStatus:
    if isinstance(outcome, LiveCheckError):
        return _failed(fleet, region, _failure_state(outcome), one_line(outcome.cause), seconds)
    if isinstance(outcome, BaseException):
        return _failed(fleet, region, ERROR, one_line(f"{type(outcome).__name__}: {outcome}")[:300], seconds)
    found = problems(outcome, release=region.release_name, namespace=region.namespace)
    return RegionStatus(region.name, region.location, region.cluster.name, region.cluster.kube_context,
                        None, DEGRADED if found else HEALTHY, round(seconds, 3), problems=found,
                        drift=drift(outcome.release, expected), expected=expected,
                        gpu_quota=gpu_quota(fleet, region, outcome), facts=outcome)


def _declared_role(fleet: Fleet, region: Region) -> str | None:
    """The fleet file's region role, where the fleet model has one and the fleet schedules jobs."""
    role = getattr(region, "role", None)
    return str(role) if role and getattr(fleet, "scheduling", None) is not None else None


def _with_roles(fleet: Fleet, selected: Sequence[Region], statuses: list[RegionStatus]) -> list[RegionStatus]:
    """Each region's MultiKueue role: as the fleet file declares it, else a cluster holding
    MultiKueueClusters is the manager and, in a fleet that has one, the other regions running
    Kueue are its workers."""
    declared = {r.name: _declared_role(fleet, r) for r in selected}
    multikueue = any(declared.values()) or any(s.facts and s.facts.kueue and s.facts.kueue.manager for s in statuses)
    out = []
    for status in statuses:
        role = declared.get(status.name)
        if role is None and status.facts is not None and status.facts.kueue is not None:
            role = "manager" if status.facts.kueue.manager else ("worker" if multikueue else None)
        out.append(status if role == status.role else replace(status, role=role))
    return out


# --- snapshots: JSON -> dataclasses (rayfleet.report.status_json writes them) ---------------------

def json_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _from_json(kind: Any, data: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return None if data is None else _from_json(options[0], data)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], item) for item in data)
        return tuple(_from_json(a, item) for a, item in zip(args, data, strict=True))
    if is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _from_json(hints[f.name], data[json_name(f.name)])
                       for f in fields(kind) if json_name(f.name) in data})
    if kind is float:
        return float(data)
    return data


def from_dict(document: dict[str, Any]) -> FleetStatus:
    body = {k: v for k, v in document.items() if k not in ("apiVersion", "kind", "$schema")}
    result: FleetStatus = _from_json(FleetStatus, body)
    return result


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def load_snapshot(path: str | Path) -> FleetStatus:
    """A saved snapshot, checked against ``schemas/status.schema.json``. Raises ``InputError``
    naming the file and the field."""
    shown = str(path)
    text = read_text(path, max_bytes=MAX_SNAPSHOT_BYTES, label="status snapshot")
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InputError("not a rayfleet status snapshot: nested too deeply", file=shown) from None
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", file=shown) from None
    validator = jsonschema.Draft7Validator(load_schema("status.schema.json"))
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise InputError(f"not a rayfleet status snapshot: {one_line(error.message)[:200]}", file=shown,
                         field=where or "(top level)")
    return from_dict(document)


def snapshot_regions(status: FleetStatus, names: Sequence[str]) -> FleetStatus:
    """Only the named regions of a snapshot (all when ``names`` is empty)."""
    if not names:
        return status
    known = {r.name for r in status.regions}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown region {unknown[0]!r} (the snapshot has: {', '.join(sorted(known))})")
    return FleetStatus(status.fleet, status.taken_at, status.seconds,
                       tuple(r for r in status.regions if r.name in names))
