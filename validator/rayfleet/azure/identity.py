"""Reading workload identity wiring from Azure Resource Manager (an adapter: facts, no verdicts).

For each selected region, the AKS cluster (OIDC issuer, workload identity, Blob CSI driver) as an
``AksCluster``; for each managed identity the plan uses, its federated identity credentials
matched against the ones the fleet needs, as an ``IdentityCredentials``. The ``aks-*`` and
``federated-credential-*`` policies judge them (``rayfleet.commands.identity`` runs them). A call
that cannot be made (authentication, network, a resource that does not exist) is a
``LiveCheckError`` naming the region (raised by the shared ``rayfleet.azure.arm.ArmClient``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import LiveCheckError
from ..findings import SourceLocation
from ..fleet import Fleet, Region
from ..identity import IdentityPlan
from ..subjects import (
    AksCluster,
    AksSettings,
    ArcCluster,
    CredentialMatch,
    ExistingCredential,
    IdentityCredentials,
    ManagedIdentityRef,
    PlannedCredential,
    fleet_line,
)
from ..wellknown import AKS_API_VERSION, MSI_API_VERSION
from .arc import read_connected_cluster
from .arm import ArmClient


def existing_credential(item: dict[str, Any]) -> ExistingCredential:
    """A federated identity credential from its ARM JSON."""
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    audiences = props.get("audiences") if isinstance(props.get("audiences"), list) else []
    return ExistingCredential(str(item.get("name", "")), str(props.get("issuer", "")), str(props.get("subject", "")),
                              tuple(str(a) for a in audiences))


def aks_settings(body: dict[str, Any]) -> AksSettings:
    """What the check needs from a managed cluster's ARM JSON."""
    props = _dict(body.get("properties"))
    oidc = _dict(props.get("oidcIssuerProfile"))
    issuer = oidc.get("issuerURL") or oidc.get("issuerUrl")  # REST spells it issuerURL; az shows issuerUrl
    storage = _dict(props.get("storageProfile"))
    blob = _dict(storage.get("blobCSIDriver") or storage.get("blobCsiDriver"))
    identity = _dict(body.get("identity"))
    principals = [identity.get("principalId")] + [
        _dict(u).get("principalId") for u in _dict(identity.get("userAssignedIdentities")).values()]
    return AksSettings(oidc.get("enabled") is True, str(issuer) if issuer else None,
                       _dict(_dict(props.get("securityProfile")).get("workloadIdentity")).get("enabled") is True,
                       blob.get("enabled") is True, tuple(str(p) for p in principals if p))


@dataclass
class IdentityFacts:
    """What one read found: the selected regions' clusters, the planned identities with their
    credentials, and what could not be read (notes)."""

    clusters: list[AksCluster | ArcCluster] = field(default_factory=list)
    identities: list[IdentityCredentials] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- the check ----------------------------------------------------------------------------------


def _subscription(fleet: Fleet, region: Region) -> str:
    subscription = region.subscription_id or fleet.subscription_id
    if not subscription:
        raise LiveCheckError(region.name, "the fleet file gives no subscriptionId (for the fleet or this region)")
    return subscription


