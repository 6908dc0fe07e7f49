"""kueue-flavors-match-node-pools on small releases: which groups count (GPU workers of the release's
own RayClusters; not CPU groups, not a GPU head, not queued RayClusters or RayJobs), a release with
GPU quota but no RayCluster (a MultiKueue manager), a flavor no ClusterQueue gives GPU quota, and how
tolerations compare (operator Exists, a missing operator meaning Equal). Every field of each finding."""

from __future__ import annotations

import pytest
from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import kueue_flavors_match_node_pools as policy
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

GPU_TOLERATION = "{key: sku, operator: Equal, value: gpu, effect: NoSchedule}"
CPU_GROUP = """\
  - groupName: cpu
    rayStartParams: {}
    template:
      spec:
        nodeSelector: {agentpool: cpu}
        containers: [{name: w, image: 'rayproject/ray:2.52.0', resources: {limits: {cpu: '8'}}}]
"""


def ray_cluster(*, name: str = "ray", kind: str = "RayCluster", labels: str = "{}", group: str = "h100",
                tolerations: str = GPU_TOLERATION, head_gpus: int = 0, extra_group: str = CPU_GROUP) -> str:
    head_limits = f"{{nvidia.com/gpu: {head_gpus}}}" if head_gpus else "{cpu: '4'}"
    spec = f"""\
  headGroupSpec:
    rayStartParams: {{}}
    template:
      spec:
        containers: [{{name: ray-head, image: 'rayproject/ray:2.52.0', resources: {{limits: {head_limits}}}}}]
  workerGroupSpecs:
  - groupName: {group}
    rayStartParams: {{}}
    template:
      spec:
        nodeSelector: {{agentpool: h100}}
        tolerations: [{tolerations}]
        containers: [{{name: w, image: 'rayproject/ray:2.52.0', resources: {{limits: {{nvidia.com/gpu: 1}}}}}}]
{extra_group}"""
    if kind == "RayJob":
        spec = "  entrypoint: python x.py\n  rayClusterSpec:\n" + "".join(f"  {line}\n" for line in spec.splitlines())
    return (f"apiVersion: ray.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: ray\n  labels: {labels}\n"
            f"spec:\n{spec}")


def flavor(name: str = "h100", tolerations: str = GPU_TOLERATION,
           taints: str = "[{key: sku, value: gpu, effect: NoSchedule}]") -> str:
    return (f"apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata: {{name: {name}}}\nspec:\n"
            f"  nodeLabels: {{agentpool: h100}}\n  tolerations: [{tolerations}]\n  nodeTaints: {taints}\n")


def queue(*flavors: str) -> str:
    entries = "".join(f"    - name: {f}\n      resources: [{{name: nvidia.com/gpu, nominalQuota: 4}}]\n"
                      for f in flavors)
    return ("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: ray-gpu}\nspec:\n"
            "  namespaceSelector: {}\n  resourceGroups:\n  - coveredResources: [nvidia.com/gpu]\n    flavors:\n"
            + entries)


def run(*docs: str):
    text = "---\n".join(docs)
    release = ReleaseObjects(objects=objects_from_text(text, "m.yaml"), settings=PolicySettings.from_dict({}),
                             kube_version="1.33")
    return check([policy.POLICY], release)


def fields(f) -> tuple:
    return (f.policy, f.severity, f.obj, f.path, f.message, f.source.file, f.source.line)


RAY = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray")
H100 = ObjectRef("kueue.x-k8s.io/v1beta2", "ResourceFlavor", None, "h100")
QUEUE = ObjectRef("kueue.x-k8s.io/v1beta2", "ClusterQueue", None, "ray-gpu")
# Sources are the object's first line in m.yaml: the RayCluster (26 lines) at 1, each further
# document after a "---" line (a flavor is 7 lines).


def test_the_base_release_passes() -> None:
    # A GPU group with its flavor and quota, a CPU group (no flavor needed), a head without GPUs.
    assert run(ray_cluster(), flavor(), queue("h100")) == []


