"""The Anyscale operator's global.auth.iamIdentity is the client ID of an identity of its region."""

from __future__ import annotations

from collections.abc import Iterator

from ..anyscale import IAM_IDENTITY_VALUE
from ..findings import Severity, Violation
from ._anyscale import dotted, value_source
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    rendered, region = release.anyscale, release.region
    if rendered is None or region is None:
        return
    value = rendered.value(IAM_IDENTITY_VALUE)
    where = value_source(release, IAM_IDENTITY_VALUE)
    declared = {i.client_id.lower(): i.name for i in region.identities}
    if not isinstance(value, str) or not value.strip():
        yield Violation(f"the Anyscale operator's {dotted(IAM_IDENTITY_VALUE)} is not set: the operator has no "
                        "managed identity to fetch Entra ID tokens with", path=dotted(IAM_IDENTITY_VALUE), source=where)
    elif value.strip().lower() not in declared:
        known = ", ".join(f"{name} ({cid})" for cid, name in declared.items()) or "none"
        yield Violation(f"the Anyscale operator's {dotted(IAM_IDENTITY_VALUE)} is {value.strip()!r}, not the client "
                        f"ID of an identity declared for region {region.name} (declared: {known})",
                        path=dotted(IAM_IDENTITY_VALUE), source=where)


POLICY = Policy(
    id="anyscale-iam-identity",
    title="The Anyscale operator's iamIdentity is the client ID of an identity declared for its region",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "On Azure the anyscale-operator chart annotates the operator's ServiceAccount with "
        "global.auth.iamIdentity as azure.workload.identity/client-id. When it is empty the operator has no "
        "identity; when it is a client ID the fleet file does not declare for the region (a copy from another "
        "region, a typo) the federated credential plan targets an identity nobody manages, and token exchange "
        "fails at run time with AADSTS700016 or AADSTS70021."
    ),
    remediation=(
        "Set global.auth.iamIdentity in the operator's values to the clientId of one of the region's identities "
        "in the fleet file (or declare the identity there)."
    ),
    references=(
        "https://docs.anyscale.com/clouds/kubernetes/helm-ref",
        "https://learn.microsoft.com/azure/aks/workload-identity-overview",
    ),
    check=check,
    needs_fleet=True,
)
