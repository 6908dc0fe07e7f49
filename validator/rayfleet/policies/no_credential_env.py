"""No credential environment variables, literal or from a Secret."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import CREDENTIAL_ENV_NAMES, is_credential_env_name
from ._helpers import as_dict, as_list, env_entries, every_container
from .base import Policy, ReleaseObjects, Scope


def _source(entry: dict) -> str:
    value_from = as_dict(entry.get("valueFrom"))
    if "secretKeyRef" in value_from:
        ref = as_dict(value_from["secretKeyRef"])
        return f"from Secret {ref.get('name')!r}"
    if "configMapKeyRef" in value_from:
        return f"from ConfigMap {as_dict(value_from['configMapKeyRef']).get('name')!r}"
    return "set literally"


def check(release: ReleaseObjects) -> Iterator[Violation]:
    # Pod containers and the containers KubeRay configures from the spec (autoscaler, collector).
    for site in every_container(release):
        namespace, container, path = site.obj.namespace, site.container, site.path
        for index, name, entry in env_entries(container):
            if is_credential_env_name(name):
                value = entry.get("value")
                yield Violation(f"{site.who} sets {name} ({_source(entry)}), a long-lived credential",
                                obj=site.obj.ref, path=f"{path}.env[{index}]",
                                value=value if isinstance(value, str) else None)
        # envFrom loads every key of a Secret or ConfigMap; look inside the ones the release ships.
        for index, entry in enumerate(as_list(container.get("envFrom"))):
            entry = as_dict(entry)
            for ref_key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                ref_name = as_dict(entry.get(ref_key)).get("name")
                if not isinstance(ref_name, str):
                    continue
                source = release.find(kind, ref_name, namespace)
                if source is None:
                    continue
                prefix = str(entry.get("prefix") or "")
                keys = [*as_dict(source.body.get("data")), *as_dict(source.body.get("stringData"))]
                bad = sorted({f"{prefix}{k}" for k in keys if is_credential_env_name(f"{prefix}{k}")})
                if bad:
                    yield Violation(f"{site.who} loads {', '.join(bad)} from {kind} {ref_name!r}, a long-lived "
                                    "credential", obj=site.obj.ref, path=f"{path}.envFrom[{index}].{ref_key}")


POLICY = Policy(
    id="no-credential-env",
    title="No credential environment variables in pods",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "azure-identity's EnvironmentCredential comes first in DefaultAzureCredential, so "
        f"{', '.join(sorted(CREDENTIAL_ENV_NAMES))} override workload identity, and whether the value is "
        "literal or read from a Secret (secretKeyRef, envFrom) a long-lived credential lives in the "
        "cluster. The variables the workload identity webhook injects (AZURE_CLIENT_ID, AZURE_TENANT_ID, "
        "AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST) hold no secret and are not reported here."
    ),
    remediation=(
        "Remove the variable and its Secret, label the pod azure.workload.identity/use: \"true\" and run it "
        "as a ServiceAccount annotated with azure.workload.identity/client-id."
    ),
    references=(
        "https://learn.microsoft.com/azure/developer/python/sdk/authentication/credential-chains",
        "https://azure.github.io/azure-workload-identity/docs/quick-start.html",
        "https://kubernetes.io/docs/tasks/inject-data-application/distribute-credentials-secure/",
    ),
    check=check,
)
