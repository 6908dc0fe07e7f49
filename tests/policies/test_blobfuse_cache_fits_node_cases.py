"""blobfuse-cache-fits-node: AKS's memory reservation (both rule sets, computed by hand), the
cache sizes read from mount options, and every branch of the check with the boundary (at, below,
above) of the memory and temp-disk limits and whole findings."""

from __future__ import annotations

import dataclasses

import pytest
from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import blobfuse_cache_fits_node as policy
from rayfleet.policies._helpers import BlobVolumeConfig
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

MIB = 2**20
GIB = 2**30
RAY = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray")


@pytest.mark.parametrize(("gib", "version", "mib"), [
    # 1.29+: min(20 MiB x 110 pods + 50 MiB, 25%) + 100 MiB eviction
    (16, "1.33", 16384 - 2250 - 100),
    (16, "1.29", 16384 - 2250 - 100),
    (8, "v1.30", 8192 - 2048 - 100),  # 25% is less than 2250 MiB
    (16, "latest", 16384 - 2250 - 100),  # not 1.<minor>: today's rules
    # before 1.29: 25% of 4 GiB, 20% of 4, 10% of 8, 6% of 112, 2% above; 750 MiB eviction
    (16, "1.28", 16384 - (1024 + 819.2 + 819.2) - 750),
    (2, "1.28", 2048 - 512 - 750),
    (6, "v1.3", 6144 - (1024 + 409.6) - 750),
    (256, "1.27", 262144 - (1024 + 819.2 + 819.2 + 112 * 1024 * 0.06 + 128 * 1024 * 0.02) - 750),
])
def test_allocatable_memory(gib, version, mib):
    assert policy.allocatable_memory(gib, version) == pytest.approx(mib * MIB, rel=1e-12)


def test_allocatable_memory_counts_a_remainder_below_one_byte():
    # 4 GiB + 0.5 B on 1.28: 25% of 4 GiB and 20% of the half byte are reserved
    assert policy.allocatable_memory(4 + 0.5 / GIB, "1.28") == pytest.approx((2322 * MIB) + 0.4, abs=0.01)


def config(*options) -> BlobVolumeConfig:
    obj = objects_from_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "m.yaml")[0]
    return BlobVolumeConfig(obj, "parameters", {}, list(options), "mountOptions")


@pytest.mark.parametrize(("options", "pool", "file"), [
    (["--block-cache", "--block-cache-pool-size=16384"], 16384, 0),
    (["-o allow_other --block-cache --block-cache-pool-size=1.5"], 1.5, 0),
    (["--block-cache", "--cache-size-mb=100"], None, None),  # block mode with no pool size
    (["--block-cache", "--block-cache-pool-size=lots"], None, None),
    (["--cache-size-mb=10"], 0, 10),
    (["-o allow_other", 3, "--cache-size-mb=2048"], 0, 2048),
    (["--cache-size-mb=10=2"], None, None),  # a value with a second '=' is no size
    (["--cache-size-mb"], None, None),
    (["--cache-size-mb="], None, None),
    ([], None, None),
])
def test_cache_size(options, pool, file):
    size = policy.cache_size(config(*options))
    if pool is None:
        assert size is None
        return
    assert (size.block_pool, size.file_cache) == (pool * MIB, file * MIB)
    with pytest.raises(dataclasses.FrozenInstanceError):
        size.file_cache = 0  # type: ignore[misc]


def manifests(*, options: str, vm: str = "Standard_D16ds_v5", memory: str = "32Gi", cpu: str = "2",
              max_replicas: int = 1, head_vm: str | None = None, extra: str = "", protocol: str = "fuse2",
              claim: str = "data") -> str:
    head_vm = head_vm or vm
    return f"""\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: sc}}
provisioner: blob.csi.azure.com
parameters: {{protocol: {protocol}}}
mountOptions: {options}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: ray}}
spec: {{storageClassName: sc}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: disk, namespace: ray}}
spec: {{storageClassName: managed-csi}}
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {{name: ray, namespace: ray}}
spec:
  headGroupSpec:
    rayStartParams: {{}}
    template:
      spec:
        nodeSelector: {{node.kubernetes.io/instance-type: {head_vm}}}
        containers:
        - {{name: head, image: 'r:1', resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}
  workerGroupSpecs:
  - groupName: w
    maxReplicas: {max_replicas}
    rayStartParams: {{}}
    template:
      spec:
        nodeSelector: {{node.kubernetes.io/instance-type: {vm}}}
        containers:
        - {{name: w, image: 'r:1', resources: {{requests: {{cpu: '{cpu}', memory: {memory}}}}}}}
        - {{name: side, image: 's:1'}}
        volumes:
        - {{name: scratch, emptyDir: {{}}}}
        - {{name: other, persistentVolumeClaim: {{claimName: disk}}}}
        - {{name: data, persistentVolumeClaim: {{claimName: {claim}}}}}
{extra}"""


