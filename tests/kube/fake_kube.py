"""A fake AKS API server for the real ``kubernetes`` client: objects shaped like a real AKS
cluster's (1.33, KubeRay 1.7 CRDs, the managed Blob CSI driver and workload identity add-on, a
system pool and GPU pools), served by ``tests/support/https_server.py`` over HTTPS.

``FakeCluster`` holds the state; ``serve(server)`` answers the paths rayfleet reads:
/version, apiextensions CRDs, storage.k8s.io csidrivers, admissionregistration mutating webhook
configurations, /api/v1/nodes, /api/v1/namespaces/{ns}, and ray.io/v1 rayclusters (list, and
watch as newline-delimited events). Every request must carry ``Authorization: Bearer <token>``;
``expired = True`` answers 401 like an API server given an expired token. It also serves Flux
HelmReleases (``helmreleases``), as a member cluster under GitOps delivery does, and, as a
MultiKueue manager, multicluster.x-k8s.io/v1alpha1 ClusterProfiles (list with a label selector,
get, and PATCH of the main resource and of the ``status`` subresource, each changing only its own
part as an API server does for a CRD with ``subresources.status``).

For ``rayfleet status`` it also serves Helm's release Secrets (label selectors), pods (field
selectors on ``status.phase``), PersistentVolumeClaims, RayClusters and RayJobs in all namespaces,
and Kueue's ``kueue.x-k8s.io`` objects (ClusterQueues, AdmissionChecks, MultiKueueClusters,
Workloads) when ``kueue`` is set; without it Kueue's API answers 404 as on a cluster without Kueue.
``delay`` holds every answer back (timeouts).

``FakeHub`` is an Azure Kubernetes Fleet Manager hub: MemberClusters, a placement's resource
snapshots, ClusterStagedUpdateRuns that advance one step per read (as kubefleet's controller
would), and their ClusterApprovalRequests.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rayfleet.commands.fleet_manager import RegionCheck
from rayfleet.fleet import Region

from tests.support.https_server import HttpsServer, Reply, Request

TOKEN = "rayfleet-test-token"


def status(code: int, reason: str, message: str) -> Reply:
    return Reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": message, "reason": reason, "code": code})


# --- objects shaped like AKS's --------------------------------------------------------------------

def aks_node(name: str, pool: str, vm_size: str, *, gpus: int = 0, taints: list[dict] | None = None,
             mode: str = "User", spot: bool = False, region: str = "eastus2") -> dict[str, Any]:
    labels = {
        "agentpool": pool, "kubernetes.azure.com/agentpool": pool, "kubernetes.azure.com/mode": mode.lower(),
        "kubernetes.azure.com/cluster": "MC_rg-rayfleet_rayfleet_" + region, "kubernetes.azure.com/role": "agent",
        "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
        "node.kubernetes.io/instance-type": vm_size, "beta.kubernetes.io/instance-type": vm_size,
        "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": f"{region}-1",
    }
    if gpus:
        labels["accelerator"] = "nvidia"
    if spot:
        labels["kubernetes.azure.com/scalesetpriority"] = "spot"
    allocatable = {"cpu": "15740m", "memory": "57409536Ki", "pods": "110", "ephemeral-storage": "119703055367"}
    if gpus:
        allocatable["nvidia.com/gpu"] = str(gpus)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "resourceVersion": "1001",
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"providerID": f"azure:///subscriptions/x/resourceGroups/mc/providers/Microsoft.Compute/"
                               f"virtualMachineScaleSets/aks-{pool}-vmss/virtualMachines/0",
                 **({"taints": taints} if taints else {})},
        "status": {"allocatable": allocatable, "capacity": dict(allocatable),
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                   "nodeInfo": {"kubeletVersion": "v1.33.2", "osImage": "Ubuntu 22.04.5 LTS",
                                "containerRuntimeVersion": "containerd://1.7.27-1"}},
    }


GPU_TAINT = {"key": "sku", "value": "gpu", "effect": "NoSchedule"}
SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}


def default_nodes() -> list[dict[str, Any]]:
    """eastus2 of the example fleet: a system pool, a CPU pool, an H100 pool (tainted sku=gpu)."""
    return [
        aks_node("aks-system-12345678-vmss000000", "system", "Standard_D4ds_v5", mode="System",
                 taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}]),
        aks_node("aks-raycpu-23456789-vmss000000", "raycpu", "Standard_D16ds_v5"),
        aks_node("aks-h100-34567890-vmss000000", "h100", "Standard_NC40ads_H100_v5", gpus=1, taints=[GPU_TAINT]),
        aks_node("aks-h100-34567890-vmss000001", "h100", "Standard_NC40ads_H100_v5", gpus=1, taints=[GPU_TAINT]),
    ]


def kuberay_crd(name: str, served: tuple[str, ...] = ("v1", "v1alpha1")) -> dict[str, Any]:
    plural, _, group = name.partition(".")
    kind = {"rayclusters": "RayCluster", "rayjobs": "RayJob", "rayservices": "RayService"}[plural]
    versions = [{"name": v, "served": True, "storage": v == "v1" or served == (v,),
                 **({"deprecated": True} if v == "v1alpha1" else {}),
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                 "subresources": {"status": {}}} for v in served]
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.5"},
                     "resourceVersion": "2001", "generation": 1},
        "spec": {"group": group, "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                                           "singular": kind.lower(), "categories": ["all"]},
                 "scope": "Namespaced", "versions": versions, "conversion": {"strategy": "None"}},
        "status": {"acceptedNames": {"kind": kind, "plural": plural}, "storedVersions": [served[0]],
                   "conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}]},
    }


def blob_csi_driver(*, token_requests: bool = True, requires_republish: bool = True) -> dict[str, Any]:
    """The AKS-managed driver's CSIDriver (blob-csi-driver deploy/csi-blob-driver.yaml)."""
    spec: dict[str, Any] = {"attachRequired": False, "podInfoOnMount": True,
                            "fsGroupPolicy": "ReadWriteOnceWithFSType",
                            "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                            "requiresRepublish": requires_republish, "storageCapacity": False,
                            "seLinuxMount": False}
    if token_requests:
        spec["tokenRequests"] = [{"audience": "api://AzureADTokenExchange", "expirationSeconds": 3600}]
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
            "metadata": {"name": "blob.csi.azure.com", "resourceVersion": "3001",
                         "labels": {"addonmanager.kubernetes.io/mode": "Reconcile",
                                    "kubernetes.io/cluster-service": "true"}},
            "spec": spec}


