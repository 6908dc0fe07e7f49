"""Object schemas: built-in kinds by Kubernetes version (strict), custom resources by CRD, each
validator compiled once."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.errors import InputError
from rayfleet.manifests import objects_from_text
from rayfleet.schemas_check import (
    CustomResourceSchemas,
    ObjectSchemas,
    _builtin_validator,
    _compile_crd,
    load_crds_folder,
    openapi_to_jsonschema,
    schema_version_for,
)


@pytest.fixture(scope="module")
def crds(request) -> CustomResourceSchemas:
    folder = Path(request.config.rootpath).parent / "shared" / "crds" / "kuberay"
    return CustomResourceSchemas(load_crds_folder(folder))


def _check(text: str, crds: CustomResourceSchemas, version: str = "1.33"):
    schemas = ObjectSchemas(version, crds)
    return [(v.policy, v.violation.path, v.violation.message) for o in objects_from_text(text, "t.yaml")
            for v in schemas.check(o)]


def test_unknown_field_in_a_builtin_kind_is_reported_strictly(crds):
    found = _check("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nautomount: true\n", crds)
    assert found and found[0][0] == "kubernetes-schema" and "'automount' was unexpected" in found[0][2]


def test_kind_removed_from_a_version_is_unknown_there(crds):
    text = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: a}\nspec: {}\n"
    assert [f[0] for f in _check(text, crds)] == ["unknown-kind"]


def test_raycluster_checked_against_crd_with_int_or_string_and_pruning(crds):
    text = """apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc}
spec:
  headGroupSpec:
    rayStartParams: {num-gpus: "0"}
    template:
      metadata: {labels: {a: b}}
      spec:
        containers:
        - name: ray-head
          image: rayproject/ray:2.52.0
          resources: {limits: {cpu: 2, memory: 4Gi}}
          madeUp: 1
  workerGroupSpecs:
  - groupName: g
    minReplicas: 0
    maxReplicas: "5"
    template: {spec: {containers: [{name: w, image: rayproject/ray:2.52.0}]}}
"""
    found = _check(text, crds)
    paths = {f[1] for f in found}
    assert "spec.headGroupSpec.template.spec.containers[0]" in paths  # madeUp would be pruned
    assert "spec.workerGroupSpecs[0].maxReplicas" in paths
    assert not any("cpu" in f[1] for f in found)  # cpu: 2 is int-or-string
    assert {f[0] for f in found} == {"custom-resource-schema"}


def test_deprecated_crd_version_is_a_warning(crds):
    text = "apiVersion: ray.io/v1alpha1\nkind: RayCluster\nmetadata: {name: rc}\nspec:\n  headGroupSpec:\n" \
           "    rayStartParams: {}\n    template: {spec: {containers: [{name: h, image: x}]}}\n"
    schemas = ObjectSchemas("1.33", crds)
    [obj] = objects_from_text(text, "t.yaml")
    found = list(schemas.check(obj))
    if crds.version("ray.io", "RayCluster", "v1alpha1").deprecated:
        assert any(v.violation.severity is not None and "deprecated" in v.violation.message for v in found)
    else:
        assert not any("deprecated" in v.violation.message for v in found)


def test_unserved_version_is_reported(crds):
    text = "apiVersion: ray.io/v9\nkind: RayCluster\nmetadata: {name: rc}\n"
    assert _check(text, crds) == [("custom-resource-schema", "apiVersion",
                                   "the RayCluster CRD does not serve version 'v9'")]


def test_ray_objects_without_crds_are_reported():
    found = _check("apiVersion: ray.io/v1\nkind: RayJob\nmetadata: {name: j}\n", CustomResourceSchemas())
    assert [f[0] for f in found] == ["kuberay-crds-unavailable"]


def test_same_group_name_with_another_domain_is_not_confused():
    # kubernetes-validate names files without the group's domain; networking.example.com must not
    # be checked as networking.k8s.io.
    found = _check("apiVersion: networking.example.com/v1\nkind: Ingress\nmetadata: {name: a}\nspec: {x: 1}\n",
                   CustomResourceSchemas())
    assert [f[0] for f in found] == ["unknown-kind"]


def test_openapi_conversion():
    schema = openapi_to_jsonschema({"type": "object", "properties": {
        "a": {"x-kubernetes-int-or-string": True},
        "b": {"type": "string", "nullable": True},
        "c": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"d": {"type": "string"}}},
    }})
    assert schema["additionalProperties"] is False
    assert schema["properties"]["a"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert schema["properties"]["b"]["type"] == ["string", "null"]
    assert "additionalProperties" not in schema["properties"]["c"]


def test_validators_are_compiled_once():
    _builtin_validator.cache_clear()
    schemas = ObjectSchemas("1.33", CustomResourceSchemas())
    objects = objects_from_text("".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"
                                        for i in range(50)), "t.yaml")
    for obj in objects:
        list(schemas.check(obj))
    info = _builtin_validator.cache_info()
    assert info.misses == 1 and info.hits == 49
    assert _compile_crd.cache_info().maxsize is None  # unbounded: one per CRD version per process


def test_version_selection():
    assert schema_version_for("v1.33.4") == "1.33"
    with pytest.raises(InputError, match="older than any bundled schema"):
        schema_version_for("1.10")


def test_parsed_crds_are_cached_on_disk_by_content(tmp_path: Path, monkeypatch, request):
    from rayfleet import schemas_check

    monkeypatch.setenv("RAYFLEET_CACHE_DIR", str(tmp_path / "cache"))
    schemas_check._crds_from_text.cache_clear()
    folder = Path(request.config.rootpath).parent / "shared" / "crds" / "kuberay"
    first = load_crds_folder(folder)
    entries = sorted((tmp_path / "cache" / "crds").glob("*.json"))
    assert len(entries) == 3
    schemas_check._crds_from_text.cache_clear()
    for entry in entries:  # a corrupt entry is parsed again, not trusted
        entry.write_text("{not json")
    again = load_crds_folder(folder)
    assert [c["spec"]["names"]["kind"] for c in again] == [c["spec"]["names"]["kind"] for c in first]
    schemas_check._crds_from_text.cache_clear()
    monkeypatch.setenv("RAYFLEET_CACHE_DIR", "off")
    assert schemas_check.cache_dir() is None
    assert len(load_crds_folder(folder)) == 3


def test_go_inline_flags_after_the_anchor_are_moved_for_python():
    # Kueue 0.19's AdmissionCheck CRD has "^(?i)[a-z]([-a-z0-9]*[a-z0-9])?$": valid RE2, an error in
    # Python's re unless the flag comes first. Case-insensitivity must survive the move.
    import jsonschema

    schema = openapi_to_jsonschema({"type": "object", "properties": {
        "name": {"type": "string", "pattern": "^(?i)[a-z]([-a-z0-9]*[a-z0-9])?$"},
        "pattern": {"type": "string", "pattern": "^[a-z]+$"}}})
    assert schema["properties"]["name"]["pattern"] == "(?i)^[a-z]([-a-z0-9]*[a-z0-9])?$"
    assert schema["properties"]["pattern"]["pattern"] == "^[a-z]+$"  # a field called "pattern" is a field
    validator = jsonschema.Draft4Validator(schema)
    assert list(validator.iter_errors({"name": "MultiKueue-1", "pattern": "abc"})) == []
    [error] = validator.iter_errors({"name": "-bad"})
    assert error.message == "'-bad' does not match '(?i)^[a-z]([-a-z0-9]*[a-z0-9])?$'"
