"""Ray pods carry the workload identity label."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import child_path
from ..wellknown import WI_USE_LABEL
from ._helpers import ray_templates, where, without_workload_identity
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in ray_templates(release):
        labels_path = f"{tpl.path}.metadata.labels"
        value = tpl.labels.get(WI_USE_LABEL)
        if value is not None and str(value) == "true":
            continue
        if value is None:
            problem, path = f"has no pod label {WI_USE_LABEL}: \"true\"", labels_path
        else:
            problem, path = (f"sets pod label {WI_USE_LABEL} to {value!r}, not \"true\"",
                             child_path(labels_path, WI_USE_LABEL))
        if without_workload_identity(tpl):
            # No label and no ServiceAccount is one root cause (no workload identity at all), reported
            # here once; workload-identity-service-account stays silent about it.
            message = (f"{where(tpl)} does not use workload identity: it {problem} and sets no "
                       "serviceAccountName (it runs as the namespace's default ServiceAccount)")
        elif value is None:
            message = f"{where(tpl)} {problem}, so the webhook injects no token"
        else:
            message = f"{where(tpl)} {problem}"
        yield Violation(message, obj=tpl.obj.ref, path=path, value=value)


POLICY = Policy(
    id="workload-identity-pod-label",
    title="Ray pods use workload identity",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The workload identity webhook only mutates pods labelled azure.workload.identity/use: \"true\" "
        "(on the pod template, not the RayCluster). Without the label, the head, worker and submitter pods "
        "get no projected token and no AZURE_* variables, and code that reaches Azure Storage falls back "
        "to whatever credential it finds. A Ray pod group with neither the label nor a serviceAccountName "
        "is one root cause (no workload identity at all): it is reported once, here, and not again by "
        "workload-identity-service-account."
    ),
    remediation=(
        "Add the pod label azure.workload.identity/use: \"true\" to the head, every worker group and the "
        "RayJob submitter template, and run them as a ServiceAccount annotated with "
        "azure.workload.identity/client-id (serviceAccountName in each pod template)."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
        "https://learn.microsoft.com/azure/aks/workload-identity-overview",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
    ),
    check=check,
)
