"""`rayfleet quota` from the fleet file's figures (the live mode is in tests/azure)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from rayfleet.cli.quota import quota

from tests.capacity.builders import group, ray_cluster, region, write_fleet

H100 = "Standard_NC40ads_H100_v5"


def fleet(tmp_path, east_max):
    cluster = ray_cluster("ray", [group("h100", H100, gpus=1, cpu="36", max_replicas=east_max)])
    return write_fleet(tmp_path, [
        region("eastus2", [cluster], quota={"families": {"StandardNCadsH100v5Family": 320}, "regionalVCpus": 400},
               peers=["westus3"]),
        region("westus3", [ray_cluster("ray", [])], quota={"families": {"StandardNCadsH100v5Family": 320}},
               peers=["eastus2"]),
    ])


def test_text_shows_the_table_and_passes(tmp_path):
    # A wide terminal: the grid (tests/core/test_layout.py covers the stacked form of narrow ones).
    result = CliRunner().invoke(quota, [str(fleet(tmp_path, 8)), "--no-color"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "GPU capacity (quota: fleet file)" in result.output
    line = next(x for x in result.output.splitlines() if "eastus2" in x and "StandardNCadsH100v5Family" in x)
    cells = [c.strip() for c in line.split("│")[1:-1]]
    assert cells == ["eastus2", "StandardNCadsH100v5Family", "H100 NVL 94GB", "8", "320", "320", "100%", "0"]


def test_over_quota_exits_1_and_json_carries_the_table(tmp_path):
    result = CliRunner().invoke(quota, [str(fleet(tmp_path, 9)), "--report", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)  # the text table is not mixed into JSON on stdout
    assert [f["policy"] for f in report["findings"]] == ["gpu-quota-fit", "failover-headroom"]
    assert report["data"]["capacity"]["quotaSource"] == "fleet file"


def test_unknown_region_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(quota, [str(fleet(tmp_path, 1)), "--region", "mars"])
    assert result.exit_code == 2 and "unknown region 'mars'" in result.output
