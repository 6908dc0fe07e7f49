"""Pods that use workload identity do not set the variables the webhook injects."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import WORKLOAD_IDENTITY_ENV_NAMES
from ..wellknown import WI_USE_LABEL
from ._helpers import container_label, env_entries, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        if str(tpl.labels.get(WI_USE_LABEL)) != "true":
            continue
        for container, path in tpl.containers():
            for index, name, entry in env_entries(container):
                if name in WORKLOAD_IDENTITY_ENV_NAMES:
                    value = entry.get("value")
                    yield Violation(f"{container_label(container)} in {where(tpl)} sets {name}, which "
                                    "overrides the value the workload identity webhook injects",
                                    obj=tpl.obj.ref, path=f"{path}.env[{index}]",
                                    value=value if isinstance(value, str) else None)


POLICY = Policy(
    id="workload-identity-env-override",
    title="Workload identity pods do not override the injected AZURE_* variables",
    severity=Severity.WARNING,
    scope=Scope.RELEASE,
    rationale=(
        "The webhook adds AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and "
        "AZURE_AUTHORITY_HOST only when a container does not set them already. A hard-coded value wins "
        "over the ServiceAccount annotation, and a hard-coded token path breaks when the webhook moves "
        "the token (it did in v1.6.0)."
    ),
    remediation="Remove the variable and set the client ID on the ServiceAccount annotation instead.",
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
        "https://learn.microsoft.com/azure/aks/workload-identity-overview",
    ),
    check=check,
)
