"""Custom resources are validated the way the API server stores them: nulls pruned from fields that
are not nullable, structural defaults applied, then the schema checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.manifests import objects_from_text
from rayfleet.schemas_check import CustomResourceSchemas, ObjectSchemas, load_crds_folder
from rayfleet.structural import prune_and_default


@pytest.fixture(scope="module")
def crds(request) -> CustomResourceSchemas:
    folder = Path(request.config.rootpath).parent / "shared" / "crds" / "kuberay"
    return CustomResourceSchemas(load_crds_folder(folder))


def _errors(text: str, crds: CustomResourceSchemas) -> list[tuple[str | None, str]]:
    schemas = ObjectSchemas("1.33", crds)
    return [(v.violation.path, v.violation.message) for o in objects_from_text(text, "t.yaml")
            for v in schemas.check(o)]


# A worker group the way KubeRay's autoscaling samples write it: replicas only, and an empty
# metadata: (YAML null) in the pod templates.
SAMPLE = """apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: raycluster-autoscaler
spec:
  rayVersion: '2.52.0'
  enableInTreeAutoscaling: true
  headGroupSpec:
    rayStartParams: {}
    template:
      metadata:
      spec:
        containers:
        - name: ray-head
          image: rayproject/ray:2.52.0
  workerGroupSpecs:
  - groupName: small-group
    replicas: 1
    rayStartParams: {}
    template:
      metadata:
      spec:
        containers:
        - name: ray-worker
          image: rayproject/ray:2.52.0
"""


def test_required_fields_with_defaults_and_null_metadata_pass(crds):
    assert _errors(SAMPLE, crds) == []


def test_a_wrong_type_is_still_reported_after_defaulting(crds):
    text = SAMPLE.replace("replicas: 1", "replicas: 1\n    minReplicas: lots")
    found = _errors(text, crds)
    assert [p for p, _ in found] == ["spec.workerGroupSpecs[0].minReplicas"]


def test_null_in_a_field_without_a_default_is_pruned_and_then_missing(crds):
    # groupName is required and has no default: pruning the null leaves it missing.
    text = SAMPLE.replace("- groupName: small-group", "- groupName:")
    found = _errors(text, crds)
    assert len(found) == 1 and "'groupName' is a required property" in found[0][1]


def test_defaults_nested_and_in_array_items_and_null_kept_when_nullable():
    schema = {"type": "object", "properties": {
        "groups": {"type": "array", "items": {"type": "object", "required": ["min"], "properties": {
            "min": {"type": "integer", "default": 0},
            "opts": {"type": "object", "default": {}, "properties": {"mode": {"type": "string", "default": "a"}}},
        }}},
        "note": {"type": "string", "nullable": True},
        "meta": {"type": "object"},
    }}
    body = {"groups": [{"min": None}, {"min": 3}], "note": None, "meta": None, "free": None}
    assert prune_and_default(schema, body) == {
        "groups": [{"min": 0, "opts": {"mode": "a"}}, {"min": 3, "opts": {"mode": "a"}}],
        "note": None, "free": None}
    assert body["meta"] is None, "the caller's object is not changed"
