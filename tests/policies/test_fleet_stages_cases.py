"""fleet-stage-order and fleet-stage-per-region on small committed hub exports: no delivery, an
export that is not there, strategies of other names or of the same name twice, a wave that goes
back inside a mixed stage, and a shared member with no stage."""

from __future__ import annotations

from pathlib import Path

from rayfleet.findings import SourceLocation
from rayfleet.fleet import load_fleet
from rayfleet.policies.base import FleetView
from rayfleet.policies.fleet_stage_order import POLICY as STAGE_ORDER  # fleet-stage-order
from rayfleet.policies.fleet_stage_per_region import POLICY as PER_REGION  # fleet-stage-per-region

DELIVERY = """\
delivery:
  source: {kind: OCIRepository, url: "oci://acr.azurecr.io/charts/ray-aks", ref: {tag: 0.1.0}, provider: azure}
  exports: {fleetManager: hub}
"""


def fleet_file(tmp_path: Path, *, delivery: bool = True, members: tuple[str, ...] = ("m1", "m2", "m3"),
               waves: tuple[int, ...] = (1, 2, 3)) -> Path:
    (tmp_path / "chart").mkdir(exist_ok=True)
    regions = "".join(
        f"  - name: r{i}\n    location: westus3\n    cluster: {{name: aks-r{i}, kubernetesVersion: '1.33'}}\n"
        f"    valuesFiles: []\n    fleetMember: {m}\n    wave: {w}\n"
        for i, (m, w) in enumerate(zip(members, waves, strict=True), start=1))
    text = ("apiVersion: rayfleet.dev/v1\nchart: chart\nrelease: {name: ray, namespace: ray}\n"
            + (DELIVERY if delivery else "") + "regions:\n" + regions)
    (tmp_path / "fleet.yaml").write_text(text)
    return tmp_path / "fleet.yaml"


def stage(name: str, *members: str, approval: bool = True) -> str:
    tasks = "    afterStageTasks: [{type: Approval}]\n" if approval else ""
    return (f"  - name: {name}\n    labelSelector:\n      matchExpressions:\n"
            f"      - {{key: fleet.azure.com/member-name, operator: In, values: [{', '.join(members)}]}}\n{tasks}")


def strategy(name: str, *stages: str) -> str:
    return (f"apiVersion: placement.kubernetes-fleet.io/v1beta1\nkind: ClusterStagedUpdateStrategy\n"
            f"metadata: {{name: {name}}}\nspec:\n  stages:\n{''.join(stages)}")


def hub(tmp_path: Path, *strategies: str) -> None:
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / ".rayfleet-export").write_text("kind: fleet-manager\n")
    (tmp_path / "hub" / "strategy.yaml").write_text("---\n".join(strategies))


def run(policy, fleet_path: Path):
    view = FleetView(load_fleet(fleet_path), {})
    return [(v.message, v.obj.name if v.obj else None, v.path, v.region, v.source) for v in policy.check(view)]


def test_a_fleet_without_delivery_is_not_judged(tmp_path):
    path = fleet_file(tmp_path, delivery=False)
    assert run(STAGE_ORDER, path) == [] and run(PER_REGION, path) == []


def test_a_missing_export_is_reported_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths in messages are shown relative to the working directory
    path = fleet_file(tmp_path)
    assert run(STAGE_ORDER, path) == []
    assert run(PER_REGION, path) == [
        ("committed export hub not found: run rayfleet export fleet-manager --out hub", None,
         "delivery.exports.fleetManager", None, None)]


def test_only_the_strategy_the_fleet_names_is_judged(tmp_path):
    path = fleet_file(tmp_path)
    good = strategy("rayfleet-waves", stage("w1", "m1"), stage("w2", "m2"), stage("w3", "m3"))
    bad = strategy("other", stage("w3", "m3", approval=False), stage("w1", "m1"), stage("w2", "m1", "m2"))
    hub(tmp_path, bad, good)
    assert run(STAGE_ORDER, path) == [] and run(PER_REGION, path) == []


def test_exactly_one_strategy_of_the_name(tmp_path):
    path = fleet_file(tmp_path)
    one = strategy("rayfleet-waves", stage("w1", "m1"), stage("w2", "m2"), stage("w3", "m3"))
    hub(tmp_path, one, one.replace("{name: rayfleet-waves}", "{name: rayfleet-waves, namespace: x}"))
    assert run(PER_REGION, path) == [
        ("the hub export has 2 ClusterStagedUpdateStrategy named 'rayfleet-waves' (expected one)", None,
         "delivery.fleetManager.strategy", None, None)]


def test_no_strategy_of_the_name(tmp_path):
    path = fleet_file(tmp_path)
    hub(tmp_path, strategy("other", stage("w1", "m1", "m2", "m3")))
    assert run(PER_REGION, path) == [
        ("the hub export has 0 ClusterStagedUpdateStrategy named 'rayfleet-waves' (expected one)", None,
         "delivery.fleetManager.strategy", None, None)]


def test_a_mixed_stage_whose_first_wave_goes_back(tmp_path):
    path = fleet_file(tmp_path)
    hub(tmp_path, strategy("rayfleet-waves", stage("s1", "m2"), stage("s2", "m2", "m3"), stage("s3", "m1")))
    source = SourceLocation(str(tmp_path / "hub" / "strategy.yaml"), 1)
    assert run(STAGE_ORDER, path) == [
        ("stage s2 mixes waves 2, 3", "rayfleet-waves", "spec.stages[1]", None, source),
        ("stage s2 (wave 2) runs after stage s1 (wave 2): stages must follow the waves in ascending order",
         "rayfleet-waves", "spec.stages[1]", None, source),
        ("stage s3 (wave 1) runs after stage s2 (wave 3): stages must follow the waves in ascending order",
         "rayfleet-waves", "spec.stages[2]", None, source)]


def test_a_shared_member_is_reported_once_even_with_no_stage(tmp_path):
    path = fleet_file(tmp_path, members=("m1", "m1", "m3"))
    hub(tmp_path, strategy("rayfleet-waves", stage("w3", "m3")))
    assert [(m, region, p) for m, _, p, region, _ in run(PER_REGION, path)] == [
        ("region 'r1' shares Fleet Manager member 'm1' with r2: each region needs its own member cluster", "r1",
         "regions[0].fleetMember"),
        ("region 'r2' shares Fleet Manager member 'm1' with r1: each region needs its own member cluster", "r2",
         "regions[1].fleetMember")]
