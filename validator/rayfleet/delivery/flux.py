"""Flux objects per region, and Flux's own values merge.

Per region (``clusters/<region>/`` in the export): a Namespace ``rayfleet-<region>`` holding the
chart's source (OCIRepository, GitRepository or HelmRepository), one ConfigMap per values layer
in ``plan``'s order (shared files, the region's, overrides) and a ``helm.toolkit.fluxcd.io/v2``
HelmRelease whose ``valuesFrom`` lists those ConfigMaps in that order. The release itself goes
to the region's release namespace under the region's release name, exactly where
``rayfleet rollout`` (helm) puts it, so a fleet can move from one engine to the other.

``flux_values`` merges a HelmRelease's values the way helm-controller does
(fluxcd/pkg ``chartutil.ChartValuesFromReferences``): each ``valuesFrom`` reference in order,
read with Helm's values reader and folded with Helm's ``MergeMaps`` (maps merge, anything else
is replaced), then the inline ``spec.values`` on top. An optional reference whose object or key
is missing is skipped; a required one is an error. ``targetPath`` and Secret references are
refused: rayfleet never writes them and cannot prove what they merge to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import helm_python

from ..anyscale import check_pin
from ..errors import InputError
from ..fleet import ChartSource, Fleet, Region
from ..text import one_line
from ..values import fold_values, load_values_file
from ..yamlio import read_text
from .settings import Delivery, Source, check_names, delivery_namespace, require_delivery
from .writer import dump_objects

HELMRELEASE_API = "helm.toolkit.fluxcd.io/v2"
SOURCE_API = "source.toolkit.fluxcd.io/v1"
VALUES_KEY = "values.yaml"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MAX_CONFIGMAP_BYTES = 1_000_000  # the API server refuses objects over 1 MiB; keep room for metadata
REGION_LABEL = "rayfleet.dev/region"
MANAGED = {"app.kubernetes.io/managed-by": "rayfleet"}
OPERATOR_LABEL = "rayfleet.dev/operator"  # on the Anyscale operator's objects (not the region's release)


@dataclass(frozen=True)
class ValuesLayer:
    """One values file of a region's stack, as a ConfigMap."""

    index: int  # 1-based position in the stack
    path: Path
    shown: str  # the path relative to the fleet file, as written in the annotation
    text: str
    configmap: str


@dataclass
class RegionExport:
    """One region's Flux objects."""

    region: Region
    namespace: dict[str, Any]
    source: dict[str, Any]
    configmaps: list[dict[str, Any]]
    helmrelease: dict[str, Any]
    anyscale: OperatorExport | None = None  # the region's Anyscale operator (regions[].anyscale)

    def objects(self) -> list[dict[str, Any]]:
        return [self.namespace, self.source, *self.configmaps, self.helmrelease,
                *(self.anyscale.objects() if self.anyscale else ())]

    def files(self) -> dict[str, str]:
        """File name → YAML, one object per file (relative to the region's folder)."""
        out = {"namespace.yaml": dump_objects([self.namespace]), "source.yaml": dump_objects([self.source])}
        for configmap in self.configmaps:
            out[f"{configmap['metadata']['name']}.yaml"] = dump_objects([configmap])
        out["helmrelease.yaml"] = dump_objects([self.helmrelease])
        if self.anyscale is not None:
            out.update(self.anyscale.files())
        return out


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]+", "-", text.lower())).strip("-") or "values"


def configmap_name(release: str, index: int, path: Path) -> str:
    """``<release>-values-<NN>-<file stem>``: the position in the stack is in the name."""
    prefix = f"{release}-values-{index:02d}-"
    return (prefix + _slug(path.stem))[:63].rstrip("-")


def _shown(fleet: Fleet, path: Path) -> str:
    return PurePath(os.path.relpath(path, fleet.base_dir)).as_posix()


def values_layers(fleet: Fleet, region: Region) -> list[ValuesLayer]:
    """The region's values files in Helm's order, each with its text and ConfigMap name."""
    return layers_of(fleet, fleet.values_stack_paths(region), region.release_name)


