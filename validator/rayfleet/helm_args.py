"""The ``helm upgrade --install`` a region is deployed with: one builder, so the command ``plan``
and ``validate`` print is the command ``rollout`` runs."""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_TIMEOUT = 600  # seconds, for helm --wait and again for the RayCluster to be ready


def upgrade_args(release: str, chart: str, namespace: str, values_files: Sequence[str], *,
                 create_namespace: bool = True, atomic: bool = True, timeout: int = DEFAULT_TIMEOUT,
                 helm4: bool = False) -> list[str]:
    """``helm`` arguments without the binary and the kube flags (pyhelm3 adds those itself)."""
    args = ["upgrade", "--install", release, chart, "--namespace", namespace]
    if create_namespace:
        args.append("--create-namespace")
    if atomic:  # Helm 4 renamed --atomic
        args.append("--rollback-on-failure" if helm4 else "--atomic")
    args += ["--wait", "--timeout", f"{timeout}s"]
    for path in values_files:
        args += ["-f", path]
    return args


def kube_flags(kube_context: str | None, kubeconfig: str | None = None) -> list[str]:
    """``--kube-context`` (never the current context: it may be another region's) and ``--kubeconfig``."""
    flags = ["--kube-context", kube_context] if kube_context else []
    return flags + (["--kubeconfig", kubeconfig] if kubeconfig else [])