def daemon_set(name: str, ns: str, image: str, *, container: str = "main", tolerations: list[dict] | None = None,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A DaemonSet as the API server lists it (only the fields preflight reads, plus some noise)."""
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "resourceVersion": "8001",
                         "generation": 1},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": container, "image": image}],
                                           **({"tolerations": tolerations} if tolerations else {})}},
                     "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"desiredNumberScheduled": 2, "numberReady": 2}}


def blob_csi_node(version: str = "v1.26.4") -> dict[str, Any]:
    """The AKS-managed Blob CSI node plugin (container ``blob``, image tag = driver version)."""
    return daemon_set("csi-blob-node", "kube-system", f"mcr.microsoft.com/oss/v2/kubernetes-csi/blob-csi:{version}",
                      container="blob", tolerations=[{"operator": "Exists"}],
                      labels={"addonmanager.kubernetes.io/mode": "Reconcile"})


# The nvidia-device-plugin Helm chart's default tolerations, plus the sku=gpu taint of the example's
# GPU pools (what a platform team adds with --set-json tolerations=...).
DEVICE_PLUGIN_TOLERATIONS = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                             {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                             {"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]


def device_plugin(tolerations: list[dict] | None = None) -> dict[str, Any]:
    return daemon_set("nvidia-device-plugin", "gpu-resources", "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
                      container="nvidia-device-plugin-ctr",
                      tolerations=DEVICE_PLUGIN_TOLERATIONS if tolerations is None else tolerations,
                      labels={"app.kubernetes.io/name": "nvidia-device-plugin"})


def wi_webhook_configuration(name: str = "azure-wi-webhook-mutating-webhook-configuration") -> dict[str, Any]:
    """The AKS workload identity add-on's webhook (azure-workload-identity deploy manifest)."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": name, "labels": {"azure-workload-identity.io/system": "true"},
                         "resourceVersion": "4001"},
            "webhooks": [{"name": "mutation.azure-workload-identity.io",
                          "admissionReviewVersions": ["v1", "v1beta1"],
                          "clientConfig": {"service": {"name": "azure-wi-webhook-webhook-service",
                                                       "namespace": "kube-system", "path": "/mutate-v1-pod",
                                                       "port": 443}, "caBundle": "LS0tLS1CRUdJTi0tLS0t"},
                          "failurePolicy": "Fail", "matchPolicy": "Equivalent", "sideEffects": "None",
                          "objectSelector": {"matchLabels": {"azure.workload.identity/use": "true"}},
                          "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                     "resources": ["pods"], "scope": "*"}],
                          "reinvocationPolicy": "Never", "timeoutSeconds": 10}]}


def other_webhook(name: str) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": name},
            "webhooks": [{"name": f"{name}.azmk8s.io", "admissionReviewVersions": ["v1"],
                          "clientConfig": {"url": "https://aks-webhook.kube-system.svc:443/mutate"},
                          "sideEffects": "None"}]}


def namespace(name: str, phase: str = "Active") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}, "resourceVersion": "5001"},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": phase}}


def raycluster(name: str, ns: str = "ray", *, state: str | None = None, head_ready: str | None = None,
               provisioned: str | None = None, generation: int = 1, observed: int | None = 1,
               replica_failure: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {}
    conditions = []
    if head_ready is not None:
        conditions.append({"type": "HeadPodReady", "status": head_ready, "lastTransitionTime": "2026-09-01T10:00:00Z",
                           "reason": "HeadPodRunningAndReady" if head_ready == "True" else "HeadPodNotFound",
                           "message": ""})
    if provisioned is not None:
        conditions.append({"type": "RayClusterProvisioned", "status": provisioned,
                           "lastTransitionTime": "2026-09-01T10:00:00Z",
                           "reason": "AllPodRunningAndReadyFirstTime" if provisioned == "True"
                           else "RayClusterPodsProvisioning", "message": ""})
    if replica_failure is not None:
        conditions.append({"type": "ReplicaFailure", "status": "True", "lastTransitionTime": "2026-09-01T10:00:00Z",
                           "reason": "FailedCreateWorkerPod", "message": replica_failure})
    if conditions:
        status["conditions"] = conditions
    if state is not None:
        status["state"] = state
    if observed is not None and (conditions or state):
        status["observedGeneration"] = observed
    if status:
        status.update({"desiredWorkerReplicas": 1, "availableWorkerReplicas": 1 if state == "ready" else 0,
                       "desiredGPU": "0", "desiredCPU": "9", "desiredMemory": "72Gi"})
    return {"apiVersion": "ray.io/v1", "kind": "RayCluster",
            "metadata": {"name": name, "namespace": ns, "generation": generation, "resourceVersion": "6001",
                         "uid": "0b7c2d1e-0000-4000-8000-000000000001"},
            "spec": {"rayVersion": "2.52.0", "headGroupSpec": {"rayStartParams": {}, "template": {}}},
            **({"status": status} if status else {})}


# --- what rayfleet status reads -----------------------------------------------------------------

def helm_release_secret(name: str, namespace: str, revision: int, *, status: str = "deployed",
                        chart: str = "ray-aks", chart_version: str = "0.1.0", app_version: str = "2.52.0",
                        config: dict[str, Any] | None = None, description: str = "Upgrade complete",
                        last_deployed: str = "2026-11-30T09:12:41.519317+00:00",
                        gzipped: bool = True) -> dict[str, Any]:
    """A release Secret as Helm 3/4's Secrets driver writes it: the release as JSON, gzipped and
    base64-encoded (pkg/storage/driver/util.go), stored under data.release, which the API server
    shows base64-encoded once more."""
    release = {
        "name": name, "namespace": namespace, "version": revision,
        "info": {"first_deployed": "2026-09-01T08:00:00.000000+00:00", "last_deployed": last_deployed,
                 "deleted": "", "description": description, "status": status, "notes": ""},
        "chart": {"metadata": {"name": chart, "version": chart_version, "appVersion": app_version,
                               "apiVersion": "v2", "type": "application"},
                  "lock": None,
                  "templates": [{"name": "templates/raycluster.yaml", "data": "a2luZDogUmF5Q2x1c3Rlcgo="}],
                  "values": {"ray-cluster": {"enabled": True}}, "schema": None, "files": []},
        "config": config or {}, "manifest": "---\n# Source: ray-aks/templates/raycluster.yaml\nkind: RayCluster\n",
        "hooks": [], "labels": {},
    }
    payload = json.dumps(release).encode()
    helm = base64.b64encode(gzip.compress(payload) if gzipped else payload)
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": namespace,
                         "labels": {"name": name, "owner": "helm", "status": status, "version": str(revision)},
                         "resourceVersion": str(8000 + revision)},
            "data": {"release": base64.b64encode(helm).decode()}}


