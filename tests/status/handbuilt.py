"""A fleet status built by hand (no cluster), for the renderers' tests: five regions that between
them reach every branch of the text, JSON and HTML views.

- eastus2: healthy worker, everything in order, declared quota 10, one ClusterQueue.
- swedencentral: degraded, no context or role, drift, a RayCluster not ready (no state, no
  groups, head down, made by a RayJob), a worker group short, a GPU pool with a node down and a
  pool with no VM size, fractional GPUs, GPUs pending, a failed RayJob, the webhook missing, a PVC
  pending; a MultiKueue manager's queues, workers (connected, not, unknown) and dispatches
  (on a worker named by its cluster, still nominated, nowhere, on a worker named by its region).
- westus3: could not be read (401), with a hostile message; declared quota 4.
- manager: healthy, no expected release, nothing running, no GPU pool, no quota, no Kueue.
- north"eu<b>: degraded, a hostile name, no Helm release, no GPU pool but a declared quota of 6.
"""

from __future__ import annotations

from rayfleet.kube.status import (
    ClusterQueueFacts,
    ClusterSnapshot,
    Dispatch,
    GpuPool,
    HelmRelease,
    KueueFacts,
    RayClusterFacts,
    VolumeClaim,
    WorkerCluster,
    WorkerGroup,
)
from rayfleet.status import ExpectedRelease, FamilyQuota, FleetStatus, GpuQuota, RegionStatus

DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
OLD_DIGEST = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
HOSTILE = '<img src="https://evil.example/x.png" onerror="alert(1)">: 401 Unauthorized'
NORTH = 'north"eu<b>'
H100 = FamilyQuota("StandardNCadsH100v5Family", 400, "Standard_NC40ads_H100_v5", 10)


def _release(revision: int, version: str, digest: str, *, app: str | None, deployed: str | None) -> HelmRelease:
    return HelmRelease(name="ray", namespace="ray", revision=revision, status="deployed", chart="ray-aks",
                       chart_version=version, app_version=app, last_deployed=deployed,
                       description="Upgrade complete", values_digest=digest)


def eastus2() -> RegionStatus:
    facts = ClusterSnapshot(
        server_version="v1.33.2",
        release=_release(4, "0.2.0", DIGEST, app="2.52.0", deployed="2026-11-30T09:12:41.519317+00:00"),
        rayclusters=(RayClusterFacts("ray", "ray-cluster", "ready", True, True,
                                     (WorkerGroup("gpu", 3, 3), WorkerGroup("cpu", 1, 1))),),
        rayjobs=(("Complete", 2), ("Running", 1)),
        gpu_pools=(GpuPool("h100", "Standard_NC40ads_H100_v5", 4, 4, 4.0, 3.0),),
        gpus_pending=0.0,
        kueue=KueueFacts("v1beta2", (ClusterQueueFacts("gpu", pending=1, reserving=2, admitted=5, gpu_quota=10.0,
                                                       gpu_used=3.0, multikueue=False),)),
        identity_webhook=True,
        volume_claims=(VolumeClaim("ray", "ray-data", "Bound", "ray-blob-fuse"),),
    )
    return RegionStatus("eastus2", "eastus2", "aks-eus2", "ctx-eus2", "worker", "healthy", 0.84,
                        expected=ExpectedRelease("ray-aks", "0.2.0", DIGEST), gpu_quota=GpuQuota(10, (H100,)),
                        facts=facts)


