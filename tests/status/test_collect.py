"""rayfleet.status: the example fleet read in parallel from the fake AKS API, each region judged,
drift against plan, the per-region timeout, and snapshots."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace

import jsonschema
import pytest
from rayfleet.errors import InputError
from rayfleet.fleet import load_fleet
from rayfleet.report.status_json import format_status_json
from rayfleet.resources import load_schema
from rayfleet.status import (
    DEGRADED,
    HEALTHY,
    TIMEOUT,
    UNAUTHORIZED,
    UNREACHABLE,
    FleetStatus,
    StatusObserver,
    collect_status,
    expected_release,
    from_dict,
    load_snapshot,
    snapshot_regions,
)

from tests.kube.fake_kube import (
    FakeKueue,
    cluster_queue,
    helm_release_secret,
    multikueue_cluster,
    pvc,
    workload,
    write_kubeconfig,
)
from tests.status.scenario import CONTEXTS, EXAMPLE_FLEET, deployed_values, fake_fleet


@pytest.fixture(scope="module")
def example():
    return load_fleet(EXAMPLE_FLEET)


def _collect(fake, **kwargs) -> FleetStatus:
    return collect_status(fake.fleet, kubeconfig=fake.kubeconfig, timeout=kwargs.pop("timeout", 10), **kwargs)


def _by_name(status: FleetStatus):
    return {r.name: r for r in status.regions}


def test_healthy_degraded_and_expired_regions(tmp_path, example):
    with fake_fleet(tmp_path, example) as fake:
        status = _collect(fake)
    regions = _by_name(status)
    assert [r.name for r in status.regions] == ["eastus2", "swedencentral", "westus3", "manager"]
    east, sweden, west = regions["eastus2"], regions["swedencentral"], regions["westus3"]
    assert (east.state, east.problems, east.drift) == (HEALTHY, (), ())
    assert east.facts.release.revision == 4 and east.gpus_requested == 3 and east.gpus_allocatable == 4
    # 400 vCPUs of StandardNCadsH100v5Family on 40-vCPU, 1-GPU nodes.
    assert east.gpu_quota.gpus == 10 and east.gpu_quota.families[0].vm_size == "Standard_NC40ads_H100_v5"
    assert sweden.state == DEGRADED
    assert set(sweden.problems) == {"RayCluster ray/ray-ray-cluster worker group gpu: 2/3 ready",
                                    "GPU node pool a100: 2/3 nodes ready"}
    assert len(sweden.drift) == 1 and sweden.drift[0].startswith("values differ from plan's")
    assert west.state == UNAUTHORIZED and west.facts is None and "401 Unauthorized" in west.message
    # The manager runs no RayCluster and no GPUs: healthy while its workers are connected.
    manager = regions["manager"]
    assert (manager.state, manager.problems, manager.role) == (HEALTHY, (), "manager")
    assert manager.facts.rayclusters == () and [w.name for w in manager.facts.kueue.workers] == [
        "eastus2", "swedencentral", "westus3"]
    assert {(d.job, d.cluster) for d in manager.facts.kueue.dispatches if d.cluster} == {
        ("train-llama-eus2", "eastus2"), ("train-llama-sdc", "swedencentral")}
    assert (east.role, sweden.role, west.role) == ("worker", "worker", "worker")
    assert status.answered == 3 and status.counts() == {HEALTHY: 2, DEGRADED: 1, UNAUTHORIZED: 1}
    assert status.taken_at.endswith("Z")


def test_regions_are_read_in_parallel_and_reported_as_they_finish(tmp_path, example):
    seen: list[str] = []

    class Recorder(StatusObserver):
        def region_finished(self, status):
            seen.append(status.name)

    with fake_fleet(tmp_path, example) as fake:
        for cluster in fake.clusters.values():
            cluster.delay = 0.1
        start = time.monotonic()
        status = _collect(fake, observer=Recorder())
        elapsed = time.monotonic() - start
    assert sorted(seen) == ["eastus2", "manager", "swedencentral", "westus3"]
    # A region makes ~10 GETs of 0.1 s each (plus handshakes); one region after the other takes the sum.
    slowest = max(r.seconds for r in status.regions)
    assert slowest > 0.9
    assert elapsed < slowest * 1.5 < sum(r.seconds for r in status.regions)


def test_an_unreachable_region_is_shown_and_the_others_still_read(tmp_path, example):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"https://127.0.0.1:{sock.getsockname()[1]}"
    with fake_fleet(tmp_path, example) as fake:
        contexts = {ctx: (f"{fake.server.url}/{region}", fake.server.ca_path) for region, ctx in CONTEXTS.items()}
        contexts["rayfleet-sdc"] = (dead, fake.server.ca_path)
        kubeconfig = write_kubeconfig(tmp_path / "partial", contexts)
        status = collect_status(example, kubeconfig=kubeconfig, timeout=10)
    regions = _by_name(status)
    assert regions["swedencentral"].state == UNREACHABLE
    assert "cannot reach the API server" in regions["swedencentral"].message
    assert regions["eastus2"].state == HEALTHY


def test_a_slow_region_times_out_without_holding_the_others(tmp_path, example):
    with fake_fleet(tmp_path, example) as fake:
        fake.clusters["eastus2"].delay = 5
        start = time.monotonic()
        status = _collect(fake, timeout=1)
        elapsed = time.monotonic() - start
    regions = _by_name(status)
    assert regions["eastus2"].state == TIMEOUT and "no answer within 1s" in regions["eastus2"].message
    assert regions["swedencentral"].state == DEGRADED
    assert elapsed < 3


def test_a_missing_kube_context_is_an_error_for_that_region_only(tmp_path, example):
    with fake_fleet(tmp_path, example) as fake:
        contexts = {ctx: (f"{fake.server.url}/{region}", fake.server.ca_path)
                    for region, ctx in CONTEXTS.items() if region != "eastus2"}
        status = collect_status(example, kubeconfig=write_kubeconfig(tmp_path / "k", contexts), timeout=10)
    east = _by_name(status)["eastus2"]
    assert east.state == "error" and "rayfleet-eus2" in east.message


def test_degraded_by_release_storage_and_identity(tmp_path, example):
    with fake_fleet(tmp_path, example) as fake:
        east = fake.clusters["eastus2"]
        east.secrets.append(helm_release_secret("ray", "ray", 5, status="failed", chart_version="0.2.0",
                                                description="Upgrade \"ray\" failed: context deadline exceeded"))
        east.pvcs = [pvc("ray-data", phase="Pending")]
        east.webhooks = []
        status = _collect(fake, regions=["eastus2"])
    (region,) = status.regions
    assert region.state == DEGRADED
    assert set(region.problems) == {
        'Helm release ray revision 5 is failed: Upgrade "ray" failed: context deadline exceeded',
        "PersistentVolumeClaim ray/ray-data is Pending",
        "the workload identity webhook is not installed"}
    assert region.drift[0] == "chart ray-aks 0.2.0 is deployed; plan would deploy ray-aks 0.1.0"


def test_a_region_without_the_release(tmp_path, example):
    with fake_fleet(tmp_path, example) as fake:
        fake.clusters["eastus2"].secrets = []
        (region,) = _collect(fake, regions=["eastus2"]).regions
    assert region.problems == ("no Helm release ray in namespace ray",) and region.drift == ()


def test_expected_release_is_what_plan_folds(example):
    expected = expected_release(example, example.region("eastus2"))
    assert (expected.chart, expected.chart_version) == ("ray-aks", "0.1.0")
    from rayfleet.kube.status import values_digest

    assert expected.values_digest == values_digest(deployed_values(example, "eastus2"))
    assert expected.values_digest != expected_release(example, example.region("westus3")).values_digest


def test_multikueue_roles_are_detected_from_the_clusters(tmp_path, example):
    # A fleet file that declares no scheduling: the roles come from what the clusters run.
    undeclared = replace(example, scheduling=None)
    with fake_fleet(tmp_path, undeclared) as fake:
        fake.clusters["manager"].kueue = None
        east = fake.clusters["eastus2"]
        east.kueue = FakeKueue(clusterqueues=[cluster_queue("fleet", gpus=20, checks=("mk",))],
                               multikueueclusters=[multikueue_cluster("rayfleet-sdc")],
                               workloads=[workload("train", cluster="rayfleet-sdc")])
        status = _collect(fake)
    regions = _by_name(status)
    assert regions["eastus2"].role == "manager"
    assert regions["swedencentral"].role == "worker"  # it runs Kueue in a fleet with a manager
    assert regions["westus3"].role is None  # not read
    assert regions["manager"].role is None  # Kueue's API is not served there
    # A MultiKueueCluster named after the cluster's context is that region.
    assert status.worker_region(regions["eastus2"].facts.kueue.dispatches[0].cluster) == "swedencentral"


# --- snapshots ------------------------------------------------------------------------------------

def test_snapshot_round_trips_and_matches_its_schema(tmp_path, example):
    with fake_fleet(tmp_path, example) as fake:
        status = _collect(fake)
    document = json.loads(format_status_json(status))
    jsonschema.Draft7Validator(load_schema("status.schema.json")).validate(document)
    assert from_dict(document) == status
    path = tmp_path / "snapshot.json"
    path.write_text(format_status_json(status), encoding="utf-8")
    assert load_snapshot(path) == status
    assert [r.name for r in snapshot_regions(status, ["westus3"]).regions] == ["westus3"]
    with pytest.raises(InputError, match="unknown region 'nowhere'"):
        snapshot_regions(status, ["nowhere"])


@pytest.mark.parametrize(("content", "message"), [
    ("{", "not JSON"),
    ('{"kind": "FleetStatus"}', "not a rayfleet status snapshot"),
    ('{"apiVersion": "rayfleet.dev/v1", "kind": "FleetStatus", "fleet": "f", "takenAt": "x", "seconds": 1,'
     ' "regions": [{"name": 3}]}', "regions[0]"),
    ('{"seconds": NaN}', "NaN is not a JSON number"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_bad_snapshots_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    assert message in str(caught.value) and str(path) in str(caught.value) and "\n" not in str(caught.value)
