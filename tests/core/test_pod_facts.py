"""Pod facts are worked out once, by ``PodTemplate``: the capacity model and every policy read
the same GPU count and replica bounds."""

from __future__ import annotations

from rayfleet.capacity import group_demand
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import get_policy
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

RAY_CLUSTER = """
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray, namespace: ray}
spec:
  headGroupSpec:
    template:
      spec:
        containers: [{name: head, image: rayproject/ray:2.53.0}]
  workerGroupSpecs:
    - groupName: gpu
      minReplicas: 1
      maxReplicas: "3"
      template:
        spec:
          nodeSelector: {node.kubernetes.io/instance-type: Standard_NC24ads_A100_v4}
          initContainers:
            - {name: warm, image: busybox:1.36, resources: {limits: {nvidia.com/gpu: 2}}}
          containers:
            - name: worker
              image: rayproject/ray:2.53.0
              resources: {requests: {nvidia.com/gpu: "1"}}
"""


def _release() -> ReleaseObjects:
    return ReleaseObjects(tuple(objects_from_text(RAY_CLUSTER, "ray.yaml")), PolicySettings(), "1.33")


def test_one_gpu_rule_counts_requests_quantities_and_init_containers():
    release = _release()
    worker = next(t for t in release.pod_templates() if t.role == "worker")
    head = next(t for t in release.pod_templates() if t.role == "head")
    # The largest init container (2) beats the sum of the regular ones (1), as the scheduler counts.
    assert worker.gpus == 2.0 and head.gpus == 0.0
    assert worker.replica_bounds.maximum == 3.0 and worker.replica_bounds.minimum == 1.0


def test_capacity_and_policies_agree_on_which_pods_use_gpus():
    release = _release()
    worker = next(t for t in release.pod_templates() if t.role == "worker")
    demand = group_demand(worker)
    assert (demand.gpus_per_pod, demand.max_pods) == (2, 3)
    # gpu-taint-toleration judges the same pod a GPU pod (it tolerates no GPU taint), the head not.
    tainted = ReleaseObjects(release.objects, PolicySettings.from_dict(
        {"gpuTaint": {"key": "sku", "value": "gpu", "effect": "NoSchedule"}}), "1.33")
    findings = check([get_policy("gpu-taint-toleration")], tainted)
    assert [f.path.split(".template")[0] for f in findings] == ["spec.workerGroupSpecs[0]"]


def test_a_release_is_frozen_and_indexed_once():
    release = _release()
    assert isinstance(release.objects, tuple)
    [cluster] = release.of_kind("RayCluster")
    assert release.templates_of(cluster) == tuple(release.pod_templates())
    assert release.object_for(cluster.ref) is cluster
