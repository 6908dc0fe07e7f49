"""How rayfleet reads Kueue and MultiKueue objects (``rayfleet.kueue``), both served API versions:
the chain every ``kueue-*`` policy follows, field by field."""

from __future__ import annotations

import pytest
from rayfleet.fleet import PolicySettings
from rayfleet.kueue import (
    cluster_profiles,
    cluster_queues,
    config_of_check,
    dispatching_queues,
    format_quantity,
    kueue_namespaces,
    local_queues,
    multikueue_checks,
    multikueue_clusters,
    multikueue_configs,
    queue_targets,
    region_label,
    resource_flavors,
)
from rayfleet.manifests import objects_from_text
from rayfleet.subjects import ReleaseObjects

MANAGER = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: dispatch}
spec:
  resourceGroups:
    - coveredResources: [cpu, nvidia.com/gpu]
      flavors:
        - name: h100
          resources:
            - {name: cpu, nominalQuota: 400}
            - {name: nvidia.com/gpu, nominalQuota: "16"}
            - {nominalQuota: 3}
        - name: a100
          resources:
            - {name: nvidia.com/gpu, nominalQuota: 0}
            - {name: memory, nominalQuota: 1200Gi}
    - flavors:
        - name: spot
          resources:
            - {name: nvidia.com/gpu, nominalQuota: 8}
  admissionChecksStrategy:
    admissionChecks: [{name: multikueue}, {name: multikueue}, {nope: 1}]
---
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: old-style}
spec:
  admissionChecks: [multikueue, provisioning, 7]
---
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: local-only}
spec: {}
---
apiVersion: other.example.com/v1
kind: ClusterQueue
metadata: {name: not-kueue}
spec: {admissionChecks: [multikueue]}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: AdmissionCheck
metadata: {name: multikueue}
spec:
  controllerName: kueue.x-k8s.io/multikueue
  parameters: {apiGroup: kueue.x-k8s.io, kind: MultiKueueConfig, name: workers}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: AdmissionCheck
metadata: {name: provisioning}
spec:
  controllerName: kueue.x-k8s.io/provisioning-request
  parameters: {kind: MultiKueueConfig, name: workers}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: MultiKueueConfig
metadata: {name: workers}
spec: {clusters: [eastus2, westus3]}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: MultiKueueCluster
metadata: {name: eastus2, labels: {rayfleet.io/region: eastus2}}
spec:
  clusterSource:
    clusterProfileRef: {name: eastus2}
---
apiVersion: kueue.x-k8s.io/v1beta1
kind: MultiKueueCluster
metadata: {name: westus3}
spec:
  kubeConfig: {locationType: Secret, location: westus3-kubeconfig}
