"""examples/jobs/: the RayJob for the manager's queue passes `rayfleet scan --fleet examples/fleet.yaml`,
and the same job outside Kueue's Ray limits does not."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from rayfleet.cli import main

REPO = Path(__file__).resolve().parents[2]
JOBS = REPO / "examples" / "jobs"
CRDS = REPO.parent / "shared" / "crds" / "kuberay"


def scan(*paths: Path):
    result = CliRunner().invoke(main, ["scan", "--fleet", str(REPO / "examples" / "fleet.yaml"), "--crds", str(CRDS),
                                       "--report", "json", *map(str, paths)])
    return result, json.loads(result.output)


def test_the_example_job_is_accepted() -> None:
    result, report = scan(JOBS)
    assert result.exit_code == 0, result.output
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    assert report["summary"]["objects"] == 1
    job = yaml.safe_load((JOBS / "train-gpu.yaml").read_text())
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-batch"
    assert job["spec"]["shutdownAfterJobFinishes"] is True
    workers = job["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    assert workers[0]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert workers[0]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_the_job_outside_kueues_ray_limits_is_refused(tmp_path) -> None:
    job = yaml.safe_load((JOBS / "train-gpu.yaml").read_text())
    job["spec"]["shutdownAfterJobFinishes"] = False
    job["spec"]["rayClusterSpec"]["enableInTreeAutoscaling"] = True
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    result, report = scan(tmp_path / "job.yaml")
    assert result.exit_code == 1
    assert sorted(f["path"] for f in report["findings"] if f["policy"] == "kueue-ray-limits") == [
        "spec.rayClusterSpec.enableInTreeAutoscaling", "spec.shutdownAfterJobFinishes"]
