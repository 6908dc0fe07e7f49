"""rayfleet.kube.status: one cluster read through the real kubernetes client against the fake
AKS API, and Helm's release encoding decoded safely."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from rayfleet.errors import LiveCheckError
from rayfleet.kube.client import KubeApi
from rayfleet.kube.status import (
    ReleaseDecodeError,
    decode_release_payload,
    decode_release_secret,
    pod_gpus,
    raycluster_facts,
    read_status,
    values_digest,
)

from tests.kube.fake_kube import (
    FakeKueue,
    admission_check,
    cluster_queue,
    helm_release_secret,
    multikueue_cluster,
    pvc,
    ray_cluster_with_groups,
    ray_pod,
    rayjob,
    workload,
)


def _read(fake_aks, example, region="eastus2"):
    with KubeApi.connect(example.region(region), fake_aks.kubeconfig) as api:
        return read_status(api, release="ray", namespace="ray")


# --- Helm's release encoding --------------------------------------------------------------------

def test_release_secret_decodes_the_newest_facts():
    secret = helm_release_secret("ray", "ray", 5, status="failed", chart_version="0.2.0",
                                 config={"a": {"b": 1.0}}, description="Upgrade \"ray\" failed: timed out")
    release = decode_release_secret(secret)
    assert (release.name, release.namespace, release.revision, release.status) == ("ray", "ray", 5, "failed")
    assert (release.chart, release.chart_version, release.app_version) == ("ray-aks", "0.2.0", "2.52.0")
    assert release.last_deployed.startswith("2026-11-30") and "timed out" in release.description
    # Helm stores numbers as JSON numbers; 1.0 and 1 are the same value to Helm.
    assert release.values_digest == values_digest({"a": {"b": 1}}) != values_digest({"a": {"b": 2}})


def test_release_without_gzip_is_read_as_plain_json():
    release = decode_release_secret(helm_release_secret("ray", "ray", 2, gzipped=False))
    assert release.revision == 2 and release.status == "deployed"


@pytest.mark.parametrize(("payload", "message"), [
    (b"%%% not base64 %%%", "not base64"),
    (base64.b64encode(b"\x1f\x8b\x08garbage"), "gzip"),
    (base64.b64encode(gzip.compress(b"[1, 2]", mtime=0)), "not a JSON object"),
    (base64.b64encode(b"{not json"), "not JSON"),
])
def test_broken_release_payloads_are_refused(payload, message):
    with pytest.raises(ReleaseDecodeError, match=message):
        decode_release_payload(payload)


def test_a_gzip_bomb_stops_at_the_limit():
    bomb = base64.b64encode(gzip.compress(b"{" + b" " * (8 * 1024 * 1024) + b"}"))
    assert len(bomb) < 64 * 1024
    with pytest.raises(ReleaseDecodeError, match="expands to more than"):
        decode_release_payload(bomb, limit=1024 * 1024)


def test_oversized_secret_payload_is_refused_before_decoding():
    secret = helm_release_secret("ray", "ray", 1)
    secret["data"]["release"] = "A" * (9 * 1024 * 1024)
    with pytest.raises(ReleaseDecodeError, match="over"):
        decode_release_secret(secret)


# --- one cluster ----------------------------------------------------------------------------------

def test_reads_release_rayclusters_jobs_gpus_kueue_and_storage(fake_aks, example):
    cluster = fake_aks.cluster
    cluster.secrets = [helm_release_secret("ray", "ray", 1, status="superseded"),
                       helm_release_secret("ray", "ray", 2),
                       helm_release_secret("other", "ray", 9)]
    cluster.set_raycluster(ray_cluster_with_groups("ray-ray-cluster", {"gpu": 2, "cpu": 1}))
    cluster.pods = [ray_pod("ray-ray-cluster", "headgroup", "aks-raycpu-23456789-vmss000000"),
                    ray_pod("ray-ray-cluster", "gpu", "aks-h100-34567890-vmss000000", gpus=1),
                    ray_pod("ray-ray-cluster", "gpu", None, index=1, gpus=1, ready=False, phase="Pending"),
                    ray_pod("ray-ray-cluster", "cpu", "aks-raycpu-23456789-vmss000000"),
                    ray_pod("done", "gpu", "aks-h100-34567890-vmss000001", gpus=1, phase="Succeeded")]
    cluster.rayjobs = [rayjob("a", "Running"), rayjob("b", "Running"), rayjob("c", "Failed")]
    cluster.pvcs = [pvc("ray-data"), pvc("scratch", phase="Pending")]
    cluster.kueue = FakeKueue(clusterqueues=[cluster_queue("gpu", gpus=8, used=1, pending=3, admitted=1)])
    facts = _read(fake_aks, example)
    assert facts.server_version == "v1.33.2" and facts.notes == ()
    assert facts.release.revision == 2 and facts.release.name == "ray"
    (rc,) = facts.rayclusters
    assert rc.ready and rc.head_ready and rc.state == "ready"
    assert {g.name: (g.ready, g.desired) for g in rc.groups} == {"gpu": (1, 2), "cpu": (1, 1)}
    assert facts.rayjobs == (("Failed", 1), ("Running", 2))
    (pool,) = facts.gpu_pools
    # The finished pod's GPU is free again; the pending one is not on a node yet.
    assert (pool.name, pool.nodes_ready, pool.nodes_total, pool.gpus_allocatable, pool.gpus_requested) == \
        ("h100", 2, 2, 2.0, 1.0)
    assert pool.vm_size == "Standard_NC40ads_H100_v5" and facts.gpus_pending == 1.0
    (queue,) = facts.kueue.cluster_queues
    assert (queue.pending, queue.admitted, queue.gpu_quota, queue.gpu_used, queue.multikueue) == (3, 1, 8, 1, False)
    assert facts.kueue.workers == () and not facts.kueue.manager
    assert facts.identity_webhook
    assert [(c.name, c.phase) for c in facts.volume_claims] == [("ray-data", "Bound"), ("scratch", "Pending")]
    selectors = [r.query.get("labelSelector") for r in fake_aks.server.requests if r.path.endswith("/secrets")]
    assert selectors == [["owner=helm,name=ray"]]


def test_a_cluster_without_kueue_or_release(fake_aks, example):
    facts = _read(fake_aks, example)
    assert facts.kueue is None and facts.release is None and facts.rayclusters == () and facts.notes == ()
    # Kueue's API was asked for in both versions before concluding it is absent.
    asked = [r.path for r in fake_aks.server.requests if "kueue.x-k8s.io" in r.path]
    assert asked == ["/eastus2/apis/kueue.x-k8s.io/v1beta2/clusterqueues",
                     "/eastus2/apis/kueue.x-k8s.io/v1beta1/clusterqueues"]


def test_a_forbidden_read_becomes_a_note_and_the_rest_is_read(fake_aks, example):
    fake_aks.cluster.forbidden = {"secrets"}
    fake_aks.cluster.pvcs = [pvc("ray-data")]
    facts = _read(fake_aks, example)
    assert facts.release is None and len(facts.notes) == 1
    assert facts.notes[0].startswith("Helm release: ") and "forbidden" in facts.notes[0]
    assert facts.volume_claims and facts.gpu_pools


def test_an_unreadable_release_secret_is_a_note(fake_aks, example):
    broken = helm_release_secret("ray", "ray", 3)
    broken["data"]["release"] = base64.b64encode(b"bm90IGd6aXA=").decode()  # base64 of "not gzip"
    fake_aks.cluster.secrets = [broken]
    facts = _read(fake_aks, example)
    assert facts.release is None
    assert "sh.helm.release.v1.ray.v3 is not a readable Helm release" in facts.notes[0]


def test_an_expired_credential_fails_the_whole_read(fake_aks, example):
    fake_aks.cluster.expired = True
    with pytest.raises(LiveCheckError) as caught:
        _read(fake_aks, example)
    assert caught.value.status == 401 and "401 Unauthorized" in str(caught.value)


def test_multikueue_manager_workers_and_dispatches(fake_aks, example):
    fake_aks.cluster.kueue = FakeKueue(
        clusterqueues=[cluster_queue("fleet-gpu", gpus=40, used=3, admitted=3, pending=1, checks=("multikueue",))],
        admissionchecks=[admission_check("multikueue"), admission_check("prov", "kueue.x-k8s.io/provisioning")],
        multikueueclusters=[multikueue_cluster("eastus2"), multikueue_cluster(
            "westus3", active=False, message='Get "https://rayfleet-wus3": dial tcp: i/o timeout')],
        workloads=[workload("old", cluster="eastus2", state="finished", created="2026-12-01T01:00:00Z"),
                   workload("train", cluster="swedencentral", created="2026-12-01T22:00:00Z"),
                   workload("queued", nominated=("eastus2", "swedencentral"), state="pending",
                            created="2026-12-01T23:00:00Z")])
    kueue = _read(fake_aks, example).kueue
    assert kueue.manager and kueue.api_version == "v1beta2"
    assert kueue.cluster_queues[0].multikueue
    assert [(w.name, w.active) for w in kueue.workers] == [("eastus2", True), ("westus3", False)]
    assert "i/o timeout" in kueue.workers[1].message
    # Newest first; the cluster a worker admitted it on, or the clusters still nominated.
    assert [(d.job, d.cluster, d.nominated, d.state) for d in kueue.dispatches] == [
        ("queued", None, ("eastus2", "swedencentral"), "pending"),
        ("train", "swedencentral", (), "admitted"),
        ("old", "eastus2", (), "finished")]
    assert kueue.dispatches[1].queue == "fleet-gpu"


# --- pure pieces ----------------------------------------------------------------------------------

def test_pod_gpus_counts_limits_requests_and_init_containers():
    pod = {"spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "2"}}},
                                   {"resources": {"requests": {"nvidia.com/gpu": "1"}}}],
                    "initContainers": [{"resources": {"limits": {"nvidia.com/gpu": "4"}}}]}}
    assert pod_gpus(pod) == 4.0
    pod["spec"]["initContainers"] = []
    assert pod_gpus(pod) == 3.0


def test_worker_group_without_replicas_starts_at_min_replicas():
    obj = ray_cluster_with_groups("rc", {"gpu": 1})
    group = obj["spec"]["workerGroupSpecs"][0]
    del group["replicas"]
    group["minReplicas"] = 2
    obj["spec"]["workerGroupSpecs"].append({"groupName": "off", "replicas": 3, "suspend": True})
    facts = raycluster_facts(obj, [])
    assert [(g.name, g.desired, g.ready) for g in facts.groups] == [("gpu", 2, 0), ("off", 0, 0)]


def test_head_readiness_falls_back_to_the_head_pod_without_conditions():
    obj = ray_cluster_with_groups("rc", {"gpu": 0})
    obj["status"].pop("conditions")
    assert raycluster_facts(obj, [ray_pod("rc", "headgroup", "n1")]).head_ready
    assert not raycluster_facts(obj, [ray_pod("rc", "headgroup", "n1", ready=False)]).head_ready
    assert not raycluster_facts(obj, [ray_pod("other", "headgroup", "n1")]).head_ready


def test_values_digest_ignores_key_order_only():
    assert values_digest(json.loads('{"a": 1, "b": [1, 2]}')) == values_digest({"b": [1, 2], "a": 1})
    assert values_digest({"b": [2, 1], "a": 1}) != values_digest({"b": [1, 2], "a": 1})
