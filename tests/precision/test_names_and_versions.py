"""Small facts the precision fixes rest on: generated names, Ray versions from image tags, moving tags."""

from __future__ import annotations

import pytest
from rayfleet.manifests import objects_from_text
from rayfleet.pipeline import scan_manifests
from rayfleet.policies._helpers import ray_version_of_image, strip_variants
from rayfleet.policies.image_pinned import moving_tag


@pytest.mark.parametrize(("image", "version"), [
    ("rayproject/ray:2.52.0-py311-gpu", "2.52.0"),
    ("rayproject/ray-ml:2.9.3-py310-cu121", "2.9.3"),
    ("myacr.azurecr.io/rayproject/ray:2.52.0", "2.52.0"),  # a mirror keeps the name
    ("anyscale/ray:2.40.0-slim-py312-cu128", "2.40.0"),
    ("rayproject/ray:nightly", "nightly"),
    ("rayproject/ray:nightly-gpu", "nightly"),
    ("rayproject/ray:nightly-py311-cu121", "nightly"),
    ("example.io/team/llm:py3.12-ray2.55.1-cuda13.0", "2.55.1"),  # the tag says which Ray
    ("hiyouga/verl:ngc-th2.6.0-cu126-vllm0.8.4", None),  # PyTorch 2.6, not Ray
    ("myorg/train:1.2.3", None),  # not a Ray image: its version is not Ray's
    ("rayproject/ray", None),
])
def test_ray_version_of_image(image: str, version: str | None) -> None:
    assert ray_version_of_image(image) == version


@pytest.mark.parametrize(("tag", "moving"), [
    ("nightly", True), ("nightly-gpu", True), ("nightly-py311-cu121", True), ("alpine", True),
    ("stable", True), ("2.52.0", False), ("2.52.0-py311-gpu", False), ("v1.7.0", False),
    ("1.37", False), ("nightly-2025-11-30", False),
])
def test_moving_tags(tag: str, moving: bool) -> None:
    assert moving_tag(tag) is moving


def test_variants_stripped_from_the_end_only() -> None:
    assert strip_variants("2.52.0-py311-cu121-gpu") == "2.52.0"
    assert strip_variants("gpu-nightly") == "gpu-nightly"


RAYJOB = """apiVersion: ray.io/v1
kind: RayJob
metadata: {generateName: rayjob-sample-}
spec:
  entrypoint: python sample.py
  rayClusterSpec:
    headGroupSpec:
      rayStartParams: {}
      template:
        spec:
          containers: [{name: ray-head, image: "rayproject/ray:2.52.0"}]
"""


def test_generated_names_are_shown_as_prefix_and_star(tmp_path) -> None:
    obj = objects_from_text(RAYJOB, "job.yaml")[0]
    assert (obj.name, obj.generate_name) == ("rayjob-sample-*", "rayjob-sample-")
    manifest = tmp_path / "job.yaml"
    manifest.write_text(RAYJOB)
    findings = scan_manifests([str(manifest)]).findings
    assert findings and all(f.obj is None or f.obj.name == "rayjob-sample-*" for f in findings)
    assert not any("''" in f.message for f in findings)