def layers_of(fleet: Fleet, paths: Sequence[Path], release: str) -> list[ValuesLayer]:
    """Values files in the order given, each with its text and a ConfigMap name under ``release``."""
    layers = []
    for index, path in enumerate(paths, start=1):
        shown = _shown(fleet, path)
        load_values_file(path, display=fleet.relative(path))  # refuse what Helm (and so Flux) cannot read
        text = read_text(path, label="values file")
        if len(text.encode("utf-8")) > MAX_CONFIGMAP_BYTES:
            raise InputError("too large for a ConfigMap (1 MiB): split it into smaller values files",
                             file=fleet.relative(path))
        layers.append(ValuesLayer(index, path, shown, text, configmap_name(release, index, path)))
    return layers


def object_metadata(name: str, namespace: str | None, region: Region, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    labels = {**MANAGED, REGION_LABEL: region.name, **extra.pop("labels", {})}
    meta["labels"] = labels
    if extra.get("annotations"):
        meta["annotations"] = extra["annotations"]
    return meta


def source_object(source: Source, name: str, namespace: str, region: Region, interval: str) -> dict[str, Any]:
    """The Flux source of the umbrella chart. No secretRef, ever: public, or workload identity."""
    spec: dict[str, Any] = {"interval": interval, "url": source.url}
    if source.kind == "OCIRepository":
        spec["ref"] = dict(source.ref)
        spec["layerSelector"] = {"mediaType": HELM_CHART_LAYER, "operation": "copy"}
        spec["provider"] = source.provider
    elif source.kind == "GitRepository":
        spec["ref"] = dict(source.ref)
        if source.provider != "generic":
            spec["provider"] = source.provider
    else:  # HelmRepository
        if source.url.startswith("oci://"):
            spec["type"] = "oci"
            spec["provider"] = source.provider
    return {"apiVersion": SOURCE_API, "kind": source.kind, "metadata": object_metadata(name, namespace, region),
            "spec": spec}


def _chart_reference(delivery: Delivery, name: str) -> dict[str, Any]:
    source = delivery.source
    if source.kind == "OCIRepository":
        return {"chartRef": {"kind": "OCIRepository", "name": name}}
    if source.kind == "GitRepository":
        path = source.path or "."
        chart = path if path.startswith(("./", "/")) else f"./{path}"
        # Revision: every new commit of the source is a new chart (the chart version need not change).
        return {"chart": {"spec": {"chart": chart, "reconcileStrategy": "Revision", "interval": delivery.interval,
                                   "sourceRef": {"kind": "GitRepository", "name": name}}}}
    return {"chart": {"spec": {"chart": source.chart, "version": source.version, "interval": delivery.interval,
                               "sourceRef": {"kind": "HelmRepository", "name": name}}}}


def values_configmaps(layers: Sequence[ValuesLayer], namespace: str, region: Region) -> list[dict[str, Any]]:
    """One ConfigMap per values layer (key ``values.yaml``), annotated with the file it holds."""
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": object_metadata(layer.configmap, namespace, region,
                                     # helm-controller upgrades as soon as a watched ConfigMap changes
                                     labels={"reconcile.fluxcd.io/watch": "Enabled"},
                                     annotations={"rayfleet.dev/values-file": layer.shown,
                                                  "rayfleet.dev/layer": str(layer.index)}),
         "data": {VALUES_KEY: layer.text}}
        for layer in layers
    ]


def _helmrelease(region: Region, delivery: Delivery, name: str, namespace: str, chart: dict[str, Any], *,
                 target_namespace: str, layers: Sequence[ValuesLayer], crds: bool, labels: dict[str, str] | None = None,
                 depends_on: str | None = None) -> dict[str, Any]:
    """A HelmRelease of a region (its release, or the Anyscale operator's): values only from the
    layers' ConfigMaps, remediation by rollback. ``crds``: create CRDs on install and replace them
    on upgrade (the release's KubeRay CRDs), else plain helm's behaviour."""
    retries = delivery.retries
    spec: dict[str, Any] = {"interval": delivery.interval, "timeout": delivery.timeout, **chart,
                            "releaseName": name, "targetNamespace": target_namespace,
                            "storageNamespace": target_namespace}
    if depends_on:
        spec["dependsOn"] = [{"name": depends_on}]
    spec["install"] = {"createNamespace": True, **({"crds": "Create"} if crds else {}),
                       "remediation": {"retries": retries}}
    spec["upgrade"] = {**({"crds": "CreateReplace"} if crds else {}), "cleanupOnFail": True,
                       "remediation": {"retries": retries, "remediateLastFailure": True, "strategy": "rollback"}}
    spec["valuesFrom"] = [{"kind": "ConfigMap", "name": layer.configmap, "valuesKey": VALUES_KEY} for layer in layers]
    return {"apiVersion": HELMRELEASE_API, "kind": "HelmRelease",
            "metadata": object_metadata(name, namespace, region,
                                        labels={**(labels or {}), "rayfleet.dev/wave": str(region.wave)},
                                        annotations={"rayfleet.dev/fleet-member": region.member_name,
                                                     "rayfleet.dev/location": region.location}),
            "spec": spec}


