"""A CRD's openAPIV3Schema as the JSON Schema the API server enforces (``openapi_to_jsonschema``),
and the group check that keeps ``foo.example.com/v1`` from matching ``foo/v1``."""

from __future__ import annotations

import jsonschema
import pytest
from rayfleet.manifests import objects_from_text
from rayfleet.schemas_check import (
    CustomResourceSchemas,
    ObjectSchemas,
    _compile_crd,
    _group_matches,
    openapi_to_jsonschema,
    schema_version_for,
)


def test_int_or_string_nullable_and_pruning() -> None:
    schema = {
        "type": "object", "description": "dropped", "required": ["port"],
        "properties": {
            "port": {"x-kubernetes-int-or-string": True, "type": "string", "format": "int-or-string"},
            "note": {"type": "string", "nullable": True, "example": "x"},
            "kind": {"type": "string", "enum": ["A", "B"], "pattern": "^(?i)[a-z]+$"},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
            "open": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": True},
            "items": {"type": "array", "items": {"type": "object", "properties": {"b": {"type": "boolean"}}}},
            "mix": {"anyOf": [{"type": "integer"}, {"type": "string", "nullable": True}]},
        },
    }
    assert openapi_to_jsonschema(schema) == {
        "type": "object", "required": ["port"], "additionalProperties": False,
        "properties": {
            "port": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "note": {"type": ["string", "null"]},
            "kind": {"type": "string", "enum": ["A", "B"], "pattern": "(?i)^[a-z]+$"},
            "free": {"type": "object", "properties": {"a": {}}},
            "open": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": True},
            "items": {"type": "array", "items": {"type": "object", "properties": {"b": {"type": "boolean"}},
                                                 "additionalProperties": False}},
            "mix": {"anyOf": [{"type": "integer"}, {"type": ["string", "null"]}]},
        },
    }


def test_a_nullable_field_without_a_single_type_and_scalars_stay_as_they_are() -> None:
    assert openapi_to_jsonschema({"nullable": True, "type": ["string", "integer"]}) == {"type": ["string", "integer"]}
    assert openapi_to_jsonschema({"type": "object", "additionalProperties": False}) == {
        "type": "object", "additionalProperties": False}
    assert openapi_to_jsonschema({"type": "object", "additionalProperties": {"type": "string", "nullable": True}}) \
        == {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
    assert openapi_to_jsonschema([{"nullable": True, "type": "string"}, 3]) == [{"type": ["string", "null"]}, 3]


def test_the_converted_schema_validates_as_the_api_server_does() -> None:
    schema = openapi_to_jsonschema({"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True}, "note": {"type": "string", "nullable": True}}})
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors({"port": 80, "note": None})) == []
    assert list(validator.iter_errors({"port": "http", "note": "x"})) == []
    assert [e.validator for e in validator.iter_errors({"port": 1.5})] == ["anyOf"]
    assert [e.validator for e in validator.iter_errors({"extra": 1})] == ["additionalProperties"]


@pytest.mark.parametrize(("api_version", "kind", "matches"), [
    ("networking.k8s.io/v1", "Ingress", True),
    ("networking.example.com/v1", "Ingress", False),  # another group with the same first label
    ("networking.k8s.io/v1beta1", "Ingress", False),
    ("networking.k8s.io/v1", "IngressClass", False),
])
def test_group_version_kind_must_match(api_version: str, kind: str, matches: bool) -> None:
    schema = {"x-kubernetes-group-version-kind": [{"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"}]}
    assert _group_matches(schema, api_version, kind) is matches


def test_a_schema_without_group_version_kind_matches_any() -> None:
    assert _group_matches({}, "example.com/v1", "Thing") is True
    assert _group_matches({"x-kubernetes-group-version-kind": []}, "v1", "Pod") is True


def test_core_group_has_an_empty_group() -> None:
    schema = {"x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Service"}]}
    assert _group_matches(schema, "v1", "Service") is True


def test_schema_version_is_the_newest_bundled_minor_not_newer() -> None:
    assert schema_version_for("v1.33.2") == "1.33" and schema_version_for("1.33") == "1.33"


def test_custom_resource_schemas_by_group_kind_and_version() -> None:
    def crd(group: str, kind: str, *versions: dict) -> dict:
        return {"spec": {"group": group, "names": {"kind": kind}, "versions": list(versions)}}

    schemas = CustomResourceSchemas([
        crd("ray.io", "RayCluster", {"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}},
            {"name": "v1alpha1", "served": False, "deprecated": True}),
        crd("kueue.x-k8s.io", "LocalQueue", {"name": "v1beta2"}),
    ])
    assert len(schemas) == 2 and len(CustomResourceSchemas()) == 0
    assert schemas.knows("ray.io", "RayCluster") and not schemas.knows("ray.io", "RayJob")
    v1, old = schemas.version("ray.io", "RayCluster", "v1"), schemas.version("ray.io", "RayCluster", "v1alpha1")
    assert (v1.served, v1.deprecated, old.served, old.deprecated) == (True, False, False, True)
    assert old.schema == {"type": "object"}  # no schema: any object
    assert schemas.version("ray.io", "RayCluster", "v2") is None


# A CRD that constrains metadata: the API server checks ObjectMeta itself, never the CRD's copy of it.

def _crd(schema: dict) -> dict:
    return {"spec": {"group": "example.com", "names": {"kind": "Thing"},
                     "versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]}}


def _errors(schema: dict, text: str) -> list[tuple[str, str, str]]:
    schemas = ObjectSchemas("1.33", CustomResourceSchemas([_crd(schema)]))
    return [(v.policy, v.violation.path, v.violation.message) for o in objects_from_text(text, "t.yaml")
            for v in schemas.check(o)]


def test_a_crds_metadata_constraints_are_left_to_the_api_servers_objectmeta() -> None:
    schema = {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}},
        "spec": {"type": "object", "properties": {"size": {"type": "integer", "maximum": 3}}}}}
    text = "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: a-long-name, labels: {a: b}}\nspec: {size: 2}\n"
    assert _errors(schema, text) == []
    # the rest of the schema still applies
    found = _errors(schema, text.replace("size: 2", "size: 4"))
    assert [(policy, path) for policy, path, _ in found] == [("custom-resource-schema", "spec.size")]
    assert found[0][2].startswith("4 is greater than the maximum of 3")


def test_metadata_is_typed_only_when_the_crd_names_it() -> None:
    named = _compile_crd('{"type": "object", "properties": {"metadata": {"type": "object", "required": ["x"]}}}')
    assert named.schema["properties"]["metadata"] == {"type": "object"}
    without = _compile_crd('{"type": "object", "properties": {"spec": {"type": "object"}}}')
    assert "metadata" not in without.schema["properties"]
    bare = _compile_crd('{"type": "object"}')  # no properties at all: nothing to replace
    assert bare.schema == {"type": "object"}