def swedencentral() -> RegionStatus:
    kueue = KueueFacts(
        "v1beta1",
        (ClusterQueueFacts("gpu", pending=2, reserving=0, admitted=1, gpu_quota=8.0, gpu_used=2.0, multikueue=True),
         ClusterQueueFacts("cpu", pending=1, reserving=1, admitted=3, gpu_quota=0.0, gpu_used=0.0, multikueue=False)),
        workers=(WorkerCluster("aks-eus2", True), WorkerCluster("westus3", False, "dial tcp: i/o timeout"),
                 WorkerCluster("ctx-x", None), WorkerCluster("ctx-mgr", True)),
        dispatches=(
            Dispatch("ray", "wl-1", "train", "gpu-batch", "aks-eus2", (), "admitted", "2026-12-02T01:10:00Z"),
            Dispatch("ray", "wl-2", "sweep", None, None, ("eastus2", "westus3"), "pending",
                     "2026-12-02T03:12:00+02:00"),
            Dispatch("ray", "wl-3", "lost", "gpu-batch", None, (), "pending", None),
            Dispatch("ray", "wl-4", "here", "gpu-batch", "eastus2", (), "admitted", "not a time"),
        ))
    facts = ClusterSnapshot(
        server_version="v1.32.7",
        release=_release(7, "0.1.0", OLD_DIGEST, app=None, deployed=None),
        rayclusters=(RayClusterFacts("ray", "ray-cluster", None, False, False, (), owner="RayJob/sweep"),
                     RayClusterFacts("team-b", "svc", "ready", True, True, (WorkerGroup("gpu", 2, 3),))),
        rayjobs=(("Failed", 1), ("Running", 2), ("Waiting", 3)),
        gpu_pools=(GpuPool("a100", "Standard_NC24ads_A100_v4", 2, 3, 3.0, 2.5), GpuPool("t4", None, 1, 1, 1.0, 0.0)),
        gpus_pending=1.0,
        kueue=kueue,
        identity_webhook=False,
        volume_claims=(VolumeClaim("ray", "ray-data", "Bound", None), VolumeClaim("ray", "scratch", "Pending",
                                                                                  "managed-csi")),
    )
    return RegionStatus("swedencentral", "swedencentral", "aks-sdc", None, None, "degraded", 1.21,
                        problems=("GPU node pool a100: 2/3 nodes ready",
                                  "the workload identity webhook is not installed"),
                        drift=("chart ray-aks 0.1.0 is deployed; plan would deploy ray-aks 0.2.0",),
                        expected=ExpectedRelease("ray-aks", "0.2.0", None), facts=facts)


def westus3() -> RegionStatus:
    return RegionStatus("westus3", "westus3", "aks-wus3", "ctx-wus3", "worker", "unauthorized", 0.27,
                        message=HOSTILE, gpu_quota=GpuQuota(4, (FamilyQuota("StandardNCadsH100v5Family", 160,
                                                                            "Standard_NC40ads_H100_v5", 4),)))


def manager() -> RegionStatus:
    facts = ClusterSnapshot(server_version="v1.33.1",
                            release=_release(2, "0.3.1", DIGEST, app="2.52.0", deployed="2026-12-01T08:00:00Z"),
                            rayclusters=(), rayjobs=(), gpu_pools=(), gpus_pending=0.0, kueue=None,
                            identity_webhook=True, volume_claims=())
    return RegionStatus("manager", "centralus", "aks-mgr", "ctx-mgr", "manager", "healthy", 0.63, facts=facts)


def north() -> RegionStatus:
    facts = ClusterSnapshot(server_version="v1.33.0", release=None, rayclusters=(), rayjobs=(), gpu_pools=(),
                            gpus_pending=0.0, kueue=None, identity_webhook=True, volume_claims=())
    return RegionStatus(NORTH, "northeurope", "aks-neu", None, None, "degraded", 1.07,
                        problems=("no Helm release ray in namespace ray",),
                        gpu_quota=GpuQuota(6, (FamilyQuota("StandardNCadsH100v5Family", 240,
                                                           "Standard_NC40ads_H100_v5", 6),)), facts=facts)


def fleet_status() -> FleetStatus:
    return FleetStatus("fleets/prod.yaml", "2026-12-02T01:30:00Z", 2.5,
                       (eastus2(), swedencentral(), westus3(), manager(), north()))
