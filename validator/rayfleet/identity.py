"""The federated identity credential plan: which credential every managed identity needs.

Every ServiceAccount that a region's release annotates with ``azure.workload.identity/client-id``
needs one federated identity credential (FIC) on that managed identity: issuer = the region's
AKS OIDC issuer URL (with the trailing ``/`` AKS gives it), subject =
``system:serviceaccount:<namespace>:<name>``, audience ``api://AzureADTokenExchange``.

A pure function of a fleet and its rendered releases; the plan's formats (table, JSON, ``az``
script, Bicep) are in ``rayfleet.report.identity``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .findings import SourceLocation
from .fleet import Fleet, Identity, Region
from .fleet_scheduling import KUEUE_SERVICE_ACCOUNT
from .identity_rbac import manager_identity
from .subjects import PlannedCredential, ReleaseObjects, subject_for
from .wellknown import TOKEN_AUDIENCE, WI_CLIENT_ID

AUDIENCE = TOKEN_AUDIENCE
CLIENT_ID_ANNOTATION = WI_CLIENT_ID
MAX_CREDENTIALS_PER_IDENTITY = 20  # Entra ID limit per user-assigned identity or app
CREDENTIAL_NAME_MAX = 120
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resource[gG]roups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)$")


@dataclass(frozen=True)
class IdentityPlan:
    """Every credential the fleet needs, in fleet order, and what the plan could not settle."""

    credentials: tuple[PlannedCredential, ...]
    notes: tuple[str, ...] = ()

    def by_identity(self) -> dict[str, list[PlannedCredential]]:
        """Credentials grouped by client ID (first-seen order)."""
        grouped: dict[str, list[PlannedCredential]] = {}
        for cred in self.credentials:
            grouped.setdefault(cred.client_id.lower(), []).append(cred)
        return grouped

    def over_limit(self, limit: int = MAX_CREDENTIALS_PER_IDENTITY) -> dict[str, list[PlannedCredential]]:
        """Identities that would need more than ``limit`` credentials."""
        return {cid: creds for cid, creds in self.by_identity().items() if len(creds) > limit}


def credential_name(region: str, namespace: str, service_account: str) -> str:
    """A stable FIC name: ``<region>-<namespace>-<serviceaccount>``.

    FIC names are 3-120 characters of ``[A-Za-z0-9_-]``, starting with a letter or digit. When
    the readable name has to be changed to fit (a dot in a ServiceAccount name, too long), a short
    hash of the original is appended so two different ServiceAccounts never share a name.
    """
    readable = f"{region}-{namespace}-{service_account}"
    if _NAME_OK.match(readable):
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()[:10]
    cleaned = _NAME_BAD_CHARS.sub("-", readable).strip("-_") or "fic"
    cleaned = cleaned[: CREDENTIAL_NAME_MAX - len(digest) - 1].rstrip("-_")
    return f"{cleaned}-{digest}"


def _identity_location(identity: Identity | None, region: Region,
                       fleet: Fleet) -> tuple[str | None, str | None, str | None]:
    """(name, resource group, subscription) of an identity, from its resource ID when given."""
    if identity is None:
        return None, None, None
    name, group = identity.name, identity.resource_group
    subscription = region.subscription_id or fleet.subscription_id
    if identity.resource_id:
        match = _RESOURCE_ID.match(identity.resource_id)
        if match:
            name = match.group("name")
            group = group or match.group("rg")
            subscription = match.group("sub")
    return name, group, subscription


def annotated_service_accounts(release: ReleaseObjects, default_namespace: str) -> list[tuple[str, str, str, Any]]:
    """(namespace, name, client ID, origin) of every ServiceAccount with a client ID annotation."""
    found = []
    for obj in release.of_kind("ServiceAccount"):
        annotations = obj.metadata.get("annotations")
        if not isinstance(annotations, dict):
            continue
        client_id = annotations.get(CLIENT_ID_ANNOTATION)
        if not isinstance(client_id, str) or not client_id.strip():
            continue
        found.append((obj.namespace or default_namespace, obj.name, client_id.strip(), obj.origin))
    return found


def kueue_controller_account(fleet: Fleet, region: Region, release: ReleaseObjects,
                             accounts: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """The MultiKueue manager's Kueue controller ServiceAccount, when the release does not annotate it.

    The upstream Kueue chart cannot annotate its ServiceAccount, so the controller's kubelogin gets
    the manager identity's client ID from its exec config instead; the identity still needs a
    federated credential for the ServiceAccount (in Kueue's namespace, the release's when Kueue is
    a dependency of the umbrella chart).
    """
    if fleet.manager is None or region.name != fleet.manager.name:
        return []
    namespaces = [o.namespace for o in release.of_kind("ServiceAccount", "Deployment")
                  if o.name == KUEUE_SERVICE_ACCOUNT and o.namespace]
    namespace = namespaces[0] if namespaces else region.namespace
    if any(name == KUEUE_SERVICE_ACCOUNT for _, name, _, _ in accounts):
        return []
    identity, _ = manager_identity(fleet, {region.name: release})
    if identity is None:
        return []
    return [(namespace, KUEUE_SERVICE_ACCOUNT, identity.client_id, SourceLocation(str(fleet.path)))]


def plan_credentials(fleet: Fleet, releases: Mapping[str, ReleaseObjects],
                     regions: Iterable[str] | None = None) -> IdentityPlan:
    """The FIC every annotated ServiceAccount of every region needs.

    ``releases`` maps region name to its rendered release (regions missing from it are skipped
    with a note). ServiceAccounts listed under ``policy.externalServiceAccounts`` with a
    ``clientId`` are planned in every region too: they are created outside the release, but the
    release's pods run as them.
    """
    wanted = set(regions) if regions is not None else None
    credentials: list[PlannedCredential] = []
    notes: list[str] = []
    seen: dict[tuple[str, str | None, str], PlannedCredential] = {}
    for region in fleet.regions:
        if wanted is not None and region.name not in wanted:
            continue
        release = releases.get(region.name)
        if release is None:
            notes.append(f"region {region.name}: not rendered, no credentials planned")
            continue
        issuer = region.cluster.oidc_issuer_url
        if not issuer:
            notes.append(f"region {region.name}: the fleet file has no cluster.oidcIssuerUrl; "
                         "read it with `az aks show --query oidcIssuerProfile.issuerUrl` and add it")
        accounts = annotated_service_accounts(release, region.namespace)
        accounts += kueue_controller_account(fleet, region, release, accounts)
        in_release = {(ns, name) for ns, name, _, _ in accounts}
        for external in fleet.settings.external_service_accounts:
            if external.client_id and (external.namespace, external.name) not in in_release:
                accounts.append((external.namespace, external.name, external.client_id,
                                 SourceLocation(str(fleet.path))))
        for namespace, sa_name, client_id, origin in accounts:
            identity = next((i for i in region.identities if i.client_id.lower() == client_id.lower()), None)
            if identity is None:
                notes.append(f"region {region.name}: ServiceAccount {namespace}/{sa_name} uses client ID "
                             f"{client_id}, which is not under the region's identities in the fleet file")
            name, group, subscription = _identity_location(identity, region, fleet)
            cred = PlannedCredential(
                region=region.name, client_id=client_id, identity_name=name,
                resource_id=identity.resource_id if identity else None, resource_group=group,
                subscription_id=subscription, issuer=issuer, namespace=namespace, service_account=sa_name,
                name=credential_name(region.name, namespace, sa_name), source=origin)
            key = (client_id.lower(), issuer, cred.subject)
            if issuer and key in seen:
                notes.append(f"region {region.name}: {cred.subject} on {cred.identity_label} with issuer "
                             f"{issuer} is already planned for region {seen[key].region}")
                continue
            seen[key] = cred
            credentials.append(cred)
    return IdentityPlan(tuple(credentials), tuple(dict.fromkeys(notes)))


__all__ = ["AUDIENCE", "CLIENT_ID_ANNOTATION", "MAX_CREDENTIALS_PER_IDENTITY", "IdentityPlan", "PlannedCredential",
           "credential_name", "plan_credentials", "subject_for"]
