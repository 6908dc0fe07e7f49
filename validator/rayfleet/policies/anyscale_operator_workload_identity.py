"""The Anyscale operator pod uses workload identity through the proxy sidecar."""

from __future__ import annotations

from collections.abc import Iterator

from ..anyscale import PROXY_SIDECAR_ANNOTATION, USE_LABEL
from ..findings import Severity, Violation
from ._anyscale import operator_pods
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    rendered = release.anyscale
    if rendered is None:
        return
    pods = operator_pods(release)
    if not pods:
        yield Violation(f"no pod of the Anyscale operator release runs as ServiceAccount "
                        f"{rendered.service_account!r} (operator.serviceAccount.name)",
                        path="operator.serviceAccount.name")
    for tpl in pods:
        if str(tpl.labels.get(USE_LABEL)).lower() != "true":
            yield Violation(f"the Anyscale operator {tpl.description} lacks the label {USE_LABEL}: \"true\", so no "
                            "workload identity token is projected", obj=tpl.obj.ref,
                            path=f"{tpl.path}.metadata.labels" if tpl.path else "metadata.labels")
        annotations = tpl.metadata.get("annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        if str(annotations.get(PROXY_SIDECAR_ANNOTATION)).lower() != "true":
            yield Violation(f"the Anyscale operator {tpl.description} lacks the annotation "
                            f"{PROXY_SIDECAR_ANNOTATION}: \"true\", so its IMDS token calls reach no proxy",
                            obj=tpl.obj.ref,
                            path=f"{tpl.path}.metadata.annotations" if tpl.path else "metadata.annotations")


POLICY = Policy(
    id="anyscale-operator-workload-identity",
    title="The Anyscale operator pod has the workload identity label and the proxy sidecar annotation",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The Anyscale operator fetches tokens the way a VM would (IMDS); on AKS and Arc that only works through "
        "the workload identity proxy sidecar, which the webhook injects when the pod carries the label "
        "azure.workload.identity/use: \"true\" and the annotation azure.workload.identity/inject-proxy-sidecar: "
        "\"true\". The chart adds both when global.cloudProvider is azure; another cloudProvider, or a patched "
        "template, leaves the operator without credentials."
    ),
    remediation=(
        "Set global.cloudProvider: azure in the operator's values (the chart then labels and annotates the pod), "
        "and keep operator.serviceAccount.name the ServiceAccount the Deployment runs as."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
        "https://azure.github.io/azure-workload-identity/docs/sidecar.html",
        "https://docs.anyscale.com/clouds/kubernetes/helm-ref",
    ),
    check=check,
    needs_fleet=True,
)
