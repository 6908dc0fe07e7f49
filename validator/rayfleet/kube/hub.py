"""The Azure Kubernetes Fleet Manager hub: the reads and writes rayfleet makes on it (an adapter;
``rayfleet.commands.fleet_manager`` drives the staged update run with it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client

from ..delivery.settings import require_delivery
from ..errors import InputError, LiveCheckError
from ..fleet import Fleet
from .client import KubeApi

GROUP, VERSION = "placement.kubernetes-fleet.io", "v1beta1"
CLUSTER_GROUP = "cluster.kubernetes-fleet.io"
PARENT_LABEL = "kubernetes-fleet.io/parent-CRP"
LATEST_LABEL = "kubernetes-fleet.io/is-latest-snapshot"
INDEX_LABEL = "kubernetes-fleet.io/resource-index"
HUB = "hub"


class HubApi:
    """The reads and writes rayfleet makes on the Fleet Manager hub."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self._objects = client.CustomObjectsApi(api.api_client)

    @classmethod
    def connect(cls, fleet: Fleet, context: str | None, kubeconfig: str | Path | None = None) -> HubApi:
        context = context or require_delivery(fleet).hub_context
        if not context:
            raise InputError("no hub context: pass --hub-context or set delivery.fleetManager.hubContext",
                             file=str(fleet.path), field="delivery.fleetManager.hubContext")
        return cls(KubeApi.connect_context(HUB, context, kubeconfig))

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> HubApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, plural: str, name: str) -> dict[str, Any] | None:
        return self.api.call(f"{plural}/{name}", self._objects.get_cluster_custom_object, GROUP, VERSION, plural, name)

    def member_clusters(self) -> list[dict[str, Any]]:
        page = self.api.call("memberclusters", self._objects.list_cluster_custom_object, CLUSTER_GROUP, VERSION,
                             "memberclusters") or {}
        return [m for m in page.get("items") or [] if isinstance(m, dict)]

    def placement(self, name: str) -> dict[str, Any] | None:
        return self._get("clusterresourceplacements", name)

    def latest_snapshot_index(self, placement: str) -> str | None:
        page = self.api.call("clusterresourcesnapshots", self._objects.list_cluster_custom_object, GROUP, VERSION,
                             "clusterresourcesnapshots",
                             label_selector=f"{PARENT_LABEL}={placement},{LATEST_LABEL}=true") or {}
        indexes = {((i.get("metadata") or {}).get("labels") or {}).get(INDEX_LABEL)
                   for i in page.get("items") or [] if isinstance(i, dict)}
        indexes.discard(None)
        return max(indexes, key=int) if indexes else None

    def update_run(self, name: str) -> dict[str, Any] | None:
        return self._get("clusterstagedupdateruns", name)

    def create_update_run(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.api.call(f"create ClusterStagedUpdateRun {body['metadata']['name']}",
                             self._objects.create_cluster_custom_object, GROUP, VERSION, "clusterstagedupdateruns",
                             body) or {}

    def stop_update_run(self, name: str) -> None:
        self.api.call(f"stop ClusterStagedUpdateRun {name}", self._objects.patch_cluster_custom_object, GROUP,
                      VERSION, "clusterstagedupdateruns", name, {"spec": {"state": "Stop"}})

    def approve(self, name: str, message: str) -> None:
        """Approve a ClusterApprovalRequest: ``Approved=True`` for its current generation."""
        request = self._get("clusterapprovalrequests", name)
        if request is None:
            raise LiveCheckError(HUB, f"ClusterApprovalRequest {name} not found")
        generation = (request.get("metadata") or {}).get("generation") or 1
        condition = {"type": "Approved", "status": "True", "reason": "ApprovedByRayfleet", "message": message,
                     "observedGeneration": generation,
                     "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.api.call(f"approve ClusterApprovalRequest {name}", self._objects.patch_cluster_custom_object_status,
                      GROUP, VERSION, "clusterapprovalrequests", name, {"status": {"conditions": [condition]}})