---
apiVersion: multicluster.x-k8s.io/v1alpha1
kind: ClusterProfile
metadata: {name: eastus2, namespace: kueue-system}
---
apiVersion: example.com/v1
kind: ClusterProfile
metadata: {name: other, namespace: kueue-system}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: gpu-batch, namespace: ray}
spec: {clusterQueue: dispatch}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: no-namespace}
spec: {clusterQueue: missing}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: no-target, namespace: ray}
spec: {}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: h100}
spec:
  nodeLabels: {agentpool: h100, gpus: 8}
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  nodeTaints: [{key: sku, value: gpu, effect: NoSchedule}]
"""


@pytest.fixture(scope="module")
def manager() -> ReleaseObjects:
    return ReleaseObjects(objects=objects_from_text(MANAGER, "manager.yaml"), settings=PolicySettings.from_dict({}),
                          kube_version="1.33")


def test_cluster_queues_with_every_quota_and_both_admission_check_shapes(manager) -> None:
    cqs = cluster_queues(manager)
    assert sorted(cqs) == ["dispatch", "local-only", "old-style"]  # not-kueue is another group
    dispatch = cqs["dispatch"]
    assert [(q.flavor, q.resource, q.raw, q.value, q.path) for q in dispatch.quotas] == [
        ("h100", "cpu", 400, 400.0, "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota"),
        ("h100", "nvidia.com/gpu", "16", 16.0, "spec.resourceGroups[0].flavors[0].resources[1].nominalQuota"),
        ("a100", "nvidia.com/gpu", 0, 0.0, "spec.resourceGroups[0].flavors[1].resources[0].nominalQuota"),
        ("a100", "memory", "1200Gi", 1200 * 2**30, "spec.resourceGroups[0].flavors[1].resources[1].nominalQuota"),
        ("spot", "nvidia.com/gpu", 8, 8.0, "spec.resourceGroups[1].flavors[0].resources[0].nominalQuota"),
    ]
    assert dispatch.admission_checks == ("multikueue",)  # once, and the entry without a name dropped
    assert cqs["old-style"].admission_checks == ("multikueue", "provisioning")  # the number is not a name
    assert cqs["local-only"].quotas == () and cqs["local-only"].admission_checks == ()
    assert [q.flavor for q in dispatch.gpu_flavors] == ["h100", "spot"]  # a quota of 0 is no GPU flavor
    assert dispatch.quota("a100", "memory").raw == "1200Gi" and dispatch.quota("a100", "cpu") is None
    assert dispatch.name == "dispatch"


def test_admission_checks_configs_and_clusters(manager) -> None:
    checks = multikueue_checks(manager)
    assert sorted(checks) == ["multikueue"]  # provisioning has another controller
    assert config_of_check(checks["multikueue"]) == "workers"
    assert [cq.name for cq in dispatching_queues(manager)] == ["dispatch", "old-style"]
    assert multikueue_configs(manager)["workers"].clusters == ("eastus2", "westus3")
    clusters = multikueue_clusters(manager)
    assert (clusters["eastus2"].profile, clusters["eastus2"].kubeconfig, clusters["eastus2"].source_path) == (
        "eastus2", None, "spec.clusterSource")
    assert (clusters["westus3"].profile, clusters["westus3"].kubeconfig, clusters["westus3"].source_path) == (
        None, {"locationType": "Secret", "location": "westus3-kubeconfig"}, "spec")
    assert clusters["eastus2"].name == "eastus2"
    assert region_label(clusters["eastus2"].obj) == "eastus2" and region_label(clusters["westus3"].obj) is None
    assert list(cluster_profiles(manager)) == [("kueue-system", "eastus2")]


@pytest.mark.parametrize(("parameters", "config"), [
    ({"apiGroup": "kueue.x-k8s.io", "kind": "MultiKueueConfig", "name": "w"}, "w"),
    ({"kind": "MultiKueueConfig", "name": "w"}, "w"),  # apiGroup defaults to Kueue's
    ({"apiGroup": "example.com", "kind": "MultiKueueConfig", "name": "w"}, None),
    ({"kind": "ProvisioningRequestConfig", "name": "w"}, None),
    ({"kind": "MultiKueueConfig"}, None),
    (None, None),
])
def test_the_config_an_admission_check_names(parameters, config) -> None:
    spec = {"controllerName": "kueue.x-k8s.io/multikueue", **({"parameters": parameters} if parameters else {})}
    [check] = objects_from_text(f"apiVersion: kueue.x-k8s.io/v1beta2\nkind: AdmissionCheck\nmetadata: {{name: c}}\n"
                                f"spec: {spec!r}\n".replace("'", '"'), "c.yaml")
    assert config_of_check(check) == config


def test_local_queues_and_the_cluster_queues_they_point_at(manager) -> None:
    lqs = local_queues(manager)
    assert sorted(lqs) == [("default", "no-namespace"), ("ray", "gpu-batch"), ("ray", "no-target")]
    assert lqs[("ray", "gpu-batch")].cluster_queue == "dispatch" and lqs[("ray", "no-target")].cluster_queue is None
    assert lqs[("default", "no-namespace")].namespace == "default"
    targets = queue_targets(manager, [("ray", "gpu-batch"), ("default", "no-namespace"), ("ray", "absent")])
    assert list(targets) == ["dispatch"]  # 'missing' is not rendered


def test_resource_flavors(manager) -> None:
    flavor = resource_flavors(manager)["h100"]
    assert flavor.node_labels == {"agentpool": "h100", "gpus": "8"}
    assert flavor.tolerations == ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)
    assert flavor.node_taints == ({"key": "sku", "value": "gpu", "effect": "NoSchedule"},)


def test_kueue_namespaces_from_the_rendered_controller_else_the_defaults(manager) -> None:
    assert kueue_namespaces(manager) == {"kueue-system"}
    rendered = ReleaseObjects(objects=objects_from_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kueue-controller-manager, namespace: ray}\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: other, namespace: elsewhere}\n", "k.yaml"),
        settings=PolicySettings.from_dict({}), kube_version="1.33")
    assert kueue_namespaces(rendered) == {"ray"}


@pytest.mark.parametrize(("value", "like", "text"), [
    (1800 * 2**30, "1200Gi", "1800Gi"),
    (1.5 * 2**30, "1Gi", "1.5Gi"),
    (16.0, "8", "16"),
    (16.0, 8, "16"),
    (2.5, None, "2.5"),
    (3000.0, "2k", "3k"),
    (4.0, "4 GPUs", "4"),  # not a quantity unit: plain
])
def test_format_quantity_in_the_unit_of_the_original(value, like, text) -> None:
    assert format_quantity(value, like) == text
