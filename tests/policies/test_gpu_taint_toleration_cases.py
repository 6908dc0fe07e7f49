"""gpu-taint-toleration: Kubernetes' toleration matching rule by rule, the declared and the default
taint (with and without a value), and the whole finding with its severity."""

from __future__ import annotations

import pytest
from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies.gpu_taint_toleration import POLICY, tolerates
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

SKU = ("sku", "gpu", "NoSchedule")
NVIDIA = ("nvidia.com/gpu", "", "NoSchedule")


@pytest.mark.parametrize(("tolerations", "taint", "expected"), [
    ([], SKU, False),
    ([{"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}], SKU, True),
    ([{"key": "sku", "value": "gpu"}], SKU, True),  # no operator: Equal; no effect: every effect
    ([{"key": "sku", "operator": "", "value": "gpu", "effect": ""}], SKU, True),
    ([{"key": "sku", "value": "gpu", "effect": "NoExecute"}], SKU, False),
    ([{"key": "sku", "operator": "Exists"}], SKU, True),
    ([{"key": "sku", "operator": "Exists", "effect": "PreferNoSchedule"}], SKU, False),
    ([{"operator": "Exists"}], SKU, True),  # no key with Exists: every taint
    ([{"operator": "Exists", "effect": "NoExecute"}], SKU, False),
    ([{"value": "gpu"}], SKU, False),  # no key, Equal: matches nothing
    ([{"key": "", "value": "gpu"}], ("", "gpu", "NoSchedule"), False),  # not even a taint with an empty key
    ([{"key": "other", "operator": "Exists"}], SKU, False),
    ([{"key": "sku", "value": "cpu"}], SKU, False),
    ([{"key": "sku"}], SKU, False),
    ([{"key": "other", "value": "gpu"}, {"key": "sku", "value": "gpu"}], SKU, True),
    ([{"value": "gpu"}, {"operator": "Exists"}], SKU, True),
    (["not-a-map", {"key": "sku", "operator": "Exists"}], SKU, True),
    ([{"key": "nvidia.com/gpu"}], NVIDIA, True),  # a taint with no value: Equal to the empty value
    ([{"key": "nvidia.com/gpu", "value": "present"}], NVIDIA, False),
])
def test_tolerates(tolerations, taint, expected):
    assert tolerates(tolerations, taint) is expected


POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: ray}}
spec:
  tolerations: {tolerations}
  containers:
  - {{name: c, image: 'i:1', resources: {{limits: {{nvidia.com/gpu: {gpus}}}}}}}
"""


def run(settings: PolicySettings, *pods: tuple[str, str, int]):
    text = "---\n".join(POD.format(name=n, tolerations=t, gpus=g) for n, t, g in pods)
    release = ReleaseObjects(objects=tuple(objects_from_text(text, "m.yaml")), settings=settings, kube_version="1.33")
    return [(f.policy, f.severity, f.obj, f.path, f.message, f.source.line) for f in check([POLICY], release)]


def test_default_taint_is_a_warning():
    found = run(PolicySettings(), ("gpu", "[]", 1), ("cpu", "[]", 0), ("ok", "[{key: sku, operator: Exists}]", 2))
    assert found == [("gpu-taint-toleration", Severity.WARNING, ObjectRef("v1", "Pod", "ray", "gpu"),
                      "spec.tolerations",
                      "Pod 'gpu' uses GPUs but does not tolerate the AKS GPU taint sku=gpu:NoSchedule (the fleet file "
                      "declares no policy.gpuTaint)", 1)]


def test_declared_taint_is_an_error_and_shown_without_an_empty_value():
    settings = PolicySettings(gpu_taint=NVIDIA)
    found = run(settings, ("ok", "[{key: nvidia.com/gpu}]", 1), ("gpu", "[{key: sku, operator: Exists}]", 1))
    assert found == [("gpu-taint-toleration", Severity.ERROR, ObjectRef("v1", "Pod", "ray", "gpu"),
                      "spec.tolerations",
                      "Pod 'gpu' uses GPUs but does not tolerate the GPU node taint nvidia.com/gpu:NoSchedule", 9)]
    valued = run(PolicySettings(gpu_taint=("pool", "a100", "NoExecute")), ("gpu", "[]", 1))
    assert [m for *_, m, _ in valued] == ["Pod 'gpu' uses GPUs but does not tolerate the GPU node taint "
                                          "pool=a100:NoExecute"]