def ray_pod(cluster: str, group: str, node: str | None, *, ns: str = "ray", index: int = 0, gpus: int = 0,
            ready: bool = True, phase: str = "Running") -> dict[str, Any]:
    """A KubeRay pod (labels from KubeRay's utils: ray.io/cluster, ray.io/group, ray.io/node-type)."""
    head = group == "headgroup"
    name = f"{cluster}-{'head' if head else group + '-worker'}-{index:05d}"
    resources: dict[str, Any] = {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"memory": "16Gi"}}
    if gpus:
        resources["limits"]["nvidia.com/gpu"] = str(gpus)
    status: dict[str, Any] = {"phase": phase,
                              "conditions": [{"type": "Ready", "status": "True" if ready else "False"},
                                             {"type": "PodScheduled", "status": "True" if node else "False"}]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns,
                         "labels": {"ray.io/cluster": cluster, "ray.io/group": group,
                                    "ray.io/node-type": "head" if head else "worker",
                                    "app.kubernetes.io/created-by": "kuberay-operator"}},
            "spec": {"containers": [{"name": "ray-head" if head else "ray-worker", "image": "rayproject/ray:2.52.0",
                                     "resources": resources}], **({"nodeName": node} if node else {})},
            "status": status}


def ray_cluster_with_groups(name: str, groups: dict[str, int], *, ns: str = "ray", state: str = "ready",
                            head_ready: str = "True", provisioned: str = "True",
                            owner: str | None = None) -> dict[str, Any]:
    """A RayCluster with worker groups (group name → replicas), status as KubeRay 1.7 writes it."""
    obj = raycluster(name, ns, state=state, head_ready=head_ready, provisioned=provisioned)
    obj["spec"]["workerGroupSpecs"] = [
        {"groupName": g, "replicas": n, "minReplicas": 0, "maxReplicas": max(n, 4), "rayStartParams": {},
         "template": {}} for g, n in groups.items()]
    obj["status"]["desiredWorkerReplicas"] = sum(groups.values())
    if owner:
        obj["metadata"]["ownerReferences"] = [{"apiVersion": "ray.io/v1", "kind": "RayJob", "name": owner,
                                               "uid": "0b7c2d1e-0000-4000-8000-000000000002", "controller": True}]
    return obj


def rayjob(name: str, deployment_status: str, *, ns: str = "ray") -> dict[str, Any]:
    job_status = {"Running": "RUNNING", "Complete": "SUCCEEDED", "Failed": "FAILED"}.get(deployment_status, "PENDING")
    return {"apiVersion": "ray.io/v1", "kind": "RayJob",
            "metadata": {"name": name, "namespace": ns, "generation": 1,
                         "labels": {"kueue.x-k8s.io/queue-name": "ray-jobs"}},
            "spec": {"entrypoint": "python train.py", "shutdownAfterJobFinishes": True},
            "status": {"jobDeploymentStatus": deployment_status, "jobStatus": job_status,
                       "rayClusterName": f"{name}-raycluster-abcde", "observedGeneration": 1}}


def pvc(name: str, *, ns: str = "ray", phase: str = "Bound", storage_class: str = "ray-blob-fuse") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": "10Ti"}}},
            "status": {"phase": phase, **({"accessModes": ["ReadWriteMany"], "capacity": {"storage": "10Ti"}}
                                          if phase == "Bound" else {})}}


