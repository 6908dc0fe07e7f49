"""Live Kubernetes checks: one client per region's kube context (``client``), the cluster
preflight (``preflight``) and the RayCluster readiness gate (``readiness``)."""

from .client import KubeApi
from .preflight import ClusterState, PreflightView, preflight_region, run_preflight
from .readiness import Readiness, raycluster_readiness, wait_for_raycluster

__all__ = ["ClusterState", "KubeApi", "PreflightView", "Readiness", "preflight_region", "raycluster_readiness",
           "run_preflight", "wait_for_raycluster"]
