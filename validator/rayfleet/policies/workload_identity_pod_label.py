"""Ray pods carry the workload identity label."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import child_path
from ..wellknown import WI_USE_LABEL
from ._helpers import ray_templates, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in ray_templates(release):
        labels_path = f"{tpl.path}.metadata.labels"
        value = tpl.labels.get(WI_USE_LABEL)
        if value is None:
            yield Violation(f"{where(tpl)} has no pod label {WI_USE_LABEL}: \"true\", so the webhook "
                            "injects no token", obj=tpl.obj.ref, path=labels_path)
        elif str(value) != "true":
            yield Violation(f"{where(tpl)} sets pod label {WI_USE_LABEL} to {value!r}, not \"true\"",
                            obj=tpl.obj.ref, path=child_path(labels_path, WI_USE_LABEL), value=value)


POLICY = Policy(
    id="workload-identity-pod-label",
    title="Ray pods use workload identity",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The workload identity webhook only mutates pods labelled azure.workload.identity/use: \"true\" "
        "(on the pod template, not the RayCluster). Without the label, the head, worker and submitter pods "
        "get no projected token and no AZURE_* variables, and code that reaches Azure Storage falls back "
        "to whatever credential it finds."
    ),
    remediation=(
        "Add the pod label azure.workload.identity/use: \"true\" to the head, every worker group and the "
        "RayJob submitter template."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
        "https://learn.microsoft.com/azure/aks/workload-identity-overview",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
    ),
    check=check,
)