def cluster_queue(name: str, *, gpus: int, used: int = 0, pending: int = 0, admitted: int = 0,
                  flavor: str = "gpu", checks: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Kueue v1beta2 ClusterQueue (apis/kueue/v1beta2/clusterqueue_types.go)."""
    spec: dict[str, Any] = {"namespaceSelector": {}, "resourceGroups": [{
        "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
        "flavors": [{"name": flavor, "resources": [{"name": "cpu", "nominalQuota": "400"},
                                                   {"name": "memory", "nominalQuota": "3000Gi"},
                                                   {"name": "nvidia.com/gpu", "nominalQuota": str(gpus)}]}]}]}
    if checks:
        spec["admissionChecksStrategy"] = {"admissionChecks": [{"name": c} for c in checks]}
    usage = [{"name": flavor, "resources": [{"name": "cpu", "total": str(used * 8)},
                                            {"name": "memory", "total": f"{used * 64}Gi"},
                                            {"name": "nvidia.com/gpu", "total": str(used)}]}]
    return {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue", "metadata": {"name": name},
            "spec": spec,
            "status": {"pendingWorkloads": pending, "reservingWorkloads": admitted, "admittedWorkloads": admitted,
                       "flavorsReservation": usage, "flavorsUsage": usage,
                       "conditions": [{"type": "Active", "status": "True", "reason": "Ready",
                                       "message": "Can admit new workloads"}]}}


def admission_check(name: str, controller: str = "kueue.x-k8s.io/multikueue") -> dict[str, Any]:
    return {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "AdmissionCheck", "metadata": {"name": name},
            "spec": {"controllerName": controller, "parameters": {"apiGroup": "kueue.x-k8s.io",
                                                                   "kind": "MultiKueueConfig", "name": "fleet"}},
            "status": {"conditions": [{"type": "Active", "status": "True", "reason": "Active"}]}}


def multikueue_cluster(name: str, *, active: bool = True, message: str = "Connected") -> dict[str, Any]:
    return {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "MultiKueueCluster", "metadata": {"name": name},
            "spec": {"clusterSource": {"clusterProfileRef": {"name": name}}},
            "status": {"conditions": [{"type": "Active", "status": "True" if active else "False",
                                       "reason": "Active" if active else "ClientConnectionFailed",
                                       "message": message}]}}


def workload(job: str, *, ns: str = "ray", cluster: str | None = None, nominated: tuple[str, ...] = (),
             state: str = "admitted", queue: str = "fleet-gpu",
             created: str = "2026-12-01T23:00:00Z") -> dict[str, Any]:
    """A Workload for a RayJob as Kueue writes it on a MultiKueue manager (status.clusterName once
    a worker admitted it; status.nominatedClusterNames while it is being placed)."""
    conditions = []
    if state in ("reserved", "admitted", "finished", "failed"):
        conditions.append({"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved"})
    if state in ("admitted", "finished", "failed"):
        conditions.append({"type": "Admitted", "status": "True", "reason": "Admitted"})
    if state in ("finished", "failed"):
        conditions.append({"type": "Finished", "status": "True",
                           "reason": "Succeeded" if state == "finished" else "Failed"})
    if state == "pending":
        conditions.append({"type": "QuotaReserved", "status": "False", "reason": "Pending",
                           "message": "couldn't assign flavors to pod set head"})
    status: dict[str, Any] = {"conditions": conditions}
    if state != "pending":
        status["admission"] = {"clusterQueue": queue, "podSetAssignments": [{"name": "head", "count": 1}]}
    if cluster:
        status["clusterName"] = cluster
    if nominated:
        status["nominatedClusterNames"] = list(nominated)
    return {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
            "metadata": {"name": f"rayjob-{job}-3f9a1", "namespace": ns, "creationTimestamp": created,
                         "labels": {"kueue.x-k8s.io/job-uid": "0b7c2d1e-0000-4000-8000-000000000003"},
                         "ownerReferences": [{"apiVersion": "ray.io/v1", "kind": "RayJob", "name": job,
                                              "uid": "0b7c2d1e-0000-4000-8000-000000000003", "controller": True}]},
            "spec": {"queueName": "ray-jobs", "podSets": [{"name": "head", "count": 1, "template": {}}]},
            "status": status}


@dataclass
class FakeKueue:
    """Kueue's objects in one cluster, by plural."""

    clusterqueues: list[dict[str, Any]] = field(default_factory=list)
    admissionchecks: list[dict[str, Any]] = field(default_factory=list)
    multikueueclusters: list[dict[str, Any]] = field(default_factory=list)
    workloads: list[dict[str, Any]] = field(default_factory=list)


def _matches_labels(obj: dict[str, Any], selector: str) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def _matches_fields(obj: dict[str, Any], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if key == "status.phase" and (obj.get("status") or {}).get("phase") == value:
                return False
        else:
            key, _, value = term.partition("=")
            if key == "metadata.name" and (obj.get("metadata") or {}).get("name") != value:
                return False
    return True


# --- the cluster --------------------------------------------------------------------------------

@dataclass
class FakeCluster:
    """One fake AKS cluster. Change the fields to remove a piece; the routes read them live."""

    git_version: str = "v1.33.2"
    crds: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        n: kuberay_crd(n) for n in ("rayclusters.ray.io", "rayjobs.ray.io", "rayservices.ray.io")})
    csi_driver: dict[str, Any] | None = field(default_factory=blob_csi_driver)
    webhooks: list[dict[str, Any]] = field(default_factory=lambda: [
        other_webhook("aks-webhook-admission-controller"), wi_webhook_configuration()])
    nodes: list[dict[str, Any]] | None = field(default_factory=default_nodes)  # None: the list answers 404
    namespaces: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        n: namespace(n) for n in ("default", "kube-system", "ray")})
    daemon_sets: list[dict[str, Any]] = field(default_factory=lambda: [blob_csi_node(), device_plugin()])
    applied: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)  # SSA (name, query, body)
    forbid_apply: bool = False
    # (namespace, name) → the RayCluster's successive states: a list returns the current one, a
    # watch sends the rest as MODIFIED events and moves to the last.
    rayclusters: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    raycluster_index: dict[tuple[str, str], int] = field(default_factory=dict)
    helmreleases: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    watch_delay: float = 0.0
    # (namespace, name) -> ClusterProfile; None: the CRD is not installed (404)
    cluster_profiles: dict[tuple[str, str], dict[str, Any]] | None = field(default_factory=dict)
    profile_writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (path kind, name, body)
    forbid_profile_writes: bool = False
    secrets: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    pvcs: list[dict[str, Any]] = field(default_factory=list)
    rayjobs: list[dict[str, Any]] = field(default_factory=list)
    kueue: FakeKueue | None = None
    delay: float = 0.0  # seconds every answer is held back
    forbidden: set[str] = field(default_factory=set)  # resources answered with 403 (e.g. {"secrets"})
    expired: bool = False
    token: str = TOKEN
    prefix: str = ""

    def _auth(self, request: Request) -> Reply | None:
        if self.expired or request.headers.get("authorization") != f"Bearer {self.token}":
            return status(401, "Unauthorized", "Unauthorized")
        return None

    def _guarded(self, handler: Any, resource: str = "") -> Any:
        def serve(request: Request) -> Reply:
            reply = self._auth(request)
            if reply is None and resource in self.forbidden:
                reply = status(403, "Forbidden", f'{resource} is forbidden: User "rayfleet" cannot list resource '
                                                 f'"{resource}" in API group "" at the cluster scope')
            reply = reply or handler(request)
            if self.delay:
                reply.delay = self.delay
            return reply
        return serve

    def serve(self, server: HttpsServer) -> FakeCluster:
        p = self.prefix
        routes = {
            r"/version/?": self._version,
            r"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/(?P<name>[^/]+)": self._crd,
            r"/apis/storage.k8s.io/v1/csidrivers/(?P<name>[^/]+)": self._csi,
            r"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations": self._webhooks,
            r"/api/v1/nodes": self._nodes,
            r"/api/v1/namespaces/(?P<name>[^/]+)": self._namespace,
            r"/apis/ray.io/v1/namespaces/(?P<ns>[^/]+)/rayclusters": self._rayclusters,
            r"/apis/helm.toolkit.fluxcd.io/v2/namespaces/(?P<ns>[^/]+)/helmreleases/(?P<name>[^/]+)":
                self._helmrelease,
            r"/apis/apps/v1/daemonsets": self._daemon_sets,
        }
        for pattern, handler in routes.items():
            server.route("GET", p + pattern, self._guarded(handler))
        profiles = r"/apis/multicluster.x-k8s.io/v1alpha1"
        one = profiles + r"/namespaces/(?P<ns>[^/]+)/clusterprofiles/(?P<name>[^/]+)"
        server.route("GET", p + profiles + r"/clusterprofiles", self._guarded(self._list_profiles))
        server.route("GET", p + one, self._guarded(self._get_profile))
        server.route("PATCH", p + one, self._guarded(lambda r: self._patch_profile(r, subresource=False)))
        server.route("PATCH", p + one + "/status", self._guarded(lambda r: self._patch_profile(r, subresource=True)))
        server.route("PATCH", p + r"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/(?P<name>[^/]+)",
                     self._guarded(self._apply_crd))
        status_routes = {
            r"/api/v1/namespaces/(?P<ns>[^/]+)/secrets": ("secrets", self._secrets),
            r"/api/v1/pods": ("pods", self._pods),
            r"/api/v1/namespaces/(?P<ns>[^/]+)/persistentvolumeclaims": ("persistentvolumeclaims", self._pvcs),
            r"/apis/ray.io/v1/rayclusters": ("rayclusters", self._all_rayclusters),
            r"/apis/ray.io/v1/rayjobs": ("rayjobs", self._rayjobs),
            r"/apis/kueue.x-k8s.io/(?P<version>[^/]+)/(?P<plural>[a-z]+)": ("kueue", self._kueue),
        }
        for pattern, (resource, handler) in status_routes.items():
            server.route("GET", p + pattern, self._guarded(handler, resource))
        return self

    def _daemon_sets(self, request: Request) -> Reply:
        return self._list("DaemonSet", "apps/v1", self.daemon_sets)

    def _apply_crd(self, request: Request) -> Reply:
        """Server-side apply, as the API server takes it: only application/apply-patch+yaml with a
        fieldManager; the applied object becomes the served CRD."""
        name = request.match["name"]
        if request.headers.get("content-type") != "application/apply-patch+yaml":
            return status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                                                        f"accepted media types include: application/apply-patch+yaml "
                                                        f"(got {request.headers.get('content-type')})")
        query = {k: v[0] for k, v in request.query.items()}
        if not query.get("fieldManager"):
            return status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                                          "is required for apply patch")
        if self.forbid_apply:
            return status(403, "Forbidden", f'customresourcedefinitions.apiextensions.k8s.io "{name}" is forbidden: '
                                            'User "ci" cannot patch resource "customresourcedefinitions"')
        body = yaml.safe_load(request.body)
        if (body.get("metadata") or {}).get("name") != name:
            return status(400, "BadRequest", "the name of the object does not match the name on the URL")
        self.applied.append((name, query, body))
        served = {**body, "metadata": {**body["metadata"], "resourceVersion": "9001",
                                       "managedFields": [{"manager": query["fieldManager"], "operation": "Apply"}]},
                  "status": {"conditions": [{"type": "Established", "status": "True"}]}}
        self.crds[name] = served
        return Reply(200, served)

    def _secrets(self, request: Request) -> Reply:
        selector = request.query.get("labelSelector", [""])[0]
        items = [s for s in self.secrets if s["metadata"]["namespace"] == request.match["ns"]
                 and _matches_labels(s, selector)]
        return self._list("Secret", "v1", items)

    def _pods(self, request: Request) -> Reply:
        selector = request.query.get("fieldSelector", [""])[0]
        return self._list("Pod", "v1", [p for p in self.pods if _matches_fields(p, selector)])

    def _pvcs(self, request: Request) -> Reply:
        return self._list("PersistentVolumeClaim", "v1",
                          [c for c in self.pvcs if c["metadata"]["namespace"] == request.match["ns"]])

    def _all_rayclusters(self, request: Request) -> Reply:
        return self._list("RayCluster", "ray.io/v1",
                          [states[self.raycluster_index[key]] for key, states in self.rayclusters.items()])

    def _rayjobs(self, request: Request) -> Reply:
        return self._list("RayJob", "ray.io/v1", self.rayjobs)

    def _kueue(self, request: Request) -> Reply:
        plural = request.match["plural"]
        if self.kueue is None or request.match["version"] != "v1beta2" or not hasattr(self.kueue, plural):
            # What an API server answers for a group/version it does not serve.
            return Reply(404, "404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})
        kind = {"clusterqueues": "ClusterQueue", "admissionchecks": "AdmissionCheck",
                "multikueueclusters": "MultiKueueCluster", "workloads": "Workload"}[plural]
        return self._list(kind, "kueue.x-k8s.io/v1beta2", getattr(self.kueue, plural))

    def _version(self, request: Request) -> Reply:
        major, minor = self.git_version.lstrip("v").split(".")[:2]
        return Reply(200, {"major": major, "minor": minor, "gitVersion": self.git_version,
                           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                           "buildDate": "2026-07-15T18:00:00Z", "goVersion": "go1.24.4", "compiler": "gc",
                           "platform": "linux/amd64"})

    def _crd(self, request: Request) -> Reply:
        crd = self.crds.get(request.match["name"])
        if crd is None:
            return status(404, "NotFound", f'customresourcedefinitions.apiextensions.k8s.io '
                                           f'"{request.match["name"]}" not found')
        return Reply(200, crd)

    def _csi(self, request: Request) -> Reply:
        if self.csi_driver is None or request.match["name"] != self.csi_driver["metadata"]["name"]:
            return status(404, "NotFound", f'csidrivers.storage.k8s.io "{request.match["name"]}" not found')
        return Reply(200, self.csi_driver)

    def _list(self, kind: str, api_version: str, items: list[dict[str, Any]]) -> Reply:
        return Reply(200, {"apiVersion": api_version, "kind": f"{kind}List",
                           "metadata": {"resourceVersion": "7001"}, "items": items})

    def _webhooks(self, request: Request) -> Reply:
        return self._list("MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1", self.webhooks)

    def _nodes(self, request: Request) -> Reply:
        if self.nodes is None:  # e.g. a proxy in front of the API server that only passes some paths
            return status(404, "NotFound", "the server could not find the requested resource")
        return self._list("Node", "v1", self.nodes)

    def _namespace(self, request: Request) -> Reply:
        ns = self.namespaces.get(request.match["name"])
        if ns is None:
            return status(404, "NotFound", f'namespaces "{request.match["name"]}" not found')
        return Reply(200, ns)

    def _profile_missing(self, request: Request) -> Reply | None:
        if self.cluster_profiles is None:
            return status(404, "NotFound", "the server could not find the requested resource")
        key = (request.match.get("ns"), request.match.get("name"))
        if "name" in request.match and key not in self.cluster_profiles:
            return status(404, "NotFound", f'clusterprofiles.multicluster.x-k8s.io "{key[1]}" not found')
        return None

    def _list_profiles(self, request: Request) -> Reply:
        if (missing := self._profile_missing(request)):
            return missing
        assert self.cluster_profiles is not None
        selector = request.query.get("labelSelector", [""])[0]
        items = [p for p in self.cluster_profiles.values()
                 if not selector or selector in (p["metadata"].get("labels") or {})]
        return self._list("ClusterProfile", "multicluster.x-k8s.io/v1alpha1", items)

    def _get_profile(self, request: Request) -> Reply:
        if (missing := self._profile_missing(request)):
            return missing
        assert self.cluster_profiles is not None
        return Reply(200, self.cluster_profiles[(request.match["ns"], request.match["name"])])

    def _patch_profile(self, request: Request, *, subresource: bool) -> Reply:
        if (missing := self._profile_missing(request)):
            return missing
        assert self.cluster_profiles is not None
        if request.headers.get("content-type", "").split(";")[0] != "application/merge-patch+json":
            got = request.headers.get("content-type")
            return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                                                       f"media types include: application/merge-patch+json (got {got})")
        if subresource and self.forbid_profile_writes:
            return status(403, "Forbidden",
                          'clusterprofiles.multicluster.x-k8s.io "' + request.match["name"] + '" is '
                          'forbidden: User "rayfleet" cannot patch resource "clusterprofiles/status" in '
                          'API group "multicluster.x-k8s.io"')
        key = (request.match["ns"], request.match["name"])
        current = self.cluster_profiles[key]
        patch = request.json()
        self.profile_writes.append(("status" if subresource else "main", key[1], patch))
        # The status subresource changes only status; the main resource ignores status.
        if subresource:
            updated = dict(current, status=merge_patch(current.get("status"), patch.get("status")))
        else:
            updated = merge_patch(current, {k: v for k, v in patch.items() if k != "status"})
            updated["status"] = current.get("status")
            if updated["status"] is None:
                updated.pop("status")
        meta = dict(updated["metadata"])
        meta["resourceVersion"] = str(int(meta.get("resourceVersion", "8001")) + 1)
        updated["metadata"] = meta
        self.cluster_profiles[key] = updated
        return Reply(200, updated)
    def _helmrelease(self, request: Request) -> Reply:
        found = self.helmreleases.get((request.match["ns"], request.match["name"]))
        if found is None:
            return status(404, "NotFound", f'helmreleases.helm.toolkit.fluxcd.io "{request.match["name"]}" not found')
        return Reply(200, found)

    def set_raycluster(self, *states: dict[str, Any]) -> None:
        key = (states[0]["metadata"]["namespace"], states[0]["metadata"]["name"])
        self.rayclusters[key] = list(states)
        self.raycluster_index[key] = 0

    def _rayclusters(self, request: Request) -> Reply:
        ns = request.match["ns"]
        wanted = None
        for selector in request.query.get("fieldSelector", []):
            if selector.startswith("metadata.name="):
                wanted = selector.partition("=")[2]
        keys = [k for k in self.rayclusters if k[0] == ns and (wanted is None or k[1] == wanted)]
        if request.query.get("watch", ["false"])[0] == "true":
            lines = []
            for key in keys:
                states = self.rayclusters[key]
                for state in states[self.raycluster_index[key] + 1:]:
                    lines.append(json.dumps({"type": "MODIFIED", "object": state}))
                self.raycluster_index[key] = len(states) - 1
            return Reply(200, "".join(line + "\n" for line in lines), delay=self.watch_delay)
        items = [self.rayclusters[k][self.raycluster_index[k]] for k in keys]
        return self._list("RayCluster", "ray.io/v1", items)


