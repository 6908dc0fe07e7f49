"""Live Kubernetes access (an adapter: it reads facts, it never judges them).

- ``client``: one client per region's kube context.
- ``cluster``: what preflight reads from a cluster (``ClusterFacts``).
- ``readiness``: the RayCluster readiness gate of a rollout.

Nothing is imported here, so ``import rayfleet`` never pulls in the kubernetes client.
"""
