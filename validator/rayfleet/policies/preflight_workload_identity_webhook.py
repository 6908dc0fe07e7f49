"""The Azure workload identity webhook is installed (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ..subjects import LiveCluster
from ..wellknown import WI_WEBHOOK_CONFIGURATION, WI_WEBHOOK_NAME, WI_WEBHOOK_SERVICE
from .base import Policy, Scope


def is_wi_webhook(configuration: dict[str, Any]) -> bool:
    """The azure-workload-identity MutatingWebhookConfiguration, by its name, its webhook's name
    or the Service it calls (the AKS add-on and the upstream chart use the same names)."""
    if (configuration.get("metadata") or {}).get("name") == WI_WEBHOOK_CONFIGURATION:
        return True
    for webhook in configuration.get("webhooks") or []:
        if not isinstance(webhook, dict):
            continue
        service = ((webhook.get("clientConfig") or {}).get("service") or {}).get("name")
        if webhook.get("name") == WI_WEBHOOK_NAME or service == WI_WEBHOOK_SERVICE:
            return True
    return False


def check(view: LiveCluster) -> Iterator[Violation]:
    if not view.uses_workload_identity():
        return
    if not any(is_wi_webhook(c) for c in view.cluster.webhook_configurations):
        yield Violation(
            f"no workload identity webhook (MutatingWebhookConfiguration {WI_WEBHOOK_CONFIGURATION}): pods "
            "labelled azure.workload.identity/use get no AZURE_* variables and no projected token",
            region=view.region_name)


POLICY = Policy(
    id="preflight-workload-identity-webhook",
    title="The Azure workload identity webhook is installed",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "The release's Ray pods authenticate to Azure with workload identity. The mutating webhook is what "
        "injects AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and the projected token into "
        "pods labelled azure.workload.identity/use; without it every Azure call from the pods fails."
    ),
    remediation=(
        "Enable workload identity on the cluster: az aks update -g RG -n CLUSTER --enable-oidc-issuer "
        "--enable-workload-identity (or install the azure-workload-identity webhook chart)."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/workload-identity-deploy-cluster",
        "https://azure.github.io/azure-workload-identity/docs/installation/mutating-admission-webhook.html",
    ),
    check=check,
    subject=LiveCluster,
)
