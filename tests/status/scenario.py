"""The example fleet's clusters as ``rayfleet status`` sees them, on the fake AKS API
(tests/kube/fake_kube.py): eastus2 healthy, swedencentral degraded (a GPU node down, a worker
short, values changed since the last deploy), westus3 with an expired credential (401), and the
MultiKueue manager dispatching RayJobs to the workers.

``examples/status/snapshot.json`` is built from this scenario (tests/status/test_example.py
keeps it up to date)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rayfleet.fleet import Fleet, load_fleet
from rayfleet.status import FleetStatus, expected_release
from rayfleet.values import fold_values, load_values_file

from tests.kube.fake_kube import (
    GPU_TAINT,
    FakeCluster,
    FakeKueue,
    admission_check,
    aks_node,
    cluster_queue,
    helm_release_secret,
    multikueue_cluster,
    pvc,
    ray_cluster_with_groups,
    ray_pod,
    rayjob,
    workload,
    write_kubeconfig,
)
from tests.support.https_server import HttpsServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FLEET = REPO / "examples" / "fleet.yaml"
EXAMPLE_SNAPSHOT = REPO / "examples" / "status" / "snapshot.json"
CONTEXTS = {"eastus2": "rayfleet-eus2", "swedencentral": "rayfleet-sdc", "westus3": "rayfleet-wus3",
            "manager": "rayfleet-manager"}
RAYCLUSTER = "ray-ray-cluster"  # what the example chart names the release's RayCluster


def deployed_values(fleet: Fleet, region: str) -> dict:
    """The values Helm stored for the region's release: its -f files folded (Helm's mergeMaps)."""
    r = fleet.region(region)
    return fold_values(load_values_file(p).data for p in fleet.values_stack_paths(r))


def system_nodes(region: str) -> list[dict]:
    return [aks_node(f"aks-system-1234-vmss00000{i}", "system", "Standard_D4ds_v5", mode="System", region=region,
                     taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}])
            for i in range(2)] + [aks_node("aks-raycpu-2345-vmss000000", "raycpu", "Standard_D16ds_v5", region=region)]


def not_ready(node: dict) -> dict:
    node["status"]["conditions"] = [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                                     "message": "Kubelet stopped posting node status."}]
    return node


def healthy_eastus2(cluster: FakeCluster, fleet: Fleet) -> None:
    gpu_nodes = [aks_node(f"aks-h100-3456-vmss00000{i}", "h100", "Standard_NC40ads_H100_v5", gpus=1,
                          taints=[GPU_TAINT]) for i in range(4)]
    cluster.nodes = system_nodes("eastus2") + gpu_nodes
    cluster.secrets = [
        helm_release_secret("ray", "ray", 3, status="superseded", config={"old": True}),
        helm_release_secret("ray", "ray", 4, config=deployed_values(fleet, "eastus2")),
    ]
    cluster.set_raycluster(ray_cluster_with_groups(RAYCLUSTER, {"gpu": 3, "cpu": 1}))
    cluster.pods = [ray_pod(RAYCLUSTER, "headgroup", "aks-raycpu-2345-vmss000000"),
                    ray_pod(RAYCLUSTER, "cpu", "aks-raycpu-2345-vmss000000")]
    cluster.pods += [ray_pod(RAYCLUSTER, "gpu", f"aks-h100-3456-vmss00000{i}", index=i, gpus=1) for i in range(3)]
    cluster.rayjobs = [rayjob("train-llama-eus2", "Running"), rayjob("eval-nightly", "Complete"),
                       rayjob("finetune-7b", "Complete")]
    cluster.pvcs = [pvc("ray-data")]
    cluster.kueue = FakeKueue(clusterqueues=[cluster_queue("gpu", gpus=10, used=3, admitted=1)])


def degraded_swedencentral(cluster: FakeCluster, fleet: Fleet) -> None:
    gpu_nodes = [aks_node(f"aks-a100-4567-vmss00000{i}", "a100", "Standard_NC24ads_A100_v4", gpus=1,
                          taints=[GPU_TAINT], region="swedencentral") for i in range(3)]
    not_ready(gpu_nodes[2])
    cluster.nodes = system_nodes("swedencentral") + gpu_nodes
    values = deployed_values(fleet, "swedencentral")
    values["ray-cluster"]["workerGroups"]["gpu"]["maxReplicas"] = 12  # a hand-edited upgrade
    cluster.secrets = [helm_release_secret("ray", "ray", 7, config=values,
                                           last_deployed="2026-11-28T16:40:03.118204+00:00")]
    cluster.set_raycluster(ray_cluster_with_groups(RAYCLUSTER, {"gpu": 3}, state="ready", provisioned="True"))
    cluster.pods = [ray_pod(RAYCLUSTER, "headgroup", "aks-raycpu-2345-vmss000000"),
                    ray_pod(RAYCLUSTER, "gpu", "aks-a100-4567-vmss000000", gpus=1),
                    ray_pod(RAYCLUSTER, "gpu", "aks-a100-4567-vmss000001", index=1, gpus=1),
                    ray_pod(RAYCLUSTER, "gpu", None, index=2, gpus=1, ready=False, phase="Pending")]
    cluster.rayjobs = [rayjob("train-llama-sdc", "Running"), rayjob("sweep-lr", "Waiting"),
                       rayjob("sweep-wd", "Waiting"), rayjob("bad-image", "Failed")]
    cluster.pvcs = [pvc("ray-data")]
    cluster.kueue = FakeKueue(clusterqueues=[cluster_queue("gpu", gpus=10, used=2, admitted=1, pending=2)])


def expired_westus3(cluster: FakeCluster, fleet: Fleet) -> None:
    cluster.expired = True


def dispatching_manager(cluster: FakeCluster, fleet: Fleet) -> None:
    """The CPU-only manager: no RayCluster, one ClusterQueue behind the MultiKueue admission check,
    and a Workload per RayJob it placed on a worker (or is still placing)."""
    cluster.nodes = system_nodes("centralus")[:2]
    cluster.secrets = [helm_release_secret("ray", "ray", 2, config=deployed_values(fleet, "manager"))]
    cluster.kueue = FakeKueue(
        clusterqueues=[cluster_queue("ray-gpu", gpus=8, used=5, admitted=2, pending=2, checks=("multikueue",))],
        admissionchecks=[admission_check("multikueue")],
        multikueueclusters=[multikueue_cluster(region) for region in ("eastus2", "swedencentral", "westus3")],
        workloads=[workload("train-llama-eus2", cluster="eastus2", queue="gpu-batch"),
                   workload("train-llama-sdc", cluster="swedencentral", queue="gpu-batch"),
                   workload("sweep-lr", nominated=("swedencentral", "westus3"), state="pending", queue="gpu-batch",
                            created="2026-12-02T01:10:00Z"),
                   workload("sweep-wd", nominated=("swedencentral", "westus3"), state="pending", queue="gpu-batch",
                            created="2026-12-02T01:12:00Z")])


SCENARIO = {"eastus2": healthy_eastus2, "swedencentral": degraded_swedencentral, "westus3": expired_westus3,
            "manager": dispatching_manager}


@dataclass
class FakeFleet:
    server: HttpsServer
    clusters: dict[str, FakeCluster]
    kubeconfig: Path
    fleet: Fleet


@contextmanager
def fake_fleet(tmp_path: Path, fleet: Fleet | None = None) -> Iterator[FakeFleet]:
    """The example fleet's four clusters on one HTTPS server (each under its own path prefix)."""
    fleet = fleet or load_fleet(EXAMPLE_FLEET)
    with HttpsServer() as server:
        clusters = {}
        for region in CONTEXTS:
            cluster = FakeCluster(prefix=f"/{region}").serve(server)
            SCENARIO[region](cluster, fleet)
            clusters[region] = cluster
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {
            ctx: (f"{server.url}/{region}", server.ca_path) for region, ctx in CONTEXTS.items()})
        yield FakeFleet(server, clusters, kubeconfig, fleet)


