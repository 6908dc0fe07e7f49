"""Smoke tests for the benchmark harness (benchmarks/): the generated fleet is valid and distinct
per region, and the results writer produces the documented columns. No timing assertions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import validate_fleet

from benchmarks.corpus import CLASSES, Detection, checkov_failures, rayfleet_failures, score
from benchmarks.generate import generate_fleet
from benchmarks.measure import Measurement, profile_stages
from benchmarks.report import (
    CHECKOV,
    RENDER,
    TABLE_COLUMNS,
    VALIDATE,
    VALIDATE_1,
    VERSION,
    Results,
    evaluate_targets,
    render_markdown,
    results_table,
    stage_table,
)
from benchmarks.schema_cost import SchemaCost


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_fleet(tmp_path_factory.mktemp("fleet"), 2)


def test_generated_fleet_has_distinct_regions(two_regions):
    regions = load_fleet(two_regions).regions
    assert len(regions) == 2
    for attribute in (lambda r: r.name, lambda r: r.cluster.name, lambda r: r.identities[0].client_id,
                      lambda r: r.storage_account, lambda r: r.values_files[-1]):
        assert len({attribute(r) for r in regions}) == 2
    groups = [yaml.safe_load(r.values_files[-1].read_text())["ray-cluster"]["workerGroups"] for r in regions]
    assert groups[0] != groups[1]
    assert Path(yaml.safe_load(two_regions.read_text())["chart"]).is_absolute()


def test_generated_fleet_validates(two_regions):
    result = validate_fleet(two_regions)
    summaries = {r.name: r for r in result.regions}
    assert len(summaries) == 2
    assert all(s.rendered and s.objects > 0 for s in summaries.values())
    blocking = [f for f in result.counting() if f.policy in ("render-error", "values-schema")]
    assert not blocking, [f.message for f in blocking]


def _fake_results() -> Results:
    measurements = []
    for regions in (3, 30):
        for tool, wall in ((VALIDATE, 0.02 * regions + 0.5), (RENDER, 0.01 * regions + 0.3), (CHECKOV, 0.1 * regions)):
            m = Measurement(tool, regions, regions * 5, wall=[wall, wall * 1.1, wall * 0.9], cpu=[wall] * 3,
                            rss_mb=[100.0, 101.0, 102.0], returncodes=[0, 0, 0])
            if tool == VALIDATE:
                m.stage_runs = [{"load": 0.01, "render": 0.2, "schemas": 0.1, "policies": 0.05, "merge": 0.001}] * 3
            measurements.append(m)
    results = Results({"CPU": "test"}, {"python": "3"}, 3, measurements, crds=None)
    results.schema_cost = SchemaCost(10, 2, 100.0, 150.0, 500.0, 3000.0)
    planted = {CLASSES[0].id: {"no-literal-credentials"}}
    results.detection = score({"rayfleet": (planted, {}), CHECKOV: ({}, {})})
    results.detection_tools = ["rayfleet", CHECKOV]
    return results


def test_results_table_columns():
    table = results_table(_fake_results().measurements)
    header, _rule, *rows = table.splitlines()
    assert [c.strip() for c in header.strip("|").split("|")] == list(TABLE_COLUMNS)
    assert len(rows) == 6
    assert all(len(r.strip("|").split("|")) == len(TABLE_COLUMNS) for r in rows)
    assert rows[0].startswith("| rayfleet validate | 3 |")


def test_stage_table_and_markdown():
    results = _fake_results()
    stages = stage_table(results.measurements)
    assert "render (s)" in stages and "outside stages (s)" in stages
    text = render_markdown(results)
    for heading in ("## Targets", "## Wall time, CPU and memory", "## Object schema checks, per object",
                    "## Detection: planted credentials and misconfigurations"):
        assert heading in text
    targets = {t.name: t for t in evaluate_targets(results)}
    # validate 1.1 s against checkov's 3.0 s at 30 regions: 0.37x, over the 0.2x target
    assert targets["30 regions: rayfleet validate ≤ 0.2 x checkov's wall time"].met is False
    assert targets["300 regions: rayfleet validate ≤ 0.1 x checkov's wall time"].met is None
    # marginal 3→30: validate 20 ms a region, render 10 ms: 2x the floor
    floor = targets["per-region cost (one process) ≤ 1.5 x the Helm render floor"]
    assert floor.met is False and floor.measured.startswith("2.00 x")
    assert targets["1,000 regions ≤ 15 s and ≤ 300 MB peak RSS (one process)"].met is None


def test_targets_met_and_pool_compared():
    results = _fake_results()
    for regions, single, pooled in ((30, 0.6, 0.6), (300, 3.0, 1.7)):
        for tool, wall in ((VALIDATE_1, single), (VALIDATE, pooled), (RENDER, single / 1.2),
                           (CHECKOV, single * 12)):
            results.measurements = [m for m in results.measurements if (m.tool, m.regions) != (tool, regions)]
            results.measurements.append(Measurement(tool, regions, regions * 5, wall=[wall], rss_mb=[100.0]))
    results.identical[300] = True
    results.measurements.append(Measurement(VERSION, 0, 0, wall=[0.06], rss_mb=[30.0]))
    targets = {t.name: t for t in evaluate_targets(results)}
    assert targets["300 regions: rayfleet validate ≤ 0.1 x checkov's wall time"].met is True
    assert targets["per-region cost (one process) ≤ 1.5 x the Helm render floor"].met is True
    pool = next(t for t in targets.values() if t.name.startswith("300 regions on"))
    assert pool.met is True and "identical" in pool.measured
    results.identical[300] = False
    pool = next(t for t in evaluate_targets(results) if t.name.startswith("300 regions on"))
    assert pool.met is False and "DIFFERENT" in pool.measured
    assert targets["`rayfleet --version` ≤ 0.25 s"].met is True
    assert targets["`rayfleet --help` ≤ 0.25 s"].met is None
    assert "rayfleet --version" in render_markdown(results)


def test_detection_scoring_uses_the_control():
    per_tool = {"tool": ({"a": {"X", "Y"}, "b": {"X"}}, {"a": {"X"}, "b": {"X"}})}
    rows: list[Detection] = score(per_tool)
    by_id = {r.cls.id: r for r in rows}
    assert len(rows) == len(CLASSES)
    assert all(not r.found["tool"] for r in by_id.values())  # the fake IDs are no class names
    checkov = checkov_failures([{"check_type": "secrets", "results": {"failed_checks": [
        {"check_id": "CKV_SECRET_2", "file_path": "/jwt-raycluster-env.yaml"}]}}, {"passed": 0}])
    assert checkov == {"jwt-raycluster-env": {"CKV_SECRET_2"}}
    rayfleet = rayfleet_failures({"findings": [{"policy": "p", "object": {"name": "sas-token-args"}, "source": None}]})
    assert rayfleet == {"sas-token-args": {"p"}}


def test_profile_parser():
    stderr = ("profile (seconds per stage, summed over regions):\n  load           22.8 ms    3.8%\n"
              "  render         59.8 ms    9.9%\n  total         602.0 ms\n")
    assert profile_stages(stderr) == {"load": 0.0228, "render": 0.0598}
