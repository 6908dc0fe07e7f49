"""preflight-gpu-device-plugin against a pool scaled to zero: the taints the pool carries are read
from the GPU group's tolerations, and only from those that stand for a taint (a key, and the
NoSchedule or NoExecute effect). Every field of the finding is checked."""

from __future__ import annotations

from pathlib import Path

from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.policies import preflight_gpu_device_plugin as policy
from rayfleet.runner import check
from rayfleet.subjects import ClusterFacts, LiveCluster, ReleaseObjects

RAY = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray, namespace: ray}
spec:
  headGroupSpec:
    rayStartParams: {}
    template: {spec: {containers: [{name: head, image: "r:1"}]}}
  workerGroupSpecs:
    - groupName: gpu
      replicas: 1
      rayStartParams: {}
      template:
        spec:
          nodeSelector: {agentpool: gpu}
          tolerations:
            - {key: sku, operator: Equal, value: gpu, effect: NoSchedule}
            - {key: evict, operator: Exists, effect: NoExecute}
            - {key: soft, operator: Exists, effect: PreferNoSchedule}
            - {operator: Exists}
            - {operator: Exists, effect: NoSchedule}
          containers:
            - name: w
              image: "r:1"
              resources: {limits: {nvidia.com/gpu: 1}}
"""


def plugin(*tolerations: dict) -> dict:
    return {"metadata": {"name": "nvidia-device-plugin", "namespace": "kube-system"},
            "spec": {"template": {"spec": {"tolerations": list(tolerations),
                                           "containers": [{"name": "p", "image": "nvcr.io/k8s-device-plugin:v0.17"}]}}}}


def view(example_fleet: Path, *daemon_sets: dict) -> LiveCluster:
    fleet = load_fleet(example_fleet)
    region = fleet.regions[0]
    release = ReleaseObjects(objects=objects_from_text(RAY, "ray.yaml"), settings=PolicySettings.from_dict({}),
                             kube_version="1.33")
    facts = ClusterFacts(server="https://127.0.0.1", version={"gitVersion": "v1.33.0"}, crds={}, csi_driver=None,
                         webhook_configurations=[], nodes=[], namespace=None, daemon_sets=list(daemon_sets))
    return LiveCluster(region=region, cluster=facts, release=release, fleet=fleet)


def test_only_keyed_noschedule_and_noexecute_tolerations_stand_for_the_pools_taints(example_fleet) -> None:
    live = view(example_fleet, plugin())
    [tpl] = live.gpu_worker_templates()
    taints, how = policy.pool_taints(live, tpl)
    assert taints == [{"key": "sku", "value": "gpu", "effect": "NoSchedule"},
                      {"key": "evict", "value": None, "effect": "NoExecute"}]
    assert how == "its pool (no nodes yet) is tainted, as the group's tolerations say,"


def test_the_finding_names_the_untolerated_taints_and_every_field(example_fleet) -> None:
    live = view(example_fleet, plugin({"key": "sku", "operator": "Exists"}))
    [f] = check([policy.POLICY], live)
    assert (f.policy, f.severity, f.region) == ("preflight-gpu-device-plugin", Severity.ERROR, live.region.name)
    assert f.obj == ObjectRef("apps/v1", "DaemonSet", "kube-system", "nvidia-device-plugin")
    assert f.path == "spec.template.spec.tolerations"
    assert f.message.startswith("DaemonSet kube-system/nvidia-device-plugin (the NVIDIA device plugin) does not "
                                "tolerate evict:NoExecute, which its pool (no nodes yet) is tainted")
    assert "soft" not in f.message


def test_a_plugin_tolerating_both_taints_passes(example_fleet) -> None:
    live = view(example_fleet, plugin({"key": "sku", "operator": "Exists"}, {"key": "evict", "operator": "Exists"}))
    assert check([policy.POLICY], live) == []
