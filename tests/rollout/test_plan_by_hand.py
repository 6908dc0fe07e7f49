"""The rollout plan (plan.py) worked out by hand: whether a release installs the KubeRay operator
(its rendered Deployment, its values, the chart's default), the RayCluster a region waits for,
and the order of regions and waves."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rayfleet.findings import SourceLocation
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import KubeObject
from rayfleet.plan import build_plan, operator_enabled, plan_region, waves
from rayfleet.subjects import ReleaseObjects
from rayfleet.values import ValuesStack, load_values_file


def _fleet(tmp_path: Path, chart_values: str | None, waves_by_region: dict[str, int]) -> Path:
    chart = tmp_path / "chart"
    chart.mkdir(parents=True)
    if chart_values is not None:
        (chart / "values.yaml").write_text(chart_values)
    regions = "".join(f"""  - name: {name}
    location: {name}
    wave: {wave}
    cluster: {{name: aks-{name}, kubernetesVersion: "1.33"}}
    valuesFiles: []
""" for name, wave in waves_by_region.items())
    (tmp_path / "fleet.yaml").write_text(f"""apiVersion: rayfleet.dev/v1
chart: ./chart
release: {{name: ray, namespace: ray}}
regions:
{regions}""")
    return tmp_path / "fleet.yaml"


def _obj(kind: str, name: str, *, api: str = "apps/v1", labels: dict | None = None) -> KubeObject:
    meta: dict = {"name": name, "namespace": "ray"}
    if labels is not None:
        meta["labels"] = labels
    return KubeObject({"apiVersion": api, "kind": kind, "metadata": meta}, SourceLocation("m.yaml", 1))


def _release(objects=(), values_text: str | None = None, tmp_path: Path | None = None) -> ReleaseObjects:
    values = None
    if values_text is not None:
        assert tmp_path is not None
        path = tmp_path / "values.yaml"
        path.write_text(values_text)
        values = ValuesStack([load_values_file(path)])
    return ReleaseObjects(tuple(objects), PolicySettings(), "1.33", values=values)


@pytest.mark.parametrize(("objects", "expected"), [
    ([_obj("Deployment", "op", labels={"app.kubernetes.io/name": "kuberay-operator"})], True),  # by its label
    ([_obj("Deployment", "ray-kuberay-operator")], True),                                      # by its name
    ([_obj("Deployment", "web", labels={"app.kubernetes.io/name": "web"})], False),
    ([_obj("Deployment", "web", labels=["not", "a", "map"])], False),  # type: ignore[list-item]
    ([_obj("ConfigMap", "kuberay-operator", api="v1")], False),       # only a Deployment is the operator
])
def test_a_rendered_operator_deployment_decides(objects, expected):
    assert operator_enabled(_release(objects), None) is expected


@pytest.mark.parametrize(("values_text", "expected"), [
    ("kuberay-operator:\n  enabled: true\n", True),
    ("kuberay-operator:\n  enabled: false\n", False),
    ("kuberay-operator:\n  enabled: 'true'\n", False),  # only the boolean true installs it
])
def test_the_release_values_decide_over_the_chart_default(tmp_path, values_text, expected):
    fleet = load_fleet(_fleet(tmp_path, "kuberay-operator:\n  enabled: true\n", {"r": 1}))
    chart_says_no = load_fleet(_fleet(tmp_path / "no", "kuberay-operator:\n  enabled: false\n", {"r": 1}))
    for f in (fleet, chart_says_no):
        assert operator_enabled(_release(values_text=values_text, tmp_path=tmp_path), f) is expected


@pytest.mark.parametrize(("chart_values", "expected"), [
    ("kuberay-operator:\n  enabled: true\n", True),
    ("kuberay-operator:\n  enabled: false\n", False),
    ("kuberay-operator:\n  enabled: yes-please\n", False),
    ("kuberay-operator: true\n", False),   # not a block
    ("- a list\n", False),                  # not a map
    ("kuberay-operator: [\n", False),       # not YAML Helm could read: the render reports it
    (None, False),                          # no values.yaml at all
])
def test_without_a_say_in_the_release_the_chart_default_decides(tmp_path, chart_values, expected):
    fleet = load_fleet(_fleet(tmp_path, chart_values, {"r": 1}))
    # values that do not set kuberay-operator.enabled leave it to the chart
    release = _release(values_text="kuberay-operator:\n  image: {tag: v1}\n", tmp_path=tmp_path)
    assert operator_enabled(release, fleet) is expected
    assert operator_enabled(None, fleet) is expected
    assert operator_enabled(_release(), fleet) is expected  # no values at all
    assert plan_region(fleet, fleet.regions[0], _release()).apply_crds is expected


def test_no_release_and_no_fleet_means_no_operator():
    assert operator_enabled(None, None) is False


def test_the_region_waits_for_its_first_ray_io_raycluster(tmp_path):
    fleet = load_fleet(_fleet(tmp_path, None, {"r": 1}))
    release = _release([_obj("RayCluster", "elsewhere", api="other.io/v1"),
                        _obj("RayCluster", "first", api="ray.io/v1"), _obj("RayCluster", "second", api="ray.io/v1")])
    plan = plan_region(fleet, fleet.regions[0], release)
    assert (plan.raycluster, plan.anyscale, plan.release, plan.namespace, plan.name, plan.wave) == (
        "first", None, "ray", "ray", "r", 1)
    assert plan_region(fleet, fleet.regions[0], None).raycluster is None
    other_group = _release([_obj("RayCluster", "x", api="other.io/v1")])
    assert plan_region(fleet, fleet.regions[0], other_group).raycluster is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.timeout = 1  # type: ignore[misc]


def test_regions_are_planned_by_wave_then_fleet_order(tmp_path):
    fleet = load_fleet(_fleet(tmp_path, None, {"c": 2, "a": 1, "d": 3, "b": 2, "e": 1}))
    plans = build_plan(fleet)
    assert [(p.name, p.wave) for p in plans] == [("a", 1), ("e", 1), ("c", 2), ("b", 2), ("d", 3)]
    assert [(wave, [p.name for p in group]) for wave, group in waves(plans)] == [
        (1, ["a", "e"]), (2, ["c", "b"]), (3, ["d"])]
    assert [p.name for p in build_plan(fleet, ["d", "c"])] == ["c", "d"]


def test_the_anyscale_operator_and_the_region_release_as_commands(tmp_path):
    from rayfleet.plan import format_command, helm_command, plan_operator

    path = _fleet(tmp_path, None, {"r": 1})
    text = path.read_text().replace(
        "    valuesFiles: []\n",
        "    valuesFiles: []\n    cluster: {name: aks-r, kubernetesVersion: '1.33', kubeContext: ctx-r}\n"
        "    anyscale: {chart: ./op, version: 1.8.0, release: {name: op, namespace: anyscale}}\n")
    text = text.replace("    cluster: {name: aks-r, kubernetesVersion: \"1.33\"}\n", "", 1)
    path.write_text(text)
    (tmp_path / "op").mkdir()
    fleet = load_fleet(path)
    region = fleet.regions[0]
    operator = plan_operator(fleet, region, timeout=42, atomic=False, kubeconfig="/k")
    assert operator is not None and operator.name == "r" and operator.version == "1.8.0"
    assert operator.kube_context == "ctx-r"
    chart = fleet.relative(fleet.chart)
    op_chart = fleet.relative(tmp_path / "op")
    # what a person would run: release, chart, namespace, then the flags in upgrade_args' order
    assert operator.command(helm="/bin/helm") == [
        "/bin/helm", "upgrade", "--install", "op", op_chart, "--namespace", "anyscale", "--create-namespace",
        "--wait", "--timeout", "42s", "--kube-context", "ctx-r", "--kubeconfig", "/k"]
    assert operator.helm_args(helm4=True)[-3:] == ["--wait", "--timeout", "42s"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        operator.timeout = 1  # type: ignore[misc]
    assert plan_region(fleet, region).anyscale == plan_operator(fleet, region)
    assert helm_command(fleet, region, timeout=7) == [
        "helm", "upgrade", "--install", "ray", chart, "--namespace", "ray", "--create-namespace", "--atomic",
        "--wait", "--timeout", "7s", "--kube-context", "ctx-r"]
    assert format_command(["helm", "a b", "c"]) == "helm 'a b' c"
