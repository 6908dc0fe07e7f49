"""values.schema.json: typed, closed, and rejecting bad values with a clear message."""

from __future__ import annotations

import json
from typing import Any

import helm_python
import jsonschema
import pytest

from .chartkit import CHART_DIRS, SUBCHARTS, UMBRELLA, fold, load_yaml, region_layers


def schema_of(chart_dir) -> dict[str, Any]:
    return json.loads((chart_dir / "values.schema.json").read_text(encoding="utf-8"))


def rejected(chart, values: dict[str, Any]) -> str:
    with pytest.raises(helm_python.HelmValuesError) as info:
        chart.validate_schema(chart.merge_values(values))
    return str(info.value)


def example(extra: dict[str, Any]) -> dict[str, Any]:
    return fold([*region_layers("eastus2"), extra])


@pytest.mark.parametrize("chart_dir", CHART_DIRS, ids=lambda p: p.name)
def test_schema_is_draft07_and_closed(chart_dir):
    schema = schema_of(chart_dir)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("chart_dir", CHART_DIRS, ids=lambda p: p.name)
def test_defaults_and_ci_values_are_schema_valid_shapes(chart_dir):
    """Every default validates, except the required-after-fallback identity/storage values."""
    validator = jsonschema.Draft7Validator(schema_of(chart_dir))
    errors = [e for e in validator.iter_errors(load_yaml(chart_dir / "values.yaml")) if e.validator != "minLength"]
    assert errors == []


def test_global_block_is_identical_in_every_chart():
    blocks = {d.name: schema_of(d)["properties"]["global"] for d in CHART_DIRS}
    assert all(block == blocks["ray-aks"] for block in blocks.values())


def test_umbrella_defers_component_blocks_to_the_subchart_schemas():
    props = schema_of(UMBRELLA)["properties"]
    for name in SUBCHARTS:
        assert set(props[name]["properties"]) == {"enabled"}, name
        assert "additionalProperties" not in props[name], name
        sub = schema_of(UMBRELLA / "charts" / name)
        assert sub["properties"]["enabled"]["type"] == "boolean"
    operator = props["kuberay-operator"]
    assert operator["properties"]["enabled"] == {"type": "boolean", "description": "Install the KubeRay operator"}
    assert "additionalProperties" not in operator  # upstream keys pass through


def test_example_regions_are_valid(chart):
    for region in ("eastus2", "swedencentral", "westus3"):
        chart.validate_schema(chart.merge_values(fold(region_layers(region))))


def test_operator_block_passes_upstream_keys_but_types_enabled(chart):
    chart.validate_schema(chart.merge_values(example({"kuberay-operator": {"image": {"tag": "v1.7.0"}}})))
    message = rejected(chart, example({"kuberay-operator": {"enabled": "yes"}}))
    assert "at '/kuberay-operator/enabled': got string, want boolean" in message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"ray-cluster": {"head": {"cpu": True}}}, "at '/head/cpu': got boolean, want integer or string"),
        (
            {"ray-cluster": {"workerGroups": {"gpu": {"maxReplicas": "8"}}}},
            "at '/workerGroups/gpu/maxReplicas': got string, want integer",
        ),
        (
            {"ray-cluster": {"workerGroups": {"gpu": {"gpus": 2}}}},
            "at '/workerGroups/gpu': additional properties 'gpus' not allowed",
        ),
        (
            {"ray-cluster": {"workerGroups": {"new": {"gpusPerPod": 1}}}},
            "at '/workerGroups/new': missing properties 'vmSize', 'cpu', 'memory', 'maxReplicas'",
        ),
        ({"ray-cluster": {"workerGroups": {"Bad_Name": {}}}}, "invalid propertyName 'Bad_Name'"),
        ({"ray-cluster": {"image": {"tag": "latest"}}}, "at '/image/tag': 'not' failed"),
        ({"ray-cluster": {"image": {"tag": ""}}}, "at '/image/tag': minLength: got 0, want 1"),
        ({"ray-cluster": {"imageTag": "2.52.0"}}, "additional properties 'imageTag' not allowed"),
        (
            {"ray-cluster": {"autoscaling": {"upscalingMode": "Fast"}}},
            "at '/autoscaling/upscalingMode': value must be one of",
        ),
        (
            {"global": {"azure": {"clientId": "not-a-guid"}}},
            "at '/global/azure/clientId': 'not-a-guid' does not match pattern",
        ),
        (
            {"global": {"storage": {"account": "Ray-Data"}}},
            "at '/global/storage/account': 'Ray-Data' does not match pattern",
        ),
        (
            {"global": {"storage": {"container": "-bad"}}},
            "at '/global/storage/container': '-bad' does not match pattern",
        ),
        ({"global": {"subscription": "x"}}, "at '/global': additional properties 'subscription' not allowed"),
        (
            {"blob-storage": {"persistentVolumeClaim": {"accessMode": "ReadWriteOnce"}}},
            "at '/persistentVolumeClaim/accessMode': value must be 'ReadWriteMany'",
        ),
        (
            {"blob-storage": {"storageClass": {"parameters": {"secretName": "azure-storage-account-x-secret"}}}},
            "at '/storageClass': additional properties 'parameters' not allowed",
        ),
        (
            {"blob-storage": {"storageClass": {"extraParameters": {"storeAccountKey": "true"}}}},
            "at '/storageClass': additional properties 'extraParameters' not allowed",
        ),
        ({"blob-storage": {"secretName": "x"}}, "additional properties 'secretName' not allowed"),
        ({"blob-storage": {"cache": {"mode": "stream"}}}, "at '/cache/mode': value must be one of 'file', 'block'"),
        (
            {"blob-storage": {"persistentVolume": {"volumeHandle": "rg#acct#c#ns#secretns"}}},
            "at '/persistentVolume/volumeHandle': 'rg#acct#c#ns#secretns' does not match pattern",
        ),
        (
            {"workload-identity": {"serviceAccounts": {"ray": {"clientId": "1234"}}}},
            "at '/serviceAccounts/ray/clientId': '1234' does not match pattern",
        ),
        (
            {"workload-identity": {"serviceAccounts": {"ray": {"tokenExpiration": 600}}}},
            "at '/serviceAccounts/ray/tokenExpiration'",
        ),
        ({"workload-identity": {"enabled": "true"}}, "at '/workload-identity/enabled': got string, want boolean"),
    ],
    ids=lambda v: json.dumps(v)[:60] if isinstance(v, dict) else None,
)
def test_schema_rejects_with_a_clear_message(chart, override, expected):
    assert expected in rejected(chart, example(override))


def test_identity_and_storage_are_required_after_the_global_fallback(chart):
    values = example({"global": {"azure": {"clientId": ""}, "storage": {"account": ""}}})
    message = rejected(chart, values)
    assert "blob-storage:\n" in message and "at '/storageAccount': minLength: got 0, want 1" in message
    assert "at '/clientId': minLength: got 0, want 1" in message
    assert "workload-identity:\n" in message
    # a chart's own value satisfies it
    ok = fold(
        [
            values,
            {
                "blob-storage": {"storageAccount": "rayfleetother", "clientId": "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"},
                "workload-identity": {"serviceAccounts": {
                    "ray": {"clientId": "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"},
                    "ray-worker": {"clientId": "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"}}},
            },
        ]
    )
    chart.validate_schema(chart.merge_values(ok))


def test_render_applies_the_schema(render):
    with pytest.raises(helm_python.HelmValuesError, match="value must be 'ReadWriteMany'"):
        render(*region_layers("eastus2"), {"blob-storage": {"persistentVolumeClaim": {"accessMode": "ReadWriteOnce"}}})
