"""Object schemas: built-in kinds against Kubernetes' OpenAPI schemas for the cluster's version
(the ones ``kubernetes-validate`` bundles), custom resources against their CRDs.

Every validator is compiled once per process and reused for every object and region.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from packaging.version import Version
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .errors import InputError
from .findings import ObjectRef, Severity, Violation
from .manifests import KubeObject, objects_from_text
from .structural import prune_and_default
from .text import one_line
from .yamlio import MAX_MANIFEST_FILE_BYTES, iter_manifest_files, read_text

MAX_ERRORS_PER_OBJECT = 10
_SCHEMA_ROOT = "kubernetes-json-schema"


@cache
def bundled_versions() -> tuple[str, ...]:
    """Kubernetes minors (``1.31``) that kubernetes-validate ships schemas for, oldest first."""
    root = resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT)
    found = {m.group(1) for p in root.iterdir() if (m := re.match(r"^v(\d+\.\d+)\.\d+-local-strict$", p.name))}
    return tuple(sorted(found, key=Version))


def schema_version_for(kube_version: str) -> str:
    """The newest bundled minor not newer than ``kube_version``; an error when none is."""
    minor = re.sub(r"^v?(\d+\.\d+).*$", r"\1", kube_version)
    usable = [v for v in bundled_versions() if Version(v) <= Version(minor)]
    if not usable:
        raise InputError(f"Kubernetes {kube_version} is older than any bundled schema "
                         f"(oldest: {bundled_versions()[0]})")
    newest = bundled_versions()[-1]
    if Version(minor) > Version(newest):
        raise InputError(f"Kubernetes {kube_version} is newer than the bundled schemas (newest: {newest}); "
                         "upgrade kubernetes-validate")
    return usable[-1]


@cache
def _definitions(version: str) -> Registry:
    folder = resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT, f"v{version}.0-local-strict")
    defs = json.loads(folder.joinpath("_definitions.json").read_text())
    return Resource.from_contents(defs, default_specification=DRAFT202012) @ Registry()


@cache
def _builtin_validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    # kubernetes-validate names files <kind>-<group without domain>-<version>.json
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT, f"v{version}.0-local-strict")
    entry = folder.joinpath(f"{kind.lower()}-{api}.json")
    if not entry.is_file():
        return None
    schema = json.loads(entry.read_text())
    if not _group_matches(schema, api_version, kind):
        return None
    return jsonschema.Draft202012Validator(schema, registry=_definitions(version))


def _group_matches(schema: dict[str, Any], api_version: str, kind: str) -> bool:
    """kubernetes-validate drops the group's domain from file names; make sure the schema really
    is for this group (``foo.example.com/v1`` must not match ``foo/v1``)."""
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if not gvks:
        return True
    group, _, version = api_version.rpartition("/")
    return any(g.get("group", "") == group and g.get("version") == version and g.get("kind") == kind for g in gvks)


# Go's RE2 takes inline flags anywhere; Python's re only at the very start. Kueue's CRDs use
# "^(?i)[a-z]...": the same expression with the flag first.
_ANCHORED_FLAGS = re.compile(r"^\^\(\?([ims]+)\)")


def _python_pattern(pattern: str) -> str:
    return _ANCHORED_FLAGS.sub(r"(?\1)^", pattern)


def openapi_to_jsonschema(node: Any) -> Any:
    """A CRD's openAPIV3Schema as a JSON Schema the API server would enforce: int-or-string,
    nullable, and pruning (unknown fields are dropped by the server: we report them)."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: openapi_to_jsonschema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = openapi_to_jsonschema(value)
        elif key.startswith("x-kubernetes-") or key in ("nullable", "format", "description", "example"):
            continue
        elif key == "pattern" and isinstance(value, str):
            out[key] = _python_pattern(value)
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (out.get("type") == "object" and "properties" in out and "additionalProperties" not in out
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@dataclass(frozen=True)
class CrdVersion:
    group: str
    kind: str
    version: str
    served: bool
    deprecated: bool
    schema: dict[str, Any]


class CustomResourceSchemas:
    """CRDs by (group, kind, version), with each validator compiled on first use."""

    def __init__(self, crds: Iterable[dict[str, Any]] = ()) -> None:
        self._versions: dict[tuple[str, str, str], CrdVersion] = {}
        self._kinds: set[tuple[str, str]] = set()
        self._compiled: dict[tuple[str, str, str], jsonschema.protocols.Validator] = {}
        # ObjectSchemas' results by (Kubernetes version, object), shared by every region checked
        # against these CRDs (regions render mostly the same objects).
        self.results: OrderedDict[tuple[str, bytes], list[SchemaViolation]] = OrderedDict()
        for crd in crds:
            self.add(crd)

    def add(self, crd: dict[str, Any]) -> None:
        self.results.clear()
        spec = crd.get("spec") or {}
        group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
        for version in spec.get("versions") or []:
            schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"}
            key = (group, kind, version.get("name", ""))
            self._versions[key] = CrdVersion(group, kind, key[2], bool(version.get("served", True)),
                                             bool(version.get("deprecated", False)), schema)
            self._kinds.add((group, kind))

    def __len__(self) -> int:
        return len(self._kinds)

    def knows(self, group: str, kind: str) -> bool:
        return (group, kind) in self._kinds

    def version(self, group: str, kind: str, version: str) -> CrdVersion | None:
        return self._versions.get((group, kind, version))

    def validator(self, entry: CrdVersion) -> jsonschema.protocols.Validator:
        key = (entry.group, entry.kind, entry.version)
        if key not in self._compiled:
            self._compiled[key] = _compile_crd(json.dumps(entry.schema, sort_keys=True))
        return self._compiled[key]


@cache
def _compile_crd(schema_json: str) -> jsonschema.protocols.Validator:
    # Cached on the schema text so two runs (or two regions) with the same CRDs share it.
    schema = openapi_to_jsonschema(json.loads(schema_json))
    if "metadata" in schema.get("properties", {}):  # ObjectMeta is checked by the server itself
        schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft4Validator(schema)


def load_crds_folder(folder: str | Path) -> list[dict[str, Any]]:
    """CustomResourceDefinitions from YAML files in a folder (or one file)."""
    path = Path(folder)
    if not path.exists():
        raise InputError("CRD folder not found", file=str(folder))
    crds: list[dict[str, Any]] = []
    for file in iter_manifest_files(path):
        text = read_text(file, max_bytes=MAX_MANIFEST_FILE_BYTES, label="CRD file")
        crds.extend(_crds_from_text(text, str(file)))
    if not crds:
        raise InputError("holds no CustomResourceDefinition", file=str(folder))
    return crds


def cache_dir() -> Path | None:
    """Where parsed CRDs are kept between runs (``RAYFLEET_CACHE_DIR``, else the XDG cache);
    ``RAYFLEET_CACHE_DIR=off`` turns it off."""
    configured = os.environ.get("RAYFLEET_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rayfleet"


@cache
def _crds_from_text(text: str, origin: str) -> tuple[dict[str, Any], ...]:
    # A KubeRay CRD is about 1 MB of YAML (0.2 s to parse); the parsed form is kept on disk under
    # the SHA-256 of the text, so a stale entry cannot be read for changed input.
    digest = hashlib.sha256(text.encode()).hexdigest()
    folder = cache_dir()
    entry = folder / "crds" / f"{digest}.json" if folder else None
    if entry is not None and entry.is_file():
        try:
            return tuple(json.loads(entry.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass  # unreadable or corrupt: parse again below
    crds = tuple(o.body for o in objects_from_text(text, origin) if o.kind == "CustomResourceDefinition")
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            partial = entry.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(list(crds)), encoding="utf-8")
            partial.replace(entry)
        except OSError:
            pass  # a read-only home is fine: the cache only saves time
    return crds


def crds_from_chart_files(files: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """CRDs from a chart's ``crds/`` files (name, text), parsed once per process."""
    out: list[dict[str, Any]] = []
    for name, text in files:
        out.extend(_crds_from_text(text, name))
    return out


@dataclass(frozen=True)
class SchemaViolation:
    policy: str
    violation: Violation


class ObjectSchemas:
    """Checks objects against the schemas of one Kubernetes version and a set of CRDs."""

    def __init__(self, kube_version: str, crds: CustomResourceSchemas) -> None:
        self.version = schema_version_for(kube_version)
        self.crds = crds

    def check(self, obj: KubeObject) -> Iterator[SchemaViolation]:
        """The object's schema violations. They depend on its body alone (and the schemas): an
        object checked before, byte for byte, is not checked again."""
        key = _object_key(obj.body)
        if key is None:
            yield from self._check(obj)
            return
        results = self.crds.results
        found = results.get((self.version, key))
        if found is None:
            found = results[(self.version, key)] = list(self._check(obj))
            if len(results) > _RESULTS_MAX:
                results.popitem(last=False)
        else:
            results.move_to_end((self.version, key))
        yield from found

    def _check(self, obj: KubeObject) -> Iterator[SchemaViolation]:
        group, _, version = obj.api_version.rpartition("/")
        if self.crds.knows(group, obj.kind):
            yield from self._check_custom(obj, group, version)
            return
        validator = _builtin_validator(self.version, obj.api_version, obj.kind)
        if validator is not None:
            yield from _errors(validator, obj, "kubernetes-schema",
                               f"against Kubernetes {self.version}")
        elif group == "ray.io":
            yield SchemaViolation("kuberay-crds-unavailable", Violation(
                f"{obj.kind} not checked against its CRD: no KubeRay CRDs were found "
                "(build the chart's kuberay-operator dependency or pass --crds)", obj.ref))
        else:
            yield SchemaViolation("unknown-kind", Violation(
                f"no schema for {obj.api_version} {obj.kind} in Kubernetes {self.version} and no CRD for it; "
                "the object was not checked", obj.ref, "apiVersion", obj.api_version))

    def _check_custom(self, obj: KubeObject, group: str, version: str) -> Iterator[SchemaViolation]:
        entry = self.crds.version(group, obj.kind, version)
        if entry is None or not entry.served:
            yield SchemaViolation("custom-resource-schema", Violation(
                f"the {obj.kind} CRD does not serve version {version!r}", obj.ref, "apiVersion", obj.api_version))
            return
        if entry.deprecated:
            yield SchemaViolation("custom-resource-schema", Violation(
                f"{obj.api_version} {obj.kind} is deprecated; use the CRD's storage version", obj.ref,
                "apiVersion", obj.api_version, severity=Severity.WARNING))
        # Validate what the API server would store: nulls pruned, structural defaults applied.
        stored = KubeObject(prune_and_default(entry.schema, obj.body), obj.origin, obj.template)
        yield from _errors(self.crds.validator(entry), stored, "custom-resource-schema",
                           f"against its CRD ({version})", ref=obj.ref)


_RESULTS_MAX = 4096


def _object_key(body: dict[str, Any]) -> bytes | None:
    """A digest of the object's exact content (types included: ``1``, ``1.0`` and ``true`` differ),
    or None for content marshal cannot hold."""
    try:
        return hashlib.blake2b(marshal.dumps(body, 2), digest_size=32).digest()
    except ValueError:
        return None


def _errors(validator: jsonschema.protocols.Validator, obj: KubeObject, policy: str,
            against: str, ref: ObjectRef | None = None) -> Iterator[SchemaViolation]:
    ref = ref or obj.ref
    for count, error in enumerate(sorted(validator.iter_errors(obj.body), key=lambda e: list(map(str, e.path)))):
        if count == MAX_ERRORS_PER_OBJECT:
            yield SchemaViolation(policy, Violation(f"more schema errors not shown (first {count} listed)", ref))
            return
        path = json_path(error.absolute_path)
        yield SchemaViolation(policy, Violation(
            f"{_describe(error)} ({against})", ref, path,
            error.instance if isinstance(error.instance, str | int | float) else None))


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        message = best.message
    else:
        message = error.message
    return one_line(message, 240)


def json_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