def test_a_gpu_head_is_not_a_worker_group() -> None:
    assert run(ray_cluster(head_gpus=1), flavor(), queue("h100")) == []


def test_a_gpu_group_without_a_flavor_and_a_quota_without_a_group() -> None:
    # The group is 'a100' (no flavor of that name); the queue's 'h100' quota has no group of its name.
    findings = run(ray_cluster(group="a100"), flavor(), queue("h100"))
    assert sorted(fields(f) for f in findings) == sorted([
        ("kueue-flavors-match-node-pools", Severity.ERROR, RAY, "spec.workerGroupSpecs[0].template.spec",
         "GPU worker group 'a100' has no ResourceFlavor named after it: Kueue cannot place queued GPU jobs on its "
         "node pool", "m.yaml", 1),
        ("kueue-flavors-match-node-pools", Severity.ERROR, QUEUE,
         "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota",
         "ClusterQueue ray-gpu gives GPU quota to flavor 'h100', which is no GPU worker group's: its nodes are "
         "not a node pool this release runs Ray on", "m.yaml", 36)])


def test_a_flavor_no_clusterqueue_gives_gpu_quota_is_reported() -> None:
    # The group's flavor exists and matches, but the queue gives GPU quota to another flavor only.
    findings = run(ray_cluster(), flavor(), flavor("a100"), queue("a100"))
    assert sorted(fields(f) for f in findings) == sorted([
        ("kueue-flavors-match-node-pools", Severity.ERROR, RAY, "spec.workerGroupSpecs[0].template.spec",
         "GPU worker group 'h100' has a ResourceFlavor no ClusterQueue gives GPU quota named after it: Kueue "
         "cannot place queued GPU jobs on its node pool", "m.yaml", 1),
        ("kueue-flavors-match-node-pools", Severity.ERROR,
         QUEUE, "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota",
         "ClusterQueue ray-gpu gives GPU quota to flavor 'a100', which is no GPU worker group's: its nodes are "
         "not a node pool this release runs Ray on", "m.yaml", 44)])


def test_gpu_quota_without_any_raycluster_is_not_judged() -> None:
    # A MultiKueue manager: GPU quota, flavors, no RayCluster of its own.
    assert run(flavor(), queue("h100")) == []


@pytest.mark.parametrize("labels", ["{kueue.x-k8s.io/queue-name: gpu-batch}"])
def test_queued_rayclusters_and_rayjobs_are_not_node_pools(labels) -> None:
    # Their groups (named after no flavor) are jobs Kueue places, not the release's pools.
    findings = run(ray_cluster(), ray_cluster(name="queued", labels=labels, group="queued-gpu"),
                   ray_cluster(name="job", kind="RayJob", group="job-gpu"), flavor(), queue("h100"))
    assert findings == []


@pytest.mark.parametrize(("group_tolerations", "flavor_tolerations"), [
    ("{key: sku, operator: Exists}", "{key: sku, operator: Exists}"),  # Exists tolerates sku=gpu
    ("{key: sku, value: gpu, effect: NoSchedule}", GPU_TOLERATION),  # no operator means Equal
    ("{operator: Exists}", "{operator: Exists}"),  # tolerates every taint
])
def test_equal_tolerations_that_tolerate_the_taint_pass(group_tolerations, flavor_tolerations) -> None:
    assert run(ray_cluster(tolerations=group_tolerations), flavor(tolerations=flavor_tolerations),
               queue("h100")) == []


def test_a_taint_the_group_does_not_tolerate_is_reported_with_every_field() -> None:
    toleration = "{key: sku, operator: Equal, value: cpu, effect: NoSchedule}"
    findings = run(ray_cluster(tolerations=toleration), flavor(tolerations=toleration), queue("h100"))
    assert [fields(f) for f in findings] == [
        ("kueue-flavors-match-node-pools", Severity.ERROR, H100, "spec.nodeTaints[0]",
         "ResourceFlavor h100 declares node taint sku=gpu:NoSchedule that worker group 'h100' does not tolerate",
         "m.yaml", 28)]
