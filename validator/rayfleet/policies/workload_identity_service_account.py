"""Pods that use workload identity run as an annotated ServiceAccount that exists."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..wellknown import WI_CLIENT_ID, WI_USE_LABEL
from ._helpers import GUID, as_dict, where, without_workload_identity
from .base import Policy, ReleaseObjects, Scope


def _external(release: ReleaseObjects, namespace: str | None, name: str) -> bool:
    return any(sa.name == name and (namespace is None or sa.namespace == namespace)
               for sa in release.settings.external_service_accounts)


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for tpl in release.pod_templates():
        uses_wi = str(tpl.labels.get(WI_USE_LABEL)) == "true"
        if not (tpl.is_ray or uses_wi) or without_workload_identity(tpl):
            continue  # a Ray pod group without any workload identity is workload-identity-pod-label's
        name = tpl.service_account
        explicit = bool(tpl.spec.get("serviceAccountName") or tpl.spec.get("serviceAccount"))
        path = tpl.at("serviceAccountName") if explicit else tpl.at("")
        namespace = tpl.obj.namespace
        account = release.find("ServiceAccount", name, namespace)
        if account is None:
            if _external(release, namespace, name):
                continue
            if not explicit:
                yield Violation(f"{where(tpl)} sets no serviceAccountName, so it runs as the namespace's "
                                "default ServiceAccount, which has no workload identity", obj=tpl.obj.ref,
                                path=path)
                continue
            declared = ("not declared in policy.externalServiceAccounts of the fleet file"
                        if release.fleet is not None else "not among the scanned manifests")
            yield Violation(f"{where(tpl)} runs as ServiceAccount {name!r}, which is not in the release and "
                            f"{declared}", obj=tpl.obj.ref, path=path, value=name)
            continue
        client_id = as_dict(account.metadata.get("annotations")).get(WI_CLIENT_ID)
        if client_id is None:
            yield Violation(f"{where(tpl)} runs as ServiceAccount {name!r}, which has no {WI_CLIENT_ID} "
                            "annotation", obj=tpl.obj.ref, path=path, value=name)
        elif not GUID.match(str(client_id).strip()):
            yield Violation(f"{where(tpl)} runs as ServiceAccount {name!r}, whose {WI_CLIENT_ID} "
                            f"{client_id!r} is not a GUID", obj=tpl.obj.ref, path=path, value=client_id)


POLICY = Policy(
    id="workload-identity-service-account",
    title="Workload identity pods run as an annotated ServiceAccount that exists",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The webhook takes the managed identity's client ID from the pod's ServiceAccount annotation "
        "azure.workload.identity/client-id; without it AZURE_CLIENT_ID is never injected and token "
        "exchange fails. Every Ray pod (head, workers, RayJob submitter) and every other pod labelled "
        "azure.workload.identity/use: \"true\" is checked. KubeRay does not create the ServiceAccount, and "
        "the autoscaler's RBAC fails when it is missing, so it must be in the release or declared in the "
        "fleet file's policy.externalServiceAccounts. rayfleet scan has no fleet file, so there a "
        "ServiceAccount outside the scanned manifests is reported: scan the manifests that create it too, "
        "or waive the finding."
    ),
    remediation=(
        "Create the ServiceAccount in the release with azure.workload.identity/client-id set to the "
        "managed identity's client ID, or declare it in policy.externalServiceAccounts when another "
        "release owns it."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
        "https://learn.microsoft.com/azure/aks/workload-identity-deploy-cluster",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/configuring-autoscaling.html",
    ),
    check=check,
)