def cluster_profile(name: str, namespace: str = "kueue-system", *, region: str | None = None,
                    access_providers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A ClusterProfile as the manager's release creates it (status empty until synced)."""
    body: dict[str, Any] = {
        "apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ClusterProfile",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "8001", "generation": 1,
                     "labels": {"rayfleet.io/region": region or name,
                                "x-k8s.io/cluster-manager": "rayfleet"}},
        "spec": {"displayName": name, "clusterManager": {"name": "rayfleet"}},
    }
    if access_providers is not None:
        body["status"] = {"accessProviders": access_providers}
    return body


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def write_kubeconfig(path: Path, contexts: dict[str, tuple[str, str]], *, token: str = TOKEN,
                     current: str | None = None) -> Path:
    """A kubeconfig with one context (and cluster and user) per name: name → (server URL, CA file)."""
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": n, "cluster": {"server": url, "certificate-authority": ca}}
                     for n, (url, ca) in contexts.items()],
        "users": [{"name": f"{n}-user", "user": {"token": token}} for n in contexts],
        "contexts": [{"name": n, "context": {"cluster": n, "user": f"{n}-user"}} for n in contexts],
        "current-context": current or next(iter(contexts)),
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


# --- the Azure Kubernetes Fleet Manager hub ------------------------------------------------------------

