"""`rayfleet plan --lose REGION` over a rendered manager and two H100 workers (policy fixtures):
eastus2 queues 4 GPUs (quota 10 nodes, its RayCluster up to 4), westus3 2 (quota 4 nodes, RayCluster 2),
the manager admits 6."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from rayfleet.cli import main

FLEET = Path(__file__).parents[1] / "policies" / "fixtures" / "kueue-worker-quota-fit" / "pass" / "fleet.yaml"


def run(*args: str):
    return CliRunner().invoke(main, ["plan", str(FLEET), *args])


def test_losing_westus3_text() -> None:
    result = run("--lose", "westus3")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "If westus3 is lost: after workerLostTimeout (10m)" in out and "(Incremental: eastus2)" in out
    assert "eastus2 4 / 2" in out  # its queue quota / the GPUs its Azure quota has left
    assert "h100: 2 GPUs of queue capacity go with westus3" in out and "eastus2 +2." in out
    assert "the manager still admits 2 GPUs more than the remaining workers' queues hold" in out
    assert "westus3's own RayCluster (2 GPUs at its max) fits" in out


def test_losing_eastus2_json() -> None:
    result = run("--lose", "eastus2", "--format", "json")
    assert result.exit_code == 0, result.output
    loss = json.loads(result.output)
    [flavor] = loss["flavors"]
    assert (flavor["flavor"], flavor["lostGpus"], flavor["managerGpus"], flavor["remainingGpus"]) == \
        ("h100", 4.0, 6.0, 2.0)
    assert flavor["remaining"] == [{"worker": "westus3", "gpus": 2.0, "roomGpus": 0,  # westus3 is full
                                    "vmSize": "Standard_NC40ads_H100_v5"}]
    assert (flavor["strandedGpus"], flavor["raiseQuota"], flavor["shortGpus"]) == (4.0, [], 4)
    lost = loss["lostRayCluster"]
    assert (lost["gpusNeeded"], lost["gpusPlaced"], lost["absorbed"]) == (4, 0, False)


def _job(name: str, replicas: int) -> dict:
    gpu = {"nvidia.com/gpu": "1", "cpu": "36", "memory": "300Gi"}
    return {"apiVersion": "ray.io/v1", "kind": "RayJob",
            "metadata": {"name": name, "namespace": "ray", "labels": {"kueue.x-k8s.io/queue-name": "gpu-batch"}},
            "spec": {"entrypoint": "python train.py", "shutdownAfterJobFinishes": True,
                     "rayClusterSpec": {"headGroupSpec": {"template": {"spec": {"containers": [
                         {"name": "ray-head", "image": "rayproject/ray:2.52.0"}]}}},
                         "workerGroupSpecs": [{"groupName": "h100", "replicas": replicas, "minReplicas": replicas,
                                               "maxReplicas": replicas, "template": {"spec": {"containers": [
                                                   {"name": "w", "image": "rayproject/ray:2.52.0",
                                                    "resources": {"limits": gpu}}]}}}]}}}


def test_queued_jobs_that_still_fit(tmp_path) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(yaml.safe_dump_all([_job("small", 2), _job("wide", 4), _job("huge", 6)]))
    result = run("--lose", "westus3", "--jobs", str(jobs), "--format", "json")
    assert result.exit_code == 0, result.output
    fits = {j["job"]: (j["gpus"], j["fitsOn"]) for j in json.loads(result.output)["jobs"]}
    assert fits == {"ray/small": (2, ["eastus2"]), "ray/wide": (4, ["eastus2"]), "ray/huge": (6, [])}
    text = run("--lose", "eastus2", "--jobs", str(jobs)).output
    assert "ray/wide" in text and "nowhere: no remaining worker's queue is that large" in text


def test_bad_input() -> None:
    for args, message in ((["--lose", "manager"], "manager is the MultiKueue manager"),
                          (["--lose", "nowhere"], "unknown region 'nowhere'"),
                          (["--jobs", "x.yaml"], "--jobs needs --lose REGION")):
        result = run(*args)
        assert result.exit_code == 2, args
        assert message in result.output and "Traceback" not in result.output


def test_a_fleet_without_scheduling() -> None:
    plain = Path(__file__).parents[1] / "policies" / "fixtures" / "failover-headroom" / "pass" / "fleet.yaml"
    result = CliRunner().invoke(main, ["plan", str(plain), "--lose", "eastus2"])
    assert result.exit_code == 2
    assert "--lose needs a fleet with a scheduling section" in result.output
