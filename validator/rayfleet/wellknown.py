"""Names that Kubernetes, KubeRay, AKS and Entra ID define, one constant each.

Everything that reads or writes one of them imports it from here, so a policy, the capacity
model and a live check can never disagree on what a GPU or a workload identity token is.
"""

from __future__ import annotations

GPU_RESOURCE = "nvidia.com/gpu"  # the NVIDIA device plugin's extended resource
TOKEN_AUDIENCE = "api://AzureADTokenExchange"  # the audience Entra ID accepts for workload identity

BLOB_CSI_DRIVER = "blob.csi.azure.com"

WI_USE_LABEL = "azure.workload.identity/use"
WI_CLIENT_ID = "azure.workload.identity/client-id"
WI_TOKEN_EXPIRATION = "azure.workload.identity/service-account-token-expiration"

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
AGENT_POOL_LABEL = "kubernetes.azure.com/agentpool"

RAY_GROUP = "ray.io"
KUBERAY_UNBOUNDED = 2147483647  # KubeRay's maxReplicas default

# The workload identity webhook as the AKS add-on and the upstream chart install it.
WI_WEBHOOK_CONFIGURATION = "azure-wi-webhook-mutating-webhook-configuration"
WI_WEBHOOK_NAME = "mutation.azure-workload-identity.io"
WI_WEBHOOK_SERVICE = "azure-wi-webhook-webhook-service"

KUBERAY_OPERATOR = "kuberay-operator"
RAY_CRDS = {"RayCluster": "rayclusters.ray.io", "RayJob": "rayjobs.ray.io", "RayService": "rayservices.ray.io"}

# API versions of the Azure resources rayfleet reads and writes.
MSI_API_VERSION = "2023-01-31"
AKS_API_VERSION = "2024-09-01"
STORAGE_API_VERSION = "2023-05-01"
AUTHORIZATION_API_VERSION = "2022-04-01"
CPU_RESOURCE = "cpu"
MEMORY_RESOURCE = "memory"
