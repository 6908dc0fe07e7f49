"""`rayfleet plan --lose REGION` over a rendered manager and two H100 workers (policy fixtures):
eastus2 queues 4 GPUs (quota 10 nodes, its RayCluster up to 4), westus3 2 (quota 4 nodes, RayCluster 2),
the manager admits 6. Below the CLI tests, ``rayfleet.region_loss`` field by field on the same fleet
(Standard_NC40ads_H100_v5: 1 GPU, 40 vCPUs, 320 GiB a node; eastus2's 400 H100 vCPUs hold 10 nodes,
westus3's 160 hold 4), and each queued-job shape at the node's limits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.errors import InputError
from rayfleet.findings import SourceLocation
from rayfleet.fleet import load_fleet
from rayfleet.manifests import KubeObject
from rayfleet.pipeline import render_fleet
from rayfleet.region_loss import FlavorLoss, JobFit, RegionLoss, WorkerShare, region_loss
from rayfleet.subjects import FleetView

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


# --- the model, field by field ---------------------------------------------------------------------

H100 = "Standard_NC40ads_H100_v5"


@pytest.fixture(scope="module")
def view() -> FleetView:
    fleet = load_fleet(FLEET)
    return FleetView(fleet, {n: r.release for n, r in render_fleet(fleet).items() if r.rendered})


def test_losing_westus3_every_field(view):
    loss = region_loss(view, "westus3")
    assert (loss.lost, loss.manager, loss.mode, loss.order, loss.timeout, loss.notes, loss.jobs) == \
        ("westus3", "manager", "Incremental", ("eastus2",), "10m", (), ())
    # eastus2: 400 vCPUs hold 10 nodes; its queue (4) and its RayCluster (4) take 8: room for 2 GPUs
    assert loss.flavors == (FlavorLoss("h100", H100, 2.0, 6.0, (WorkerShare("eastus2", 4.0, 2, H100),)),)
    [flavor] = loss.flavors
    assert (flavor.remaining_quota, flavor.stranded, flavor.placement()) == (4.0, 2.0, ([("eastus2", 2)], 0))
    assert loss.failover is not None


def test_losing_eastus2_every_field(view):
    loss = region_loss(view, "eastus2")
    assert loss.order == ("westus3",) and loss.notes == ()
    # westus3: 160 vCPUs hold 4 nodes, its queue (2) and RayCluster (2) take all four
    assert loss.flavors == (FlavorLoss("h100", H100, 4.0, 6.0, (WorkerShare("westus3", 2.0, 0, H100),)),)
    assert loss.flavors[0].placement() == ([], 4)


def test_placement_and_stranded_by_hand():
    shares = (WorkerShare("a", 1.0, None), WorkerShare("b", 1.0, 0), WorkerShare("c", 1.0, 3),
              WorkerShare("d", 1.0, 5), WorkerShare("e", 1.0, 9))
    # 3.2 lost GPUs are 4 GPUs of nodes; c takes 3, d the last one, e nothing (not even 0)
    assert FlavorLoss("f", None, 3.2, None, shares).placement() == ([("c", 3), ("d", 1)], 0)
    assert FlavorLoss("f", None, 3.0, None, shares[:3]).placement() == ([("c", 3)], 0)
    assert FlavorLoss("f", None, 4.0, None, shares[:3]).placement() == ([("c", 3)], 1)
    assert FlavorLoss("f", None, 0.0, None, shares).placement() == ([], 0)
    assert FlavorLoss("f", None, 1.0, None, shares).stranded == 0.0  # no manager quota: nothing stranded
    assert FlavorLoss("f", None, 1.0, 7.0, shares).stranded == 2.0
    assert FlavorLoss("f", None, 1.0, 5.0, shares).stranded == 0.0  # at the remaining quota
    assert FlavorLoss("f", None, 1.0, 4.0, shares).stranded == 0.0  # below it


def test_results_are_frozen(view):
    loss = region_loss(view, "westus3")
    for obj in (loss, loss.flavors[0], loss.flavors[0].remaining[0], JobFit("ns", "j", None, 0, 0, ())):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.lost = "x"  # type: ignore[misc]
        if not isinstance(obj, RegionLoss):  # the failover outcome inside holds dicts
            assert hash(obj) == hash(dataclasses.replace(obj))


# --- queued jobs ---------------------------------------------------------------------------------------

def _pod(name: str, **resources: Any) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": name, "image": "rayproject/ray:2.52.0",
                                     "resources": {"requests": resources, "limits": resources}}]}}


def _ray_job(name: str, *groups: tuple[int, dict[str, Any]], head: dict[str, Any] | None = None,
         labels: Any = None, namespace: str | None = "ray", kind: str = "RayJob", cluster: bool = True) -> KubeObject:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {"kueue.x-k8s.io/queue-name": "gpu-batch"} if labels is None else labels
    spec: dict[str, Any] = {"entrypoint": "python train.py"}
    if cluster:
        spec["rayClusterSpec"] = {
            "headGroupSpec": {"template": head or _pod("ray-head", cpu="1")},
            "workerGroupSpecs": [{"groupName": f"g{i}", "replicas": n, "minReplicas": n, "maxReplicas": n,
                                  "template": _pod("w", **res)} for i, (n, res) in enumerate(groups)]}
    return KubeObject({"apiVersion": "ray.io/v1", "kind": kind, "metadata": meta, "spec": spec},
                      SourceLocation("jobs.yaml", 1))


GPU1 = {"nvidia.com/gpu": "1", "cpu": "40", "memory": "320Gi"}  # exactly one node of the H100 size


@pytest.mark.parametrize(("job", "gpus", "largest", "fits"), [
    (_ray_job("at-the-node", (4, GPU1)), 4, 1, ("eastus2",)),
    (_ray_job("two-fit-both", (2, GPU1)), 2, 1, ("eastus2", "westus3")),
    (_ray_job("one-cpu-over", (1, {**GPU1, "cpu": "41"})), 1, 1, ()),
    (_ray_job("one-gib-over", (1, {**GPU1, "memory": "321Gi"})), 1, 1, ()),
    (_ray_job("two-gpus-a-pod", (1, {**GPU1, "nvidia.com/gpu": "2"})), 2, 2, ()),
    (_ray_job("over-every-queue", (5, GPU1)), 5, 1, ()),
    # the head and CPU-only workers run on other pools: their size does not matter
    (_ray_job("big-head", (1, GPU1), head=_pod("ray-head", cpu="64")), 1, 1, ("eastus2", "westus3")),
    (_ray_job("big-cpu-worker", (1, GPU1), (2, {"cpu": "64", "memory": "500Gi"})), 1, 1, ("eastus2", "westus3")),
    (_ray_job("no-gpu", (1, {"cpu": "2"})), 0, 0, ()),
    (_ray_job("no-cluster", cluster=False), 0, 0, ()),
])
def test_a_queued_job_fits_where_a_queue_and_a_node_hold_it(view, job, gpus, largest, fits):
    for lost in ("eastus2", "westus3"):
        [fit] = region_loss(view, lost, [job]).jobs
        assert fit == JobFit("ray", job.name, "gpu-batch", gpus, largest, tuple(w for w in fits if w != lost))


def test_a_job_without_a_namespace_labels_or_of_another_kind(view):
    jobs = [_ray_job("plain", (1, GPU1), namespace=None, labels={}), _ray_job("odd", (1, GPU1), labels=["x"]),
            _ray_job("cluster", (1, GPU1), kind="RayCluster")]
    assert region_loss(view, "westus3", jobs).jobs == (JobFit("default", "plain", None, 1, 1, ("eastus2",)),
                                                       JobFit("ray", "odd", None, 1, 1, ("eastus2",)))


# --- refusals and notes ----------------------------------------------------------------------------------

def test_losing_the_manager_or_an_unrendered_region_is_refused(view):
    with pytest.raises(InputError, match="manager is the MultiKueue manager"):
        region_loss(view, "manager")
    releases = dict(view.releases)
    del releases["westus3"]
    with pytest.raises(InputError, match="region westus3 did not render"):
        region_loss(FleetView(view.fleet, releases), "eastus2")
    releases["westus3"] = dataclasses.replace(view.releases["westus3"], objects=())
    with pytest.raises(InputError, match="region westus3 did not render"):
        region_loss(FleetView(view.fleet, releases), "eastus2")
    with pytest.raises(InputError, match="--lose needs a fleet with a scheduling section"):
        region_loss(FleetView(dataclasses.replace(view.fleet, scheduling=None), view.releases), "eastus2")


def test_a_worker_without_gpu_queue_quota_is_noted(view):
    releases = dict(view.releases)
    releases["westus3"] = dataclasses.replace(
        view.releases["westus3"], objects=tuple(o for o in view.releases["westus3"].objects
                                                if o.kind != "ClusterQueue"))
    loss = region_loss(FleetView(view.fleet, releases), "westus3")
    assert loss.notes == ("westus3 has no GPU quota in the shared queues: losing it does not change what is "
                          "dispatched",)
    # the manager's flavor is still listed: westus3 held none of it
    assert [(f.flavor, f.lost, f.vm_size) for f in loss.flavors] == [("h100", 0.0, H100)]


def test_a_worker_without_an_azure_quota_has_no_room_shown(view):
    fleet = view.fleet
    regions = tuple(dataclasses.replace(r, quota=None) if r.name == "westus3" else r for r in fleet.regions)
    loss = region_loss(FleetView(dataclasses.replace(fleet, regions=regions), view.releases), "eastus2")
    assert loss.flavors == (FlavorLoss("h100", H100, 4.0, 6.0, (WorkerShare("westus3", 2.0, None, H100),)),)
    assert loss.flavors[0].placement() == ([], 4)


def test_a_job_whose_cluster_has_no_pods_needs_nothing_and_fits_nowhere(view):
    job = KubeObject({"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": {"name": "empty", "namespace": "ray"},
                      "spec": {"rayClusterSpec": {"rayVersion": "2.52.0"}}}, SourceLocation("jobs.yaml", 1))
    assert region_loss(view, "westus3", [job]).jobs == (JobFit("ray", "empty", None, 0, 0, ()),)