def region_export(fleet: Fleet, region: Region, delivery: Delivery) -> RegionExport:
    """A region's Namespace, source, values ConfigMaps and HelmRelease."""
    namespace = delivery_namespace(region)
    name = region.release_name
    layers = values_layers(fleet, region)
    configmaps = values_configmaps(layers, namespace, region)
    # KubeRay's CRDs sit in the kuberay-operator chart's crds/: create them on install, and
    # (unlike plain helm) keep them current on upgrade.
    helmrelease = _helmrelease(region, delivery, name, namespace, _chart_reference(delivery, name),
                               target_namespace=region.namespace, layers=layers, crds=True)
    return RegionExport(
        region=region,
        namespace={"apiVersion": "v1", "kind": "Namespace", "metadata": object_metadata(namespace, None, region)},
        source=source_object(delivery.source, name, namespace, region, delivery.interval),
        configmaps=configmaps,
        helmrelease=helmrelease,
        anyscale=operator_export(fleet, region, delivery) if region.anyscale is not None else None,
    )


# --- the region's Anyscale operator ----------------------------------------------------------------

@dataclass
class OperatorExport:
    """A region's Anyscale operator for Flux: its chart's source, its values layers, its HelmRelease."""

    source: dict[str, Any]
    configmaps: list[dict[str, Any]]
    helmrelease: dict[str, Any]

    def objects(self) -> list[dict[str, Any]]:
        return [self.source, *self.configmaps, self.helmrelease]

    def files(self) -> dict[str, str]:
        out = {"anyscale-source.yaml": dump_objects([self.source])}
        for configmap in self.configmaps:
            out[f"{configmap['metadata']['name']}.yaml"] = dump_objects([configmap])
        out["anyscale-helmrelease.yaml"] = dump_objects([self.helmrelease])
        return out


def _operator_source(fleet: Fleet, region: Region) -> ChartSource:
    operator = region.anyscale
    assert operator is not None
    index = fleet.regions.index(region)
    if operator.source is None:
        raise InputError(f"region {region.name}: anyscale.source is not set: Flux needs the repository the Anyscale "
                         f"operator chart comes from (url, and chart for an HTTPS repository)", file=str(fleet.path),
                         line=fleet.document.line_of(("regions", index, "anyscale")) if fleet.document else None,
                         field=f"regions[{index}].anyscale.source")
    check_pin(fleet, region, operator)  # the copy rayfleet validated is the version Flux pulls
    return operator.source


def operator_export(fleet: Fleet, region: Region, delivery: Delivery) -> OperatorExport:
    """The region's Anyscale operator as Flux objects in the region's delivery namespace, beside the
    release's. Its HelmRelease ``dependsOn`` the release's: Flux installs it after the region's
    release is Ready, the order ``rayfleet rollout`` follows (docs/anyscale.md)."""
    operator = region.anyscale
    assert operator is not None
    source = _operator_source(fleet, region)
    namespace = delivery_namespace(region)
    name = operator.release_name
    layers = layers_of(fleet, operator.values_files, name)
    labels = {OPERATOR_LABEL: "anyscale-operator"}
    spec: dict[str, Any] = {"interval": delivery.interval, "url": source.url}
    if source.is_oci:
        spec["ref"] = {"tag": operator.version}
        spec["layerSelector"] = {"mediaType": HELM_CHART_LAYER, "operation": "copy"}
        spec["provider"] = source.provider
        kind, chart = "OCIRepository", {"chartRef": {"kind": "OCIRepository", "name": name}}
    else:
        kind = "HelmRepository"
        chart = {"chart": {"spec": {"chart": source.chart_name, "version": operator.version,
                                    "interval": delivery.interval, "sourceRef": {"kind": kind, "name": name}}}}
    # CRDs as plain helm (what rayfleet rollout runs): created on install, left alone on upgrade.
    helmrelease = _helmrelease(region, delivery, name, namespace, chart, target_namespace=operator.namespace,
                               layers=layers, crds=False, labels=labels, depends_on=region.release_name)
    return OperatorExport(
        source={"apiVersion": SOURCE_API, "kind": kind,
                "metadata": object_metadata(name, namespace, region, labels=labels), "spec": spec},
        configmaps=values_configmaps(layers, namespace, region),
        helmrelease=helmrelease,
    )