PLACEMENT = "/apis/placement.kubernetes-fleet.io/v1beta1"


def member_cluster(name: str, location: str, *, joined: str = "True") -> dict[str, Any]:
    """A hub MemberCluster with the labels Azure Fleet Manager sets (read-only, service-defined)."""
    return {"apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberCluster",
            "metadata": {"name": name, "resourceVersion": "8001", "generation": 1,
                         "labels": {"fleet.azure.com/location": location, "fleet.azure.com/member-name": name,
                                    "fleet.azure.com/cluster-name": name,
                                    "fleet.azure.com/resource-group": f"rg-{name}"}},
            "spec": {"identity": {"kind": "User", "name": "fleet-member-agent-cluster", "apiGroup": ""},
                     "heartbeatPeriodSeconds": 15},
            "status": {"conditions": [{"type": "ReadyToJoin", "status": "True", "reason": "MemberClusterReadyToJoin",
                                       "observedGeneration": 1, "lastTransitionTime": "2026-09-01T10:00:00Z"},
                                      {"type": "Joined", "status": joined, "reason": "MemberClusterJoined",
                                       "observedGeneration": 1, "lastTransitionTime": "2026-09-01T10:00:00Z"}]}}


def _cond(kind: str, status_: str, reason: str, message: str = "", generation: int = 1) -> dict[str, Any]:
    return {"type": kind, "status": status_, "reason": reason, "message": message, "observedGeneration": generation,
            "lastTransitionTime": "2026-09-01T10:00:00Z"}


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch (what the client sends by default)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = value
    return target