__all__ = ["EXAMPLE_FLEET", "EXAMPLE_SNAPSHOT", "FakeFleet", "expected_release", "fake_fleet"]


# --- the shipped example ---------------------------------------------------------------------------

EXAMPLE_TAKEN_AT = "2026-12-02T01:30:00Z"
EXAMPLE_SECONDS = {"eastus2": 0.84, "swedencentral": 1.21, "westus3": 0.27, "manager": 0.63}
AKS_SERVERS = {"eastus2": "https://rayfleet-eus2-4f2a9c1b.hcp.eastus2.azmk8s.io:443",
               "swedencentral": "https://rayfleet-sdc-7d3e5f20.hcp.swedencentral.azmk8s.io:443",
               "westus3": "https://rayfleet-wus3-1b8c6a4d.hcp.westus3.azmk8s.io:443",
               "manager": "https://rayfleet-manager-5e9d2c7a.hcp.centralus.azmk8s.io:443"}


def example_snapshot(tmp_path: Path) -> FleetStatus:
    """The scenario read by ``collect_status``, with what changes from run to run (the time, the
    durations, the fake server's port) replaced by fixed, realistic values."""
    import re
    from dataclasses import replace

    from rayfleet.status import collect_status

    with fake_fleet(tmp_path) as fake:
        status = collect_status(fake.fleet, kubeconfig=fake.kubeconfig, timeout=15)

    def server(text: str) -> str:
        return re.sub(r"https://127\.0\.0\.1:\d+/([a-z0-9]+)", lambda m: AKS_SERVERS[m.group(1)], text)

    regions = tuple(replace(r, seconds=EXAMPLE_SECONDS[r.name], message=server(r.message)) for r in status.regions)
    return replace(status, fleet="examples/fleet.yaml", taken_at=EXAMPLE_TAKEN_AT,
                   seconds=max(EXAMPLE_SECONDS.values()) + 0.05, regions=regions)