def run(text: str, kube: str = "1.33"):
    release = ReleaseObjects(objects=tuple(objects_from_text(text, "m.yaml")), settings=PolicySettings(),
                             kube_version=kube)
    findings = check([policy.POLICY], release)
    assert all(f.policy == "blobfuse-cache-fits-node" and f.severity is Severity.ERROR for f in findings)
    return [(f.obj, f.path, f.message, f.source.line) for f in findings]


WORKER = "spec.workerGroupSpecs[0].template.spec"
POOL = '["--block-cache", "--block-cache-pool-size={}"]'
FILE = '["--cache-size-mb={}"]'


# Standard_D16ds_v5: 64 GiB, 63186 MiB allocatable on 1.33; the worker asks 47186 MiB
@pytest.mark.parametrize(("pool", "fires"), [(15999, False), (16000, False), (16001, True)])
def test_block_pool_at_below_and_above_the_allocatable_memory(pool, fires):
    found = run(manifests(options=POOL.format(pool), memory="47186Mi"))
    if not fires:
        assert found == []
        return
    assert found == [(RAY, f"{WORKER}.containers",
                      "worker group 'w' of RayCluster 'ray' on Standard_D16ds_v5: memory requests 46.1 GiB + "
                      "BlobFuse2 block-cache pool 15.6 GiB (StorageClass 'sc') per pod need 61.7 GiB, but the node "
                      "has about 61.7 GiB allocatable", 18)]


def test_block_pool_counts_every_pod_a_node_holds():
    # 10 GiB + 2 CPUs a pod: 6 fit a 64 GiB, 16-vCPU node; the group has 3, so 3 share a node
    found = run(manifests(options=POOL.format(12288), memory="10Gi", max_replicas=3))
    assert found == [(RAY, f"{WORKER}.containers",
                      "worker group 'w' of RayCluster 'ray' on Standard_D16ds_v5: memory requests 10.0 GiB + "
                      "BlobFuse2 block-cache pool 12.0 GiB (StorageClass 'sc') per pod, 3 pods per node need "
                      "66.0 GiB, but the node has about 61.7 GiB allocatable", 18)]
    assert run(manifests(options=POOL.format(12288), memory="10Gi", max_replicas=2)) == []


def test_a_group_of_no_pods_is_judged_as_one_pod():
    found = run(manifests(options=POOL.format(20480), memory="50Gi", max_replicas=0))
    assert [m for _, _, m, _ in found] == [
        "worker group 'w' of RayCluster 'ray' on Standard_D16ds_v5: memory requests 50.0 GiB + BlobFuse2 "
        "block-cache pool 20.0 GiB (StorageClass 'sc') per pod need 70.0 GiB, but the node has about 61.7 GiB "
        "allocatable"]


def test_block_pool_uses_the_old_reservation_before_1_29():
    # 1.28: 64 GiB - (1 + 0.8 + 0.8 + 48 x 0.06 GiB) - 750 MiB = 57.79 GiB
    text = manifests(options=POOL.format(9216), memory="48Gi")  # 48 + 9 GiB = 57 GiB: fits
    assert run(text, kube="1.28") == []
    found = run(manifests(options=POOL.format(10240), memory="48Gi"), kube="1.28")  # 58 GiB
    assert [m for _, _, m, _ in found] == [
        "worker group 'w' of RayCluster 'ray' on Standard_D16ds_v5: memory requests 48.0 GiB + BlobFuse2 "
        "block-cache pool 10.0 GiB (StorageClass 'sc') per pod need 58.0 GiB, but the node has about 57.8 GiB "
        "allocatable"]


# Standard_D4ds_v5: a 150 GiB temp disk; 153600 MiB is 150 GiB
@pytest.mark.parametrize(("size", "fires"), [(153599, False), (153600, False), (153601, True)])
def test_file_cache_at_below_and_above_the_temp_disk(size, fires):
    found = run(manifests(options=FILE.format(size), vm="Standard_D4ds_v5", memory="1Gi"))
    if not fires:
        assert found == []
        return
    assert found == [(RAY, f"{WORKER}.volumes",
                      "worker group 'w' of RayCluster 'ray' on Standard_D4ds_v5: BlobFuse2 file cache 150.0 GiB "
                      "(StorageClass 'sc') per pod needs 150.0 GiB on the temp disk (/mnt), which holds 150 GiB",
                      18)]


