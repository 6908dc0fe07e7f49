"""Parity: what Flux will merge and render for each exported HelmRelease is what rayfleet validated.

Two paths per region, both through Helm's engine: rayfleet's own (the region's values stack, as
``validate`` renders it) and Flux's (the HelmRelease and ConfigMaps read back from the exported
files, their values composed with helm-controller's rules by ``flux_values``). The rendered
objects must be identical, over the example fleet and a generated 30-region fleet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rayfleet.delivery.flux import FluxValuesError, differences, flux_files, flux_values
from rayfleet.delivery.settings import delivery_namespace
from rayfleet.delivery.writer import write_export
from rayfleet.fleet import Fleet, load_fleet
from rayfleet.manifests import load_manifest_paths
from rayfleet.pipeline import render_fleet, validate_fleet
from rayfleet.render import EmbeddedHelm

from benchmarks.generate import generate_fleet
from tests.conftest import REPO

DELIVERY = {"source": {"kind": "OCIRepository", "url": "oci://rayfleetacr.azurecr.io/charts/ray-aks",
                       "ref": {"tag": "0.1.0"}, "provider": "azure"}}


def _cm(name: str, text: str, ns: str = "ns", key: str = "values.yaml") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {key: text}}


def _hr(*refs: dict, values: dict | None = None) -> dict:
    spec: dict = {"valuesFrom": list(refs)}
    if values is not None:
        spec["values"] = values
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "ray", "namespace": "ns"}, "spec": spec}


def _ref(name: str, **extra) -> dict:
    return {"kind": "ConfigMap", "name": name, **extra}


# --- helm-controller's merge rules ---------------------------------------------------------------

def test_references_merge_in_order_maps_merge_lists_replace():
    objects = [_cm("a", "x: {a: 1, b: 1}\nl: [1, 2]\n"), _cm("b", "x: {b: 2}\nl: [3]\n")]
    assert flux_values(_hr(_ref("a"), _ref("b")), objects) == {"x": {"a": 1, "b": 2}, "l": [3]}
    assert flux_values(_hr(_ref("b"), _ref("a")), objects) == {"x": {"a": 1, "b": 1}, "l": [1, 2]}


def test_inline_values_go_on_top():
    objects = [_cm("a", "x: {a: 1, b: 1}\n")]
    assert flux_values(_hr(_ref("a"), values={"x": {"b": 9}}), objects) == {"x": {"a": 1, "b": 9}}


def test_null_is_kept_for_helm_to_delete_the_default():
    # the fold keeps null (Helm's mergeMaps); Helm's coalesce with the chart defaults deletes the key
    assert flux_values(_hr(_ref("a"), _ref("b")), [_cm("a", "x: 1\n"), _cm("b", "x: null\n")]) == {"x": None}


def test_optional_references_are_skipped_required_ones_fail():
    objects = [_cm("a", "x: 1\n")]
    assert flux_values(_hr(_ref("a"), _ref("gone", optional=True)), objects) == {"x": 1}
    assert flux_values(_hr(_ref("a", valuesKey="other.yaml", optional=True)), objects) == {}
    with pytest.raises(FluxValuesError, match=r"valuesFrom\[1\] \(ConfigMap gone\): not found"):
        flux_values(_hr(_ref("a"), _ref("gone")), objects)
    with pytest.raises(FluxValuesError, match=r"has no key 'other\.yaml'"):
        flux_values(_hr(_ref("a", valuesKey="other.yaml")), objects)


def test_values_key_default_other_namespace_and_unprovable_references():
    assert flux_values(_hr(_ref("a", valuesKey="v")), [_cm("a", "z: 2\n", key="v")]) == {"z": 2}
    with pytest.raises(FluxValuesError, match="not found"):  # a ConfigMap in another namespace is not seen
        flux_values(_hr(_ref("a")), [_cm("a", "x: 1\n", ns="elsewhere")])
    with pytest.raises(FluxValuesError, match="targetPath"):
        flux_values(_hr(_ref("a", targetPath="x.y")), [_cm("a", "1")])
    with pytest.raises(FluxValuesError, match="Secret"):
        flux_values(_hr({"kind": "Secret", "name": "s"}), [])
    with pytest.raises(FluxValuesError, match="Helm cannot read"):
        flux_values(_hr(_ref("a")), [_cm("a", "x: [unclosed\n")])


def test_differences_name_the_key_paths():
    assert differences({"a": {"b": 1, "c": [1]}}, {"a": {"b": 2, "c": [1]}}) == ["a.b"]
    assert differences({"a": 1}, {"b": 1}) == ["a (missing from Flux's values)", "b (only in Flux's values)"]
    assert differences({"a": 1}, {"a": 1.0}) == ["a"]
    assert differences({"x": 1}, {"x": 1}) == []


# --- both paths through Helm's engine --------------------------------------------------------------

def _assert_same_render(fleet: Fleet, out: Path) -> int:
    write_export(out, "flux", flux_files(fleet))
    exported = [o.body for o in load_manifest_paths([str(out)])]
    renders = render_fleet(fleet)
    engine = EmbeddedHelm()
    compared = 0
    for region in fleet.regions:
        ours = renders[region.name]
        assert ours.rendered and not ours.findings, ours.findings
        namespace = delivery_namespace(region)
        (helmrelease,) = [o for o in exported if o["kind"] == "HelmRelease" and o["metadata"]["namespace"] == namespace]
        merged = flux_values(helmrelease, [o for o in exported if o["metadata"].get("namespace") == namespace])
        assert differences(ours.release.values.merged, merged) == []
        spec = helmrelease["spec"]
        theirs = engine.render(fleet.chart, [], merged, release=spec["releaseName"], namespace=spec["targetNamespace"],
                               kube_version=region.cluster.kubernetes_version)
        flux_objects = [d for _, text in sorted(theirs.manifests.items()) for d in yaml.safe_load_all(text) if d]
        our_objects = [o.body for o in ours.release.objects]
        key = lambda o: (o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"])  # noqa: E731
        assert sorted(flux_objects, key=key) == sorted(our_objects, key=key)
        compared += len(our_objects)
    return compared


def test_example_fleet_renders_the_same_through_flux(tmp_path):
    fleet = load_fleet(REPO / "examples" / "fleet.yaml")
    assert _assert_same_render(fleet, tmp_path / "flux") >= 3 * 4


def test_generated_30_region_fleet_renders_the_same_through_flux(tmp_path):
    path = generate_fleet(tmp_path / "fleet", 30)
    data = yaml.safe_load(path.read_text())
    data["delivery"] = DELIVERY
    for index, region in enumerate(data["regions"]):
        region["wave"] = 1 + index % 4
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    fleet = load_fleet(path)
    assert len(fleet.regions) == 30
    assert _assert_same_render(fleet, tmp_path / "flux") >= 30 * 4


# --- validate proves it ----------------------------------------------------------------------------

def test_validate_runs_the_delivery_policies_on_the_example(example_fleet):
    result = validate_fleet(example_fleet)
    ran = {p.id for p in result.policies}
    assert {"flux-values-parity", "flux-helmrelease-per-region", "fleet-stage-per-region",
            "fleet-stage-order"} <= ran
    assert [f.message for f in result.findings if f.policy.startswith(("flux-", "fleet-stage"))] == []