def region_exports(fleet: Fleet, regions: Sequence[Region] | None = None) -> list[RegionExport]:
    delivery = require_delivery(fleet)
    check_names(fleet)
    return [region_export(fleet, region, delivery) for region in (regions or fleet.regions)]


def flux_files(fleet: Fleet, regions: Sequence[Region] | None = None) -> dict[str, str]:
    """The Flux export: ``clusters/<region>/<file>`` → YAML."""
    files: dict[str, str] = {}
    for export in region_exports(fleet, regions):
        for name, text in export.files().items():
            files[f"clusters/{export.region.name}/{name}"] = text
    return files


# --- Flux's values merge -------------------------------------------------------------------------

class FluxValuesError(Exception):
    """The HelmRelease's values cannot be composed (as helm-controller would fail), or not proven."""


def flux_values(helmrelease: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The values helm-controller hands to Helm for ``helmrelease``; ``objects`` are the
    ConfigMaps (and Secrets) in its namespace. Raises ``FluxValuesError``."""
    meta = helmrelease.get("metadata") or {}
    namespace = meta.get("namespace")
    spec = helmrelease.get("spec") or {}
    found = {(o.get("kind"), (o.get("metadata") or {}).get("name")): o for o in objects
             if (o.get("metadata") or {}).get("namespace") in (namespace, None)}
    layers: list[dict[str, Any]] = []
    for index, ref in enumerate(spec.get("valuesFrom") or []):
        kind, name = ref.get("kind"), ref.get("name")
        where = f"valuesFrom[{index}] ({kind} {name})"
        if kind == "Secret":
            raise FluxValuesError(f"{where}: values from a Secret are not proven (and rayfleet keeps none)")
        if kind != "ConfigMap":
            raise FluxValuesError(f"{where}: unsupported kind")
        if ref.get("targetPath"):
            raise FluxValuesError(f"{where}: targetPath is not proven (Helm --set parsing); rayfleet never writes it")
        key = ref.get("valuesKey") or VALUES_KEY
        obj = found.get((kind, name))
        data = (obj or {}).get("data") or {}
        if obj is None or key not in data:
            if ref.get("optional"):
                continue  # helm-controller skips an optional reference it cannot find
            missing = "not found" if obj is None else f"has no key {key!r}"
            raise FluxValuesError(f"{where}: {missing} in namespace {namespace}")
        text = data[key]
        try:
            layers.append(helm_python.values_from_yaml(text) or {} if str(text).strip() else {})
        except helm_python.HelmError as exc:
            raise FluxValuesError(f"{where}: Helm cannot read key {key!r}: {one_line(exc)}") from None
    inline = spec.get("values")
    if isinstance(inline, dict):
        layers.append(inline)
    return fold_values(layers)


def differences(expected: Any, actual: Any, path: str = "", limit: int = 5) -> list[str]:
    """Key paths where two values trees differ (at most ``limit``)."""
    out: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                child = f"{where}.{key}" if where else str(key)
                if key not in a:
                    out.append(f"{child} (only in Flux's values)")
                elif key not in b:
                    out.append(f"{child} (missing from Flux's values)")
                else:
                    walk(a[key], b[key], child)
                if len(out) >= limit:
                    return
        elif type(a) is not type(b) or a != b:
            out.append(where or "(root)")

    walk(expected, actual, path)
    return out