def test_file_cache_counts_every_pod_a_node_holds():
    found = run(manifests(options=FILE.format(81920), vm="Standard_D4ds_v5", memory="1Gi", max_replicas=2))
    assert [m for _, _, m, _ in found] == [
        "worker group 'w' of RayCluster 'ray' on Standard_D4ds_v5: BlobFuse2 file cache 80.0 GiB (StorageClass "
        "'sc') per pod, 2 pods per node needs 160.0 GiB on the temp disk (/mnt), which holds 150 GiB"]


HEAD_MOUNT = """\
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: solo, namespace: ray}
spec:
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        nodeSelector: {node.kubernetes.io/instance-type: Standard_D4ds_v5}
        containers: [{name: head, image: 'r:1'}]
        volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
"""


def test_a_head_that_mounts_the_volume():
    found = run(manifests(options=FILE.format(204800), vm="Standard_E8ds_v5", extra=HEAD_MOUNT))
    assert found == [(ObjectRef("ray.io/v1", "RayCluster", "ray", "solo"), "spec.headGroupSpec.template.spec.volumes",
                      "head of RayCluster 'solo' on Standard_D4ds_v5: BlobFuse2 file cache 200.0 GiB (StorageClass "
                      "'sc') per pod needs 200.0 GiB on the temp disk (/mnt), which holds 150 GiB", 44)]


def test_a_file_cache_is_not_a_memory_pool():
    # 15 GiB fits the 16 GiB node but not its 13.7 GiB allocatable: not this policy's finding
    assert run(manifests(options=FILE.format(1024), vm="Standard_D4ds_v5", memory="15Gi")) == []


@pytest.mark.parametrize("vm", ["Standard_E8ds_v5", "Standard_D16s_v5"])  # temp disk unknown / none
def test_no_temp_disk_figure_no_file_cache_finding(vm):
    assert run(manifests(options=FILE.format(10**7), vm=vm, memory="1Gi")) == []


@pytest.mark.parametrize("changes", [
    {"protocol": "nfs"},  # NFS: no blobfuse2 cache
    {"claim": "missing"},  # the claim is not in the release
    {"vm": "Standard_Unknown_v9"},  # unknown-vm-size reports it
    {"cpu": "64"},  # does not fit the node at all: the capacity model reports it
    {"options": '["--cache-size-mb=big"]'},  # no size: blobfuse-cache-size reports it
])
def test_nothing_to_judge(changes):
    args = {"options": FILE.format(10**7), "vm": "Standard_D4ds_v5", "memory": "1Gi", **changes}
    assert run(manifests(**args)) == []


PV = """\
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: static}
spec:
  mountOptions: ["--cache-size-mb=204800"]
  csi: {driver: blob.csi.azure.com, volumeHandle: h}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bound, namespace: ray}
spec: {storageClassName: sc, volumeName: static}
"""


def test_a_claim_bound_to_a_static_pv_uses_the_pv_cache():
    found = run(manifests(options=FILE.format(1024), vm="Standard_D4ds_v5", memory="1Gi", claim="bound", extra=PV))
    assert [m for _, _, m, _ in found] == [
        "worker group 'w' of RayCluster 'ray' on Standard_D4ds_v5: BlobFuse2 file cache 200.0 GiB "
        "(PersistentVolume 'static') per pod needs 200.0 GiB on the temp disk (/mnt), which holds 150 GiB"]


OTHER_PODS = """\
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: elsewhere}
spec: {storageClassName: sc}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ray}
spec:
  template:
    spec:
      nodeSelector: {node.kubernetes.io/instance-type: Standard_D4ds_v5}
      containers: [{name: web, image: 'w:1'}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: away, namespace: elsewhere}
spec:
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        nodeSelector: {node.kubernetes.io/instance-type: Standard_D4ds_v5}
        containers: [{name: head, image: 'r:1'}]
        volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
"""


def test_only_ray_heads_and_workers_and_claims_of_their_namespace():
    text = manifests(options=FILE.format(204800), vm="Standard_E8ds_v5", extra=OTHER_PODS)
    # the Deployment is not a Ray pod; RayCluster 'away' finds the claim of its own namespace
    found = run(text)
    assert [(o.name, p) for o, p, _, _ in found] == [("away", "spec.headGroupSpec.template.spec.volumes")]
    assert run(text.replace("namespace: elsewhere}\nspec: {storageClassName: sc}", "namespace: x}\nspec: {}")) == []
