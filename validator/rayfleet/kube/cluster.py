"""Reading what preflight needs from a region's cluster (an adapter: facts, no verdicts).

``read_cluster`` reads the version, the KubeRay CRDs, the Blob CSI driver, the mutating webhooks,
the nodes and the release namespace into a ``ClusterFacts``; the ``preflight-*`` policies judge
it (``rayfleet.commands.preflight`` runs them).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..subjects import ClusterFacts
from ..wellknown import BLOB_CSI_DRIVER
from .client import KubeApi


def read_cluster(api: KubeApi, crd_names: Sequence[str], namespace: str) -> ClusterFacts:
    """Read everything the preflight policies look at, in a handful of GETs."""
    version = api.version()
    return ClusterFacts(
        server=api.server,
        version=version,
        crds={name: api.crd(name) for name in crd_names},
        csi_driver=api.csi_driver(BLOB_CSI_DRIVER),
        webhook_configurations=api.mutating_webhook_configurations(),
        nodes=api.nodes(),
        namespace=api.namespace(namespace),
        daemon_sets=api.daemon_sets(),
    )
