"""Per-object schema cost, in-process: rayfleet's compile-once ``ObjectSchemas`` against
``kubernetes_validate.validate`` (which reads and compiles the schema for every call).

Both check the same built-in objects against the same bundled schemas (Kubernetes 1.33,
strict). kubernetes-validate has no CRD support, so custom resources (RayCluster) are timed for
rayfleet alone, in their own row.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import kubernetes_validate
from rayfleet.manifests import KubeObject, load_manifest_paths
from rayfleet.schemas_check import CustomResourceSchemas, ObjectSchemas, load_crds_folder

KUBE_VERSION = "1.33"


@dataclass
class SchemaCost:
    objects: int  # built-in objects timed
    custom_objects: int
    rayfleet_us: float  # median µs per built-in object, validators already compiled
    rayfleet_cold_us: float  # first pass in this process: reading and compiling included
    rayfleet_custom_us: float | None  # median µs per custom resource (CRD schema), None without CRDs
    kubernetes_validate_us: float

    @property
    def speedup(self) -> float:
        return self.kubernetes_validate_us / self.rayfleet_us if self.rayfleet_us else float("inf")


def _per_object(func, objects: list, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for obj in objects:
            func(obj)
        times.append((time.perf_counter() - start) / len(objects) * 1e6)
    return times


def _kv(obj: KubeObject) -> None:
    with contextlib.suppress(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(obj.body, KUBE_VERSION, strict=True)


def _kv_knows(obj: KubeObject) -> bool:
    try:
        _kv(obj)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    return True


def measure_schema_cost(folders: list[Path], crds: Path | None, *, runs: int) -> SchemaCost:
    """Time both checkers over every object in ``folders`` (rendered regions)."""
    objects = load_manifest_paths([str(f) for f in folders])
    crd_schemas = CustomResourceSchemas(load_crds_folder(crds)) if crds else CustomResourceSchemas()
    custom = [o for o in objects if o.group == "ray.io"]
    # Built-in = what kubernetes-validate has a schema for (not Kueue's or the admission chart's CRDs).
    known = {key: _kv_knows(obj) for key, obj in {(o.api_version, o.kind): o for o in objects}.items()}
    builtin = [o for o in objects if o.group != "ray.io" and known[(o.api_version, o.kind)]]
    schemas = ObjectSchemas(KUBE_VERSION, crd_schemas)

    def rayfleet_check(obj: KubeObject) -> None:
        for _ in schemas.check(obj):
            pass

    cold = _per_object(rayfleet_check, builtin, 1)[0]
    rayfleet = _per_object(rayfleet_check, builtin, runs)
    custom_times = _per_object(rayfleet_check, custom, runs + 1)[1:] if custom and crds else []
    _per_object(_kv, builtin[:5], 1)  # warm the OS file cache and imports
    kv = _per_object(_kv, builtin, runs)
    return SchemaCost(len(builtin), len(custom), statistics.median(rayfleet), cold,
                      statistics.median(custom_times) if custom_times else None, statistics.median(kv))
