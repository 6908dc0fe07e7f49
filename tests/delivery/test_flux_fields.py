"""The Flux objects of a region (``rayfleet.delivery.flux``), every field against an expectation
built here from the fleet file by hand (helm-controller v2 HelmRelease, source-controller v1
sources), for each kind of chart source; Flux's values merge and the difference listing at
their edges."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from rayfleet.delivery.flux import (
    MAX_CONFIGMAP_BYTES,
    FluxValuesError,
    configmap_name,
    differences,
    flux_files,
    flux_values,
    layers_of,
    region_export,
)
from rayfleet.delivery.settings import Delivery, Source, check_names
from rayfleet.errors import InputError
from rayfleet.fleet import Fleet, load_fleet

REPO = Path(__file__).resolve().parents[2]
MANAGED = {"app.kubernetes.io/managed-by": "rayfleet"}


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(REPO / "examples" / "fleet.yaml")


def _labels(region: str, **extra: str) -> dict[str, str]:
    return {**MANAGED, "rayfleet.dev/region": region, **extra}


def _expected_configmaps(region: str) -> list[dict[str, Any]]:
    files = ["values/platform.yaml", f"values/regions/{region}.yaml", "values/overrides/platform-team.yaml"]
    names = ["ray-values-01-platform", f"ray-values-02-{region}", "ray-values-03-platform-team"]
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": name, "namespace": f"rayfleet-{region}",
                          "labels": _labels(region, **{"reconcile.fluxcd.io/watch": "Enabled"}),
                          "annotations": {"rayfleet.dev/values-file": file, "rayfleet.dev/layer": str(i)}},
             "data": {"values.yaml": (REPO / "examples" / file).read_text()}}
            for i, (file, name) in enumerate(zip(files, names, strict=True), start=1)]


def _expected_helmrelease(region: str, member: str, location: str, wave: int, chart: dict[str, Any],
                          interval: str = "10m", timeout: str = "15m", retries: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "ray", "namespace": f"rayfleet-{region}",
                     "labels": _labels(region, **{"rayfleet.dev/wave": str(wave)}),
                     "annotations": {"rayfleet.dev/fleet-member": member, "rayfleet.dev/location": location}},
        "spec": {"interval": interval, "timeout": timeout, **chart, "releaseName": "ray", "targetNamespace": "ray",
                 "storageNamespace": "ray",
                 "install": {"createNamespace": True, "crds": "Create", "remediation": {"retries": retries}},
                 "upgrade": {"crds": "CreateReplace", "cleanupOnFail": True,
                             "remediation": {"retries": retries, "remediateLastFailure": True,
                                             "strategy": "rollback"}},
                 "valuesFrom": [{"kind": "ConfigMap", "name": cm["metadata"]["name"], "valuesKey": "values.yaml"}
                                for cm in _expected_configmaps(region)]},
    }


def test_the_example_region_every_object_every_field(fleet):
    region = fleet.region("swedencentral")
    export = region_export(fleet, region, Delivery(Source("OCIRepository", "oci://acr.example/charts/ray-aks",
                                                          {"tag": "0.1.0"}, provider="azure")))
    ns = "rayfleet-swedencentral"
    assert export.namespace == {"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns, "labels": _labels("swedencentral")}}
    assert export.source == {
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": "ray", "namespace": ns, "labels": _labels("swedencentral")},
        "spec": {"interval": "10m", "url": "oci://acr.example/charts/ray-aks", "ref": {"tag": "0.1.0"},
                 "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                                   "operation": "copy"},
                 "provider": "azure"}}
    assert export.configmaps == _expected_configmaps("swedencentral")
    assert export.helmrelease == _expected_helmrelease("swedencentral", "rayfleet-sdc", "swedencentral", 2,
                                                       {"chartRef": {"kind": "OCIRepository", "name": "ray"}})
    # the key order is the written order (byte-stable exports)
    assert list(export.helmrelease["spec"]) == ["interval", "timeout", "chartRef", "releaseName", "targetNamespace",
                                                "storageNamespace", "install", "upgrade", "valuesFrom"]
    assert export.anyscale is None
    assert export.objects() == [export.namespace, export.source, *export.configmaps, export.helmrelease]
    files = export.files()
    assert list(files) == ["namespace.yaml", "source.yaml", "ray-values-01-platform.yaml",
                           "ray-values-02-swedencentral.yaml", "ray-values-03-platform-team.yaml", "helmrelease.yaml"]
    assert [yaml.safe_load(files[name]) for name in files] == export.objects()


@pytest.mark.parametrize(("source", "spec", "chart"), [
    (Source("GitRepository", "https://git.example/ray.git", {"branch": "main"}, path="charts/ray-aks"),
     {"ref": {"branch": "main"}},
     {"chart": {"spec": {"chart": "./charts/ray-aks", "reconcileStrategy": "Revision", "interval": "5m",
                         "sourceRef": {"kind": "GitRepository", "name": "ray"}}}}),
    (Source("GitRepository", "https://git.example/ray.git", {"tag": "v1"}, path="./ray-aks", provider="azure"),
     {"ref": {"tag": "v1"}, "provider": "azure"},
     {"chart": {"spec": {"chart": "./ray-aks", "reconcileStrategy": "Revision", "interval": "5m",
                         "sourceRef": {"kind": "GitRepository", "name": "ray"}}}}),
    (Source("GitRepository", "https://git.example/ray.git", {"tag": "v1"}, path="/abs/chart"),
     {"ref": {"tag": "v1"}},
     {"chart": {"spec": {"chart": "/abs/chart", "reconcileStrategy": "Revision", "interval": "5m",
                         "sourceRef": {"kind": "GitRepository", "name": "ray"}}}}),
    (Source("GitRepository", "https://git.example/ray.git", {"tag": "v1"}),
     {"ref": {"tag": "v1"}},
     {"chart": {"spec": {"chart": "./.", "reconcileStrategy": "Revision", "interval": "5m",
                         "sourceRef": {"kind": "GitRepository", "name": "ray"}}}}),
    (Source("HelmRepository", "https://charts.example", chart="ray-aks", version="0.1.0", provider="azure"),
     {},
     {"chart": {"spec": {"chart": "ray-aks", "version": "0.1.0", "interval": "5m",
                         "sourceRef": {"kind": "HelmRepository", "name": "ray"}}}}),
    (Source("HelmRepository", "oci://acr.example/charts", chart="ray-aks", version="0.1.0", provider="azure"),
     {"type": "oci", "provider": "azure"},
     {"chart": {"spec": {"chart": "ray-aks", "version": "0.1.0", "interval": "5m",
                         "sourceRef": {"kind": "HelmRepository", "name": "ray"}}}}),
])
def test_every_source_kind(fleet, source, spec, chart):
    delivery = Delivery(source, interval="5m", timeout="7m", retries=0)
    export = region_export(fleet, fleet.region("eastus2"), delivery)
    assert export.source["kind"] == source.kind
    assert export.source["spec"] == {"interval": "5m", "url": source.url, **spec}
    expected = _expected_helmrelease("eastus2", "rayfleet-eus2", "eastus2", 1, chart, "5m", "7m", 0)
    assert export.helmrelease == expected


def test_flux_files_are_one_folder_per_selected_region(fleet):
    fleet = replace(fleet, delivery={"source": {"kind": "OCIRepository", "url": "oci://x/y", "ref": {"tag": "1"}}})
    files = flux_files(fleet, [fleet.region("westus3"), fleet.region("eastus2")])
    folders = list(dict.fromkeys(name.rsplit("/", 1)[0] for name in files))
    assert folders == ["clusters/westus3", "clusters/eastus2"]
    assert len(files) == 12
    assert len(flux_files(fleet)) == 24


def test_configmap_names():
    assert configmap_name("ray", 1, Path("a/Platform Team.yaml")) == "ray-values-01-platform-team"
    assert configmap_name("ray", 12, Path("--__.yaml")) == "ray-values-12-values"
    long = configmap_name("r" * 40, 3, Path("x" * 40 + ".yaml"))
    assert long == ("r" * 40 + "-values-03-" + "x" * 40)[:63] and len(long) == 63
    # a cut that ends on a dash drops it
    assert configmap_name("r" * 52, 3, Path("abc.yaml")) == "r" * 52 + "-values-03"


def test_a_values_file_at_and_over_the_configmap_limit(fleet, tmp_path):
    at = tmp_path / "at.yaml"
    at.write_text("a: " + "x" * (MAX_CONFIGMAP_BYTES - 4) + "\n")
    assert len(at.read_bytes()) == MAX_CONFIGMAP_BYTES
    [layer] = layers_of(fleet, [at], "ray")
    assert (layer.index, layer.configmap, layer.text) == (1, "ray-values-01-at", at.read_text())
    over = tmp_path / "over.yaml"
    over.write_text("a: " + "x" * (MAX_CONFIGMAP_BYTES - 3) + "\n")
    with pytest.raises(InputError, match="too large for a ConfigMap"):
        layers_of(fleet, [over], "ray")


def test_a_region_name_at_and_over_the_namespace_limit(fleet):
    def named(name: str) -> Fleet:
        return replace(fleet, regions=(replace(fleet.regions[0], name=name), *fleet.regions[1:]))

    check_names(named("r" * 54))  # rayfleet- + 54 = 63
    with pytest.raises(InputError, match="too long for the delivery namespace") as err:
        check_names(named("r" * 55))
    assert err.value.field == "regions[0].name"


# --- Flux's values merge --------------------------------------------------------------------------------

def _cm(name: str, text: str | None, namespace: str | None = "ns", key: str = "values.yaml") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"kind": "ConfigMap", "metadata": meta, "data": {} if text is None else {key: text}}


def _hr(*refs: dict[str, Any], values: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"valuesFrom": list(refs)}
    if values is not None:
        spec["values"] = values
    return {"metadata": {"namespace": "ns"}, "spec": spec}


def test_flux_values_merges_in_order_and_skips_what_is_optional():
    objects = [_cm("a", "x: {p: 1, q: 1}\nl: [1]"), _cm("b", "x: {q: 2}\nl: [2]"), _cm("c", "  \n"),
               _cm("d", "z: 1", namespace=None), _cm("e", "z: 9", namespace="elsewhere"),
               _cm("k", "w: 1", key="custom.yaml")]
    refs = [{"kind": "ConfigMap", "name": n} for n in ("a", "b", "c", "d")]
    assert flux_values(_hr(*refs, values={"y": 1}), objects) == {"x": {"p": 1, "q": 2}, "l": [2], "z": 1, "y": 1}
    assert flux_values(_hr({"kind": "ConfigMap", "name": "k", "valuesKey": "custom.yaml"}), objects) == {"w": 1}
    optional = [{"kind": "ConfigMap", "name": "e", "optional": True},
                {"kind": "ConfigMap", "name": "a", "valuesKey": "nope", "optional": True}]
    assert flux_values(_hr(*optional, values=["not", "a", "map"]), objects) == {}


@pytest.mark.parametrize(("ref", "message"), [
    ({"kind": "Secret", "name": "s"}, "valuesFrom[0] (Secret s): values from a Secret are not proven"),
    ({"kind": "Other", "name": "o"}, "valuesFrom[0] (Other o): unsupported kind"),
    ({"kind": "ConfigMap", "name": "a", "targetPath": "x.y"}, "valuesFrom[0] (ConfigMap a): targetPath is not proven"),
    ({"kind": "ConfigMap", "name": "e"}, "valuesFrom[0] (ConfigMap e): not found in namespace ns"),
    ({"kind": "ConfigMap", "name": "a", "valuesKey": "nope"},
     "valuesFrom[0] (ConfigMap a): has no key 'nope' in namespace ns"),
    ({"kind": "ConfigMap", "name": "bad"}, "valuesFrom[0] (ConfigMap bad): Helm cannot read key 'values.yaml'"),
])
def test_flux_values_refusals(ref, message):
    objects = [_cm("a", "x: 1"), _cm("e", "z: 9", namespace="elsewhere"), _cm("bad", "a: [b")]
    with pytest.raises(FluxValuesError) as err:
        flux_values(_hr(ref), objects)
    assert str(err.value).startswith(message)


def test_differences_lists_key_paths_up_to_the_limit():
    assert differences({"a": 1}, {"a": 1}) == []
    assert differences(1, 2) == ["(root)"]
    assert differences({"a": 1}, {"a": True}) == ["a"]  # equal in Python, not the same YAML
    assert differences({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 2}, "e": 1}) == [
        "a.b", "a.c (missing from Flux's values)", "d (missing from Flux's values)", "e (only in Flux's values)"]
    many_a, many_b = {f"k{i}": i for i in range(8)}, {f"k{i}": -i for i in range(1, 8)}
    assert differences(many_a, many_b) == ["k0 (missing from Flux's values)", "k1", "k2", "k3", "k4"]
    assert differences(many_a, many_b, limit=2) == ["k0 (missing from Flux's values)", "k1"]
    assert differences({"a": {"x": 1, "y": 2}}, {"a": {"x": 2, "y": 3}}, limit=1) == ["a.x"]
    assert differences({"x": 1}, {"x": 2}, path="top") == ["top.x"]


def test_differences_stops_at_the_limit_for_keys_on_one_side_only():
    assert differences({}, {f"k{i}": i for i in range(7)}) == [f"k{i} (only in Flux's values)" for i in range(5)]
    assert differences({f"k{i}": i for i in range(7)}, {}, limit=3) == [
        f"k{i} (missing from Flux's values)" for i in range(3)]
    assert differences(1, 2, limit=0) == []


def test_values_layers_are_frozen(fleet):
    import dataclasses

    [layer, *_] = layers_of(fleet, fleet.values_stack_paths(fleet.region("eastus2")), "ray")
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.index = 2  # type: ignore[misc]


def test_the_anyscale_operator_objects_every_field():
    hybrid = load_fleet(REPO / "examples" / "hybrid" / "fleet.yaml")
    region = hybrid.region("swedencentral")
    delivery = Delivery(Source("OCIRepository", "oci://x/y", {"tag": "1"}), interval="3m", timeout="4m", retries=2)
    export = region_export(hybrid, region, delivery)
    operator = export.anyscale
    assert operator is not None
    ns, labels = "rayfleet-swedencentral", _labels("swedencentral", **{"rayfleet.dev/operator": "anyscale-operator"})
    values = "values/anyscale/swedencentral.yaml"
    assert operator.source == {
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
        "metadata": {"name": "anyscale-operator", "namespace": ns, "labels": labels},
        "spec": {"interval": "3m", "url": "https://anyscale.github.io/helm-charts"}}
    assert operator.configmaps == [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "anyscale-operator-values-01-swedencentral", "namespace": ns,
                     "labels": _labels("swedencentral", **{"reconcile.fluxcd.io/watch": "Enabled"}),
                     "annotations": {"rayfleet.dev/values-file": values, "rayfleet.dev/layer": "1"}},
        "data": {"values.yaml": (REPO / "examples" / "hybrid" / values).read_text()}}]
    # plain helm's CRD handling (no crds fields), after the region's release
    assert operator.helmrelease == {
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "anyscale-operator", "namespace": ns,
                     "labels": {**labels, "rayfleet.dev/wave": "1"},
                     "annotations": {"rayfleet.dev/fleet-member": "rayfleet-sdc",
                                     "rayfleet.dev/location": "swedencentral"}},
        "spec": {"interval": "3m", "timeout": "4m",
                 "chart": {"spec": {"chart": "anyscale-operator", "version": "1.8.0", "interval": "3m",
                                    "sourceRef": {"kind": "HelmRepository", "name": "anyscale-operator"}}},
                 "releaseName": "anyscale-operator", "targetNamespace": "anyscale", "storageNamespace": "anyscale",
                 "dependsOn": [{"name": "ray"}],
                 "install": {"createNamespace": True, "remediation": {"retries": 2}},
                 "upgrade": {"cleanupOnFail": True,
                             "remediation": {"retries": 2, "remediateLastFailure": True, "strategy": "rollback"}},
                 "valuesFrom": [{"kind": "ConfigMap", "name": "anyscale-operator-values-01-swedencentral",
                                 "valuesKey": "values.yaml"}]}}
    assert export.objects()[-3:] == operator.objects() == [operator.source, *operator.configmaps,
                                                           operator.helmrelease]
    files = export.files()
    assert list(files)[-3:] == ["anyscale-source.yaml", "anyscale-operator-values-01-swedencentral.yaml",
                                "anyscale-helmrelease.yaml"]
    assert yaml.safe_load(files["anyscale-helmrelease.yaml"]) == operator.helmrelease


def test_dump_objects_literal_blocks_long_lines_and_separators():
    from rayfleet.delivery.writer import dump_objects

    words = " ".join(["word"] * 60)  # 299 characters: one line, not folded at 80
    assert dump_objects([{"b": "x\ny\n", "a": words}, {"c": 1}, {"d": [True]}]) == (
        f"b: |\n  x\n  y\na: {words}\n---\nc: 1\n---\nd:\n- true\n")
    assert dump_objects([]) == ""
