"""A fake AKS API server for the real ``kubernetes`` client: objects shaped like a real AKS
cluster's (1.33, KubeRay 1.7 CRDs, the managed Blob CSI driver and workload identity add-on, a
system pool and GPU pools), served by ``tests/support/https_server.py`` over HTTPS.

``FakeCluster`` holds the state; ``serve(server)`` answers the paths rayfleet reads:
/version, apiextensions CRDs, storage.k8s.io csidrivers, admissionregistration mutating webhook
configurations, /api/v1/nodes, /api/v1/namespaces/{ns}, and ray.io/v1 rayclusters (list, and
watch as newline-delimited events). Every request must carry ``Authorization: Bearer <token>``;
``expired = True`` answers 401 like an API server given an expired token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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
    # (namespace, name) → the RayCluster's successive states: a list returns the current one, a
    # watch sends the rest as MODIFIED events and moves to the last.
    rayclusters: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    raycluster_index: dict[tuple[str, str], int] = field(default_factory=dict)
    watch_delay: float = 0.0
    expired: bool = False
    token: str = TOKEN
    prefix: str = ""

    def _auth(self, request: Request) -> Reply | None:
        if self.expired or request.headers.get("authorization") != f"Bearer {self.token}":
            return status(401, "Unauthorized", "Unauthorized")
        return None

    def _guarded(self, handler: Any) -> Any:
        def serve(request: Request) -> Reply:
            return self._auth(request) or handler(request)
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
        }
        for pattern, handler in routes.items():
            server.route("GET", p + pattern, self._guarded(handler))
        return self

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