def _loosely_equal(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def match_credentials(planned: Sequence[tuple[PlannedCredential, str]],
                      existing: Sequence[ExistingCredential]) -> tuple[list[CredentialMatch], list[ExistingCredential]]:
    """Pair planned with existing credentials; return the pairs and the existing ones left over.

    Exact (issuer, subject) pairs are taken first, so a near-miss never steals a credential that
    another planned one matches exactly.
    """
    used: set[str] = set()
    found: dict[int, ExistingCredential] = {}
    for index, (cred, issuer) in enumerate(planned):
        exact = next((f for f in existing if f.name not in used and (f.issuer, f.subject) == (issuer, cred.subject)),
                     None)
        if exact is not None:
            used.add(exact.name)
            found[index] = exact
    for index, (cred, issuer) in enumerate(planned):
        if index in found:
            continue
        free = [f for f in existing if f.name not in used]
        near = (next((f for f in free if f.name == cred.name), None)
                or next((f for f in free if f.subject == cred.subject and _loosely_equal(f.issuer, issuer)), None)
                or next((f for f in free if f.issuer == issuer and f.subject.lower() == cred.subject.lower()), None))
        if near is not None:
            used.add(near.name)
            found[index] = near
    matches = [CredentialMatch(cred, issuer, found.get(index)) for index, (cred, issuer) in enumerate(planned)]
    return matches, [f for f in existing if f.name not in used]


def _find_identity(arm: ArmClient, subscription: str, client_id: str, region: str) -> tuple[str, str] | None:
    """(resource group, name) of the user-assigned identity with ``client_id`` in a subscription."""
    path = f"/subscriptions/{subscription}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    needs = f"Reader on subscription {subscription} (Microsoft.ManagedIdentity/userAssignedIdentities/read)"
    for item in arm.list_pages(path, MSI_API_VERSION, region=region, needs=needs):
        if str(_dict(item.get("properties")).get("clientId", "")).lower() == client_id.lower():
            parts = str(item.get("id", "")).split("/")
            lowered = [p.lower() for p in parts]
            if "resourcegroups" in lowered:
                return parts[lowered.index("resourcegroups") + 1], str(item.get("name", parts[-1]))
    return None


def _identity_source(fleet: Fleet, cred: PlannedCredential) -> SourceLocation:
    for r_index, region in enumerate(fleet.regions):
        if region.name != cred.region:
            continue
        for i_index, identity in enumerate(region.identities):
            if identity.client_id.lower() == cred.client_id.lower():
                return fleet_line(fleet, "regions", r_index, "identities", i_index)
    return cred.source or SourceLocation(str(fleet.path))


def _cluster_views(fleet: Fleet, selected: Sequence[Region], arm: ArmClient) -> list[AksCluster | ArcCluster]:
    views: list[AksCluster | ArcCluster] = []
    for region in selected:
        if region.cluster.is_arc:
            views.append(ArcCluster(fleet, region, read_connected_cluster(arm, region)))
            continue
        group = region.cluster.resource_group
        if not group:
            raise LiveCheckError(region.name, "the fleet file gives no cluster.resourceGroup for this region")
        subscription = _subscription(fleet, region)
        path = (f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
                f"Microsoft.ContainerService/managedClusters/{region.cluster.name}")
        body = arm.get(path, AKS_API_VERSION, region=region.name,
                       needs=f"Reader on AKS cluster {group}/{region.cluster.name} "
                             "(Microsoft.ContainerService/managedClusters/read)")
        views.append(AksCluster(fleet, region, aks_settings(body)))
    return views


def _identities(fleet: Fleet, plan: IdentityPlan, names: set[str], issuers: dict[str, str], arm: ArmClient,
                notes: list[str]) -> list[ManagedIdentityRef]:
    """The identities the selected regions' planned credentials use, each with its credentials."""
    targets: dict[tuple[str, str, str], ManagedIdentityRef] = {}
    lookups: dict[tuple[str, str], tuple[str, str] | None] = {}
    for cred in plan.credentials:
        if cred.region not in names:
            continue
        issuer = issuers.get(cred.region)
        if not issuer:
            notes.append(f"region {cred.region}: no OIDC issuer known, {cred.subject} not checked")
            continue
        subscription = cred.subscription_id or _subscription(fleet, fleet.region(cred.region))
        group, name = cred.resource_group, cred.identity_name
        if not (group and name):
            key = (subscription, cred.client_id.lower())
            if key not in lookups:
                lookups[key] = _find_identity(arm, subscription, cred.client_id, cred.region)
            found = lookups[key]
            if found is None:
                raise LiveCheckError(cred.region, f"no user-assigned managed identity with client ID {cred.client_id} "
                                                  f"in subscription {subscription} (used by ServiceAccount "
                                                  f"{cred.namespace}/{cred.service_account})")
            group, name = found
            notes.append(f"region {cred.region}: identity {cred.client_id} found as {group}/{name}; "
                         "add name and resourceGroup under the region's identities in the fleet file")
        key3 = (subscription, group.lower(), name)
        if key3 not in targets:
            targets[key3] = ManagedIdentityRef(subscription, group, name, cred.client_id, cred.region,
                                               _identity_source(fleet, cred))
        targets[key3].planned.append((cred, issuer))
    return list(targets.values())


def read_identity_facts(fleet: Fleet, plan: IdentityPlan, arm: ArmClient, *,
                        regions: Sequence[str] | None = None) -> IdentityFacts:
    """Read every selected region's AKS cluster and every planned identity's federated credentials.

    ``plan`` is ``rayfleet.identity.plan_credentials`` for the whole fleet. Raises
    ``LiveCheckError`` (naming the region) when a call fails or a resource does not exist.
    """
    selected = fleet.select(regions)
    names = {r.name for r in selected}
    facts = IdentityFacts()
    facts.clusters = _cluster_views(fleet, selected, arm)

    # The issuer each region's credentials must carry: the fleet file's, else the live cluster's.
    live = {v.region_name: v.settings.issuer for v in facts.clusters if v.settings.oidc_enabled and v.settings.issuer}
    issuers = {r.name: r.cluster.oidc_issuer_url or live.get(r.name) or "" for r in fleet.regions}
    issuers = {k: v for k, v in issuers.items() if v}
    whole_fleet = names == {r.name for r in fleet.regions}
    checked_issuers = {issuers[n] for n in names if n in issuers}
    for target in _identities(fleet, plan, names, issuers, arm, facts.notes):
        needs = (f"Reader on {target.label} (Microsoft.ManagedIdentity/userAssignedIdentities/"
                 "federatedIdentityCredentials/read)")
        items = arm.list_pages(f"{target.path}/federatedIdentityCredentials", MSI_API_VERSION,
                               region=target.region, needs=needs)
        existing = [existing_credential(item) for item in items]
        matches, left = match_credentials(target.planned, existing)
        # With --region, only credentials of the checked regions' issuers can be called stale.
        unused = left if whole_fleet else [f for f in left if f.issuer in checked_issuers]
        facts.identities.append(IdentityCredentials(fleet, target, existing, matches, unused, issuers))
    return facts
