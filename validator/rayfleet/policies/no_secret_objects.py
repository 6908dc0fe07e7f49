"""A release creates no Secret objects."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.of_kind("Secret"):
        if obj.api_version != "v1":
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
        "pull secret). Secrets that hold credentials are also reported by no-credential-secrets, which a "
        "waiver of this policy does not hide."
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