@dataclass
class FakeHub:
    """A Fleet Manager hub: MemberClusters, one placement with its snapshots, and staged update runs that
    move one step per read, as kubefleet's controller would (stages from ``stages``: name → members).

    A run: each stage applies to its clusters (``fail_members`` fail to apply), then creates its
    after-stage ClusterApprovalRequest ``<run>-after-<stage>`` and waits until it is approved; after the
    last stage the run succeeds. ``remove_member`` (name, stage index) drops that member from the hub when
    the run reaches that stage: kubefleet then abandons the run (the stage's cluster count changed).
    """

    members: list[dict[str, Any]] = field(default_factory=list)
    placement: str = "rayfleet"
    stages: list[tuple[str, list[str]]] = field(default_factory=list)
    snapshot_index: str | None = "3"
    fail_members: set[str] = field(default_factory=set)
    remove_member: tuple[str, int] | None = None
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)
    patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    token: str = TOKEN
    prefix: str = ""

    def serve(self, server: HttpsServer) -> FakeHub:
        routes = [
            ("GET", r"/apis/cluster.kubernetes-fleet.io/v1beta1/memberclusters", self._members),
            ("GET", PLACEMENT + r"/clusterresourceplacements/(?P<name>[^/]+)", self._placement),
            ("GET", PLACEMENT + r"/clusterresourcesnapshots", self._snapshots),
            ("GET", PLACEMENT + r"/clusterstagedupdateruns/(?P<name>[^/]+)", self._get_run),
            ("POST", PLACEMENT + r"/clusterstagedupdateruns", self._create_run),
            ("PATCH", PLACEMENT + r"/clusterstagedupdateruns/(?P<name>[^/]+)", self._patch_run),
            ("GET", PLACEMENT + r"/clusterapprovalrequests/(?P<name>[^/]+)", self._get_approval),
            ("PATCH", PLACEMENT + r"/clusterapprovalrequests/(?P<name>[^/]+)/status", self._patch_approval),
        ]
        for method, pattern, handler in routes:
            server.route(method, self.prefix + pattern, self._guarded(handler))
        return self

    def _guarded(self, handler: Any) -> Any:
        def serve(request: Request) -> Reply:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return status(401, "Unauthorized", "Unauthorized")
            return handler(request)
        return serve

    def _members(self, request: Request) -> Reply:
        return Reply(200, {"apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberClusterList",
                           "metadata": {"resourceVersion": "9001"}, "items": self.members})

    def _placement(self, request: Request) -> Reply:
        if request.match["name"] != self.placement:
            return status(404, "NotFound", f'clusterresourceplacements.placement.kubernetes-fleet.io '
                                           f'"{request.match["name"]}" not found')
        return Reply(200, {"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
                           "metadata": {"name": self.placement, "generation": 1},
                           "spec": {"strategy": {"type": "External"}}})

    def _snapshots(self, request: Request) -> Reply:
        selector = request.query.get("labelSelector", [""])[0]
        items = []
        if self.snapshot_index is not None and f"kubernetes-fleet.io/parent-CRP={self.placement}" in selector:
            for index in range(int(self.snapshot_index) + 1):
                latest = "true" if str(index) == self.snapshot_index else "false"
                if "kubernetes-fleet.io/is-latest-snapshot=true" in selector and latest != "true":
                    continue
                items.append({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourceSnapshot",
                              "metadata": {"name": f"{self.placement}-{index}-snapshot", "labels": {
                                  "kubernetes-fleet.io/parent-CRP": self.placement,
                                  "kubernetes-fleet.io/resource-index": str(index),
                                  "kubernetes-fleet.io/is-latest-snapshot": latest}}})
        return Reply(200, {"apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                           "kind": "ClusterResourceSnapshotList", "metadata": {}, "items": items})

    def _create_run(self, request: Request) -> Reply:
        body = request.json()
        name = body["metadata"]["name"]
        if name in self.runs:
            return status(409, "AlreadyExists", f'clusterstagedupdateruns "{name}" already exists')
        body["metadata"].update({"generation": 1, "resourceVersion": "1"})
        body["_step"] = {"stage": 0, "phase": "apply"}
        self.runs[name] = body
        return Reply(201, {k: v for k, v in body.items() if k != "_step"})

    def _patch_run(self, request: Request) -> Reply:
        run = self.runs.get(request.match["name"])
        if run is None:
            return status(404, "NotFound", "not found")
        patch = request.json()
        self.patches.append((request.headers.get("content-type", ""), patch))
        _merge_patch(run, patch)
        return Reply(200, {k: v for k, v in run.items() if k != "_step"})

    def _get_run(self, request: Request) -> Reply:
        run = self.runs.get(request.match["name"])
        if run is None:
            return status(404, "NotFound", f'clusterstagedupdateruns.placement.kubernetes-fleet.io '
                                           f'"{request.match["name"]}" not found')
        self._advance(run)
        return Reply(200, {k: v for k, v in run.items() if k != "_step"})

    def _get_approval(self, request: Request) -> Reply:
        approval = self.approvals.get(request.match["name"])
        if approval is None:
            return status(404, "NotFound", "not found")
        return Reply(200, approval)

    def _patch_approval(self, request: Request) -> Reply:
        approval = self.approvals.get(request.match["name"])
        if approval is None:
            return status(404, "NotFound", "not found")
        patch = request.json()
        self.patches.append((request.headers.get("content-type", ""), patch))
        _merge_patch(approval, patch)
        return Reply(200, approval)

    # One step of kubefleet's update-run controller per read of the run.
    def _advance(self, run: dict[str, Any]) -> None:
        step = run["_step"]
        status_ = run.setdefault("status", {})
        if not status_:
            status_["conditions"] = [_cond("Initialized", "True", "UpdateRunInitializedSuccessfully"),
                                     _cond("Progressing", "True", "UpdateRunProgressing")]
            status_["resourceSnapshotIndexUsed"] = run["spec"].get("resourceSnapshotIndex")
            status_["stagesStatus"] = [{"stageName": name, "clusters": [{"clusterName": m} for m in members]}
                                       for name, members in self.stages]
            return
        if any(c["type"] == "Succeeded" for c in status_["conditions"]):
            return
        if run["spec"].get("state") == "Stop":
            status_["conditions"] = [c for c in status_["conditions"] if c["type"] != "Progressing"]
            status_["conditions"].append(_cond("Progressing", "False", "UpdateRunStopped", "the run was stopped"))
            return
        index = step["stage"]
        if index >= len(self.stages):
            status_["conditions"].append(_cond("Succeeded", "True", "UpdateRunSucceeded"))
            return
        stage = status_["stagesStatus"][index]
        name, members = self.stages[index]
        if self.remove_member is not None and self.remove_member[1] == index:
            gone = self.remove_member[0]
            self.members = [m for m in self.members if m["metadata"]["name"] != gone]
            message = (f"the number of clusters in index `{index}` stage has changed, new: {len(members) - 1}, "
                       f"existing: {len(members)}")
            status_["conditions"].append(_cond("Succeeded", "False", "UpdateRunFailed", message))
            status_["conditions"].append(_cond("Progressing", "False", "UpdateRunFailed", message))
            self.remove_member = None
            return
        if step["phase"] == "apply":
            stage["conditions"] = [_cond("Progressing", "True", "StageUpdatingStarted")]
            failed = [m for m in members if m in self.fail_members]
            for cluster in stage["clusters"]:
                ok = cluster["clusterName"] not in self.fail_members
                cluster["conditions"] = [_cond("Started", "True", "ClusterUpdatingStarted"),
                                         _cond("Succeeded", "True" if ok else "False",
                                               "ClusterUpdatingSucceeded" if ok else "ClusterUpdatingFailed",
                                               "" if ok else "failed to apply: HelmRelease rejected by webhook")]
            if failed:
                message = f"cluster {failed[0]} failed to update in stage {name}"
                stage["conditions"] = [_cond("Progressing", "False", "StageUpdatingFailed"),
                                       _cond("Succeeded", "False", "StageUpdatingFailed", message)]
                status_["conditions"].append(_cond("Succeeded", "False", "UpdateRunFailed", message))
                return
            request_name = f"{run['metadata']['name']}-after-{name}"
            self.approvals[request_name] = {
                "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterApprovalRequest",
                "metadata": {"name": request_name, "generation": 1, "labels": {
                    "kubernetes-fleet.io/targetUpdateRun": run["metadata"]["name"],
                    "kubernetes-fleet.io/targetUpdatingStage": name,
                    "kubernetes-fleet.io/isLatestUpdateRunApproval": "true"}},
                "spec": {"parentStageRollout": run["metadata"]["name"], "targetStage": name}}
            stage["afterStageTaskStatus"] = [{"type": "Approval", "approvalRequestName": request_name,
                                              "conditions": [_cond("ApprovalRequestCreated", "True",
                                                                   "StageTaskApprovalRequestCreated")]}]
            step["phase"] = "approval"
            return
        request_name = stage["afterStageTaskStatus"][0]["approvalRequestName"]
        approved = any(c.get("type") == "Approved" and c.get("status") == "True"
                       and c.get("observedGeneration") == 1
                       for c in (self.approvals[request_name].get("status") or {}).get("conditions") or [])
        if approved:
            stage["afterStageTaskStatus"][0]["conditions"].append(
                _cond("ApprovalRequestApproved", "True", "StageTaskApprovalRequestApproved"))
            stage["conditions"] = [_cond("Progressing", "False", "StageUpdatingSucceeded"),
                                   _cond("Succeeded", "True", "StageUpdatingSucceeded")]
            step["stage"], step["phase"] = index + 1, "apply"


def helmrelease(name: str, ns: str, *, ready: str = "True", generation: int = 1,
                observed: int | None = 1) -> dict[str, Any]:
    """A Flux HelmRelease as helm-controller reports it (status.conditions Ready)."""
    status_: dict[str, Any] = {"conditions": [_cond("Ready", ready, "UpgradeSucceeded" if ready == "True"
                                                    else "UpgradeFailed", "Helm upgrade succeeded" if ready == "True"
                                                    else "context deadline exceeded", generation)]}
    if observed is not None:
        status_["observedGeneration"] = observed
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": ns, "generation": generation},
            "spec": {"interval": "10m"}, "status": status_}


class RecordingGate:
    """A stage gate that records which regions it checked (and fails the ones named)."""

    def __init__(self, failing: dict[str, str] | None = None) -> None:
        self.failing = failing or {}
        self.checked: list[str] = []

    def check(self, region: Region) -> RegionCheck:
        self.checked.append(region.name)
        if region.name in self.failing:
            return RegionCheck(region.name, False, self.failing[region.name])
        return RegionCheck(region.name, True, "ready")
