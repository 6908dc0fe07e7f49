"""The chart ships the same admission policies as `rayfleet policies export`, from one source."""

from __future__ import annotations

import json

import pytest
from rayfleet.admission.build import AdmissionOptions, admission_objects
from rayfleet.admission.chart_file import RELATIVE, chart_file_text
from rayfleet.admission.evaluate import admit, pair_policies
from rayfleet.admission.twins import TWINS
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.pipeline import render_fleet, validate_fleet

from ..charts.chartkit import NAMESPACE, RELEASE, UMBRELLA, fold, region_layers, render_values

KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


def test_generated_file_is_current() -> None:
    assert (UMBRELLA / RELATIVE).read_text(encoding="utf-8") == chart_file_text(), (
        "charts/ray-aks/charts/admissionPolicies/files/policies.yaml is stale: regenerate it with "
        "`python -m rayfleet.admission.chart_file charts/ray-aks`")


def _values(admission: dict) -> dict:
    """A region's values (the chart needs storage and identity) with these admissionPolicies values
    over the chart's defaults (the example sets the fleet's settings)."""
    defaults = {"allowedRegistries": [], "gpuTaint": {"key": "", "value": "", "effect": "NoSchedule"}}
    return fold([*region_layers("eastus2"), {"admissionPolicies": defaults}, {"admissionPolicies": admission}])


def _rendered(admission: dict) -> list[dict]:
    return [obj for _, obj in render_values(_values(admission)).objects if obj.get("kind") in KINDS]


def _comparable(objects: list[dict]) -> list[tuple]:
    return sorted((o["kind"], o["metadata"]["name"], o["metadata"]["annotations"]["rayfleet.io/severity"],
                   json.dumps(o["spec"], sort_keys=True)) for o in objects)


SETTINGS = [
    ({}, {}, "Deny"),
    ({"allowedRegistries": ["MyACR.azurecr.io", "docker.io/rayproject/", "mcr.microsoft.com/oss"],
      "gpuTaint": {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}},
     {"allowedRegistries": ["MyACR.azurecr.io", "docker.io/rayproject/", "mcr.microsoft.com/oss"],
      "gpuTaint": {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}}, "Warn"),
]


@pytest.mark.parametrize(("fleet_policy", "chart_values", "mode"), SETTINGS, ids=["defaults", "settings-warn"])
def test_chart_objects_equal_the_export(fleet_policy: dict, chart_values: dict, mode: str) -> None:
    chart = _rendered({**chart_values, "mode": mode})
    exported = admission_objects(PolicySettings.from_dict(fleet_policy),
                                 AdmissionOptions(namespace=NAMESPACE, mode=mode, prefix=RELEASE))
    assert len(chart) == 2 * len(TWINS)
    assert _comparable(chart) == _comparable(exported)


def test_chart_labels_every_object() -> None:
    for obj in _rendered({}):
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == "admission"


def test_opt_out_renders_none() -> None:
    assert _rendered({"enabled": False}) == []


def test_mode_warn_never_denies() -> None:
    bindings = [o for o in _rendered({"mode": "Warn"})
                if o["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert bindings and all(b["spec"]["validationActions"] == ["Warn", "Audit"] for b in bindings)


def test_gpu_taint_without_a_key_warns() -> None:
    bindings = {o["metadata"]["name"]: o for o in _rendered({})
                if o["kind"] == "ValidatingAdmissionPolicyBinding"}
    assert bindings[f"{RELEASE}-gpu-taint-toleration"]["spec"]["validationActions"] == ["Warn", "Audit"]
    assert bindings[f"{RELEASE}-no-privileged-containers"]["spec"]["validationActions"] == ["Deny"]


def test_a_bad_mode_is_refused_by_the_schema() -> None:
    with pytest.raises(Exception, match="mode"):
        render_values(_values({"mode": "Block"}))


def test_the_example_fleet_passes_its_own_admission_policies() -> None:
    # What the chart installs must be admitted by the policies it installs (else helm install
    # fails), and the validator checks the admission objects against the Kubernetes schemas.
    path = UMBRELLA.parents[1] / "examples" / "fleet.yaml"
    validated = validate_fleet(path)
    assert validated.policies and [f for f in validated.findings if f.obj and f.obj.kind in KINDS] == []
    fleet = load_fleet(path)
    for name, region in render_fleet(fleet).items():
        objects = region.release.objects
        shipped = [o.body for o in objects if o.kind in KINDS]
        assert len(shipped) == 2 * len(TWINS), name
        denials = admit(objects, pair_policies(shipped), namespace=fleet.namespace)
        assert [f"{d.obj.kind}/{d.obj.name}: {d.message}" for d in denials] == [], name
