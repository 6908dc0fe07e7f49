"""A release creates no Secret objects."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..manifests import KubeObject
from ._helpers import as_dict, as_list
from .base import Policy, ReleaseObjects, Scope

# Types a controller may fill with a serving certificate; a service-account-token Secret is
# filled with a bearer token, which is exactly what this policy is about.
_PLACEHOLDER_TYPES = (None, "Opaque", "kubernetes.io/tls")


def _mounted_secret_names(release: ReleaseObjects) -> set[tuple[str | None, str]]:
    """(namespace, name) of every Secret a pod template of the release mounts as a volume."""
    return {(tpl.obj.namespace, str(name))
            for tpl in release.pod_templates()
            for volume in as_list(tpl.spec.get("volumes"))
            if (name := as_dict(as_dict(volume).get("secret")).get("secretName"))}


def _is_placeholder(obj: KubeObject, mounted: set[tuple[str | None, str]]) -> bool:
    """An empty Secret a workload of the release mounts: its controller writes it at run time (for
    example Kueue's webhook serving certificate, kueue-webhook-server-cert). It holds nothing when
    rendered, so it is no stored credential."""
    empty = not any(obj.body.get(section) for section in ("data", "stringData"))
    return empty and obj.body.get("type") in _PLACEHOLDER_TYPES and (obj.namespace, obj.name) in mounted


def check(release: ReleaseObjects) -> Iterator[Violation]:
    secrets = [obj for obj in release.of_kind("Secret") if obj.api_version == "v1"]
    mounted = _mounted_secret_names(release) if secrets else set()
    for obj in secrets:
        if _is_placeholder(obj, mounted):
            continue
        kind = obj.body.get("type") or "Opaque"
        yield Violation(f"Secret {obj.name!r} (type {kind}) is part of the release; "
                        "pods authenticate with workload identity, not stored credentials",
                        obj=obj.ref, path="kind")


POLICY = Policy(
    id="no-secret-objects",
    title="The release creates no Secrets",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Every Secret a release ships is a long-lived value stored in etcd and in the chart's values, "
        "where it leaks and never expires. Ray pods reach Azure with workload identity tokens, so a "
        "Secret is either a mistake or an exception that deserves a dated waiver (for example an image "
        "pull secret). An empty Secret (no data, type Opaque or kubernetes.io/tls) that a workload of the "
        "release mounts is a placeholder its controller fills at run time, such as Kueue's webhook "
        "serving certificate, and is not reported. Secrets that hold credentials are also reported by "
        "no-credential-secrets, which a waiver of this policy does not hide."
    ),
    remediation=(
        "Remove the Secret and use workload identity (a ServiceAccount annotated with "
        "azure.workload.identity/client-id); if the Secret must stay, waive this policy for it with a reason, "
        "an owner and an expiry date."
    ),
    references=(
        "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
        "https://azure.github.io/azure-workload-identity/docs/",
    ),
    check=check,
)
