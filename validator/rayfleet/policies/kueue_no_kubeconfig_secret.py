"""MultiKueue reaches workers without a kubeconfig Secret (a static credential)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..kueue import multikueue_clusters
from .base import Policy, ReleaseObjects, Scope

KUBECONFIG_KEY = "kubeconfig"


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for mkc in multikueue_clusters(release).values():
        if mkc.kubeconfig is not None:
            where = mkc.kubeconfig.get("locationType", "Secret")
            yield Violation(f"MultiKueueCluster {mkc.name} connects with a kubeconfig ({where} "
                            f"{mkc.kubeconfig.get('location')!r}): a static credential for the worker; use a "
                            "clusterProfileRef with the kubelogin workload identity exec plugin",
                            obj=mkc.obj.ref, path=f"{mkc.source_path}.kubeConfig")
    for obj in release.of_kind("Secret"):
        if obj.api_version != "v1":
            continue
        for section in ("data", "stringData"):
            block = obj.body.get(section)
            if isinstance(block, dict) and KUBECONFIG_KEY in block:
                yield Violation(f"Secret {obj.name!r} holds a {KUBECONFIG_KEY!r} key, the credential MultiKueue "
                                "reads for a kubeConfig cluster source (a long-lived service-account token)",
                                obj=obj.ref, path=f'{section}["{KUBECONFIG_KEY}"]')


POLICY = Policy(
    id="kueue-no-kubeconfig-secret",
    title="MultiKueue uses no kubeconfig Secret for its workers",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Kueue's documented MultiKueue setup gives the manager one kubeconfig Secret per worker holding a "
        "static service-account token: a long-lived, hand-rotated credential to every GPU cluster, stored in "
        "etcd and in whatever created it. Kueue also accepts a clusterProfileRef, where the connection comes "
        "from a ClusterProfile and the token from an exec plugin (kubelogin with workload identity on AKS): "
        "short-lived Entra tokens and no secret anywhere. Kueue's kubeConfig source also rejects exec "
        "plugins, so a kubeconfig Secret always carries a static credential. A kubeconfig Path source is for "
        "development only. The Secret path needs a dated waiver."
    ),
    remediation=(
        "Use spec.clusterSource.clusterProfileRef with a ClusterProfile in kueue-system and Kueue's "
        "clusterProfile accessProviders exec config (docs/scheduling.md); if a worker cannot use Entra ID yet, "
        "waive this policy for that MultiKueueCluster and Secret with a reason, an owner and an expiry date."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/tasks/manage/setup_multikueue/",
        "https://github.com/kubernetes-sigs/kueue/issues/6714",
        "https://azure.github.io/kubelogin/concepts/login-modes/workloadidentity.html",
    ),
    check=check,
)
