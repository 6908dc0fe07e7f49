"""Read an Arc-enabled cluster (Microsoft.Kubernetes/connectedClusters) from Azure Resource Manager.

Only what the identity check needs: the OIDC issuer (``properties.oidcIssuerProfile``: ``enabled``,
``issuerUrl`` for the issuer Arc hosts, ``selfHostedIssuerUrl`` for a cluster that serves its own)
and workload identity (``properties.securityProfile.workloadIdentity.enabled``). The Blob CSI
driver of an Arc cluster is not an ARM setting: ``rayfleet preflight`` checks it in the cluster.
"""

from __future__ import annotations

from typing import Any

from ..arc import CONNECTED_CLUSTERS_API_VERSION
from ..fleet import Region
from ..subjects import AksSettings
from .arm import ArmClient


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def connected_cluster_settings(body: dict[str, Any]) -> AksSettings:
    """What the identity check reads from a connectedCluster GET response."""
    props = _dict(body.get("properties"))
    oidc = _dict(props.get("oidcIssuerProfile"))
    issuer = oidc.get("selfHostedIssuerUrl") or oidc.get("issuerUrl")
    workload_identity = _dict(_dict(props.get("securityProfile")).get("workloadIdentity")).get("enabled") is True
    return AksSettings(oidc.get("enabled") is True, str(issuer) if issuer else None, workload_identity,
                           blob_driver=False)


def read_connected_cluster(arm: ArmClient, region: Region) -> AksSettings:
    """GET the region's connectedCluster (``cluster.resourceId``) and read its settings."""
    resource_id = region.cluster.resource_id
    assert resource_id is not None  # the fleet schema requires it for kind arc
    body = arm.get(resource_id, CONNECTED_CLUSTERS_API_VERSION, region=region.name,
                   needs=f"Reader on the Arc-enabled cluster {resource_id} "
                         "(Microsoft.Kubernetes/connectedClusters/read)")
    return connected_cluster_settings(body)
