"""rayfleet status on the command line: live against the fake AKS API, and from snapshots."""

from __future__ import annotations

import json

from click.testing import CliRunner
from rayfleet.cli import main

from tests.status.scenario import EXAMPLE_FLEET, EXAMPLE_SNAPSHOT, fake_fleet


def run(*args, **kwargs):
    return CliRunner().invoke(main, ["status", *[str(a) for a in args]], catch_exceptions=False, **kwargs)


def test_live_text_view_with_progress_on_stderr(tmp_path):
    with fake_fleet(tmp_path) as fake:
        result = run(EXAMPLE_FLEET, "--kubeconfig", fake.kubeconfig, "--save", tmp_path / "s.json")
    assert result.exit_code == 0, result.output
    table = result.stdout
    assert "fleet status: " in table and "2 healthy, 1 degraded, 1 unauthorized" in table
    assert "swedencentral (degraded)" in table and "GPU node pool a100: 2/3 nodes ready" in table
    assert "drift: values differ from plan's" in table
    # One line per region on stderr as it finishes; the view alone on stdout.
    assert "eastus2" in result.stderr and "unauthorized" in result.stderr
    saved = json.loads((tmp_path / "s.json").read_text())
    assert [r["state"] for r in saved["regions"]] == ["healthy", "degraded", "unauthorized", "healthy"]


def test_live_json_and_html_to_files(tmp_path):
    with fake_fleet(tmp_path) as fake:
        as_json = run(EXAMPLE_FLEET, "--kubeconfig", fake.kubeconfig, "--format", "json", "--region", "eastus2")
        as_html = run(EXAMPLE_FLEET, "--kubeconfig", fake.kubeconfig, "--format", "html", "--out",
                      tmp_path / "status.html")
    assert as_json.exit_code == 0 and [r["name"] for r in json.loads(as_json.stdout)["regions"]] == ["eastus2"]
    assert as_html.exit_code == 0 and as_html.stdout == ""
    page = (tmp_path / "status.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="region-westus3"' in page


def test_exit_2_only_when_no_region_answered(tmp_path):
    with fake_fleet(tmp_path) as fake:
        for cluster in fake.clusters.values():
            cluster.expired = True
        none = run(EXAMPLE_FLEET, "--kubeconfig", fake.kubeconfig, "--format", "json")
        fake.clusters["westus3"].expired = False
        one = run(EXAMPLE_FLEET, "--kubeconfig", fake.kubeconfig, "--format", "json")
    assert none.exit_code == 2
    assert none.stderr.strip().splitlines()[-1].startswith("rayfleet: error: no region answered (eastus2: unauthorized")
    assert len(json.loads(none.stdout)["regions"]) == 4  # the view is still written
    assert one.exit_code == 0


def test_watch_redraws(tmp_path):
    with fake_fleet(tmp_path) as fake:
        result = run(EXAMPLE_FLEET, "--kubeconfig", fake.kubeconfig, "--watch", "1", "--watch-count", "2")
        reads = sum(r.path.rstrip("/") == "/eastus2/version" for r in fake.server.requests)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("fleet status: ") == 2 and reads == 2


def test_from_snapshot_without_clusters(tmp_path):
    text = run("--from", EXAMPLE_SNAPSHOT)
    assert text.exit_code == 0 and "swedencentral" in text.stdout
    only = run("--from", EXAMPLE_SNAPSHOT, "--region", "westus3", "--format", "json")
    # westus3 did not answer in that snapshot: nothing answered in what is shown.
    assert only.exit_code == 2 and [r["name"] for r in json.loads(only.stdout)["regions"]] == ["westus3"]
    html = run("--from", EXAMPLE_SNAPSHOT, "--format", "html", "--out", tmp_path / "status.html")
    assert html.exit_code == 0 and "Fleet status" in (tmp_path / "status.html").read_text(encoding="utf-8")


def test_bad_usage_and_input_are_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "Nope"}')
    cases = [
        (["--from", bad], "not a rayfleet status snapshot"),
        (["--from", tmp_path / "missing.json"], "not found"),
        (["--from", EXAMPLE_SNAPSHOT, "--watch", "5"], "cannot be used with --from"),
        ([EXAMPLE_FLEET, "--watch", "5", "--format", "html"], "--watch redraws the text view"),
        (["--from", EXAMPLE_SNAPSHOT, "--out", tmp_path / "no" / "such" / "x.html"], "does not exist"),
        (["--from", EXAMPLE_SNAPSHOT, "--region", "atlantis"], "unknown region 'atlantis'"),
        ([tmp_path / "nofleet.yaml"], "fleet file not found"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rayfleet: error: ") and message in lines[0], (args, lines)
    assert not (tmp_path / "no").exists()
