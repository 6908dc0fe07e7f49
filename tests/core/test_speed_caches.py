"""The per-process caches behind validate's speed (issue #21) give what a fresh computation gives:
rendered manifest texts parsed once (fresh objects on every hit, never for streams with aliases),
object schema results reused only for an object that is the same byte for byte."""

from __future__ import annotations

import copy

import pytest
from rayfleet import yamlio
from rayfleet.errors import InputError
from rayfleet.manifests import KubeObject, objects_from_text
from rayfleet.schemas_check import CustomResourceSchemas, ObjectSchemas

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: x\n---\n" \
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports: [{port: 80}]\n"


def test_a_text_parsed_again_gives_equal_fresh_objects():
    first = yamlio.load_manifests(CONFIGMAP, "a.yaml")
    second = yamlio.load_manifests(CONFIGMAP, "b.yaml")
    assert [(d.body, d.line) for d in first] == [(d.body, d.line) for d in second]
    assert [d.line for d in first] == [1, 8]
    second[0].body["data"]["a"] = "changed"  # callers may change what they get: the next hit is intact
    assert yamlio.load_manifests(CONFIGMAP, "c.yaml")[0].body["data"]["a"] == "x"


def test_streams_with_aliases_keep_their_shared_objects_and_are_not_remembered():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: cm\nextra: *m\n"
    docs = yamlio.load_manifests(text, "a.yaml")
    assert docs[0].body["extra"] is docs[0].body["metadata"]
    docs = yamlio.load_manifests(text, "a.yaml")
    assert docs[0].body["extra"] is docs[0].body["metadata"]


def test_a_bad_text_fails_every_time_with_its_own_file_name():
    bad = "a: [1\n"
    for origin in ("one.yaml", "two.yaml"):
        with pytest.raises(InputError) as caught:
            yamlio.load_manifests(bad, origin)
        assert caught.value.file == origin


def _pod(image: str, extra: dict | None = None) -> KubeObject:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ray"},
            "spec": {"containers": [{"name": "c", "image": image, **(extra or {})}]}}
    return objects_from_text(yamlio_dump(body), "p.yaml")[0]


def yamlio_dump(body: dict) -> str:
    import yaml

    return yaml.safe_dump(body, sort_keys=False)


def test_schema_results_are_reused_only_for_the_same_content():
    crds = CustomResourceSchemas()
    schemas = ObjectSchemas("1.33", crds)
    good = _pod("ray:2.52.0")
    assert list(schemas.check(good)) == []
    bad = _pod("ray:2.52.0", {"ports": [{"containerPort": "eighty"}]})
    first = list(schemas.check(bad))
    assert first and all(v.policy == "kubernetes-schema" for v in first)
    again = list(ObjectSchemas("1.33", crds).check(copy.deepcopy(bad)))
    assert again == first
    typed = _pod("ray:2.52.0", {"ports": [{"containerPort": 80}]})
    assert list(schemas.check(typed)) == []  # same shape, another value: checked, not reused
    assert len(crds.results) == 3
