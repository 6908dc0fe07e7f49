"""Live check of workload identity wiring against Azure Resource Manager.

For each selected region: the AKS cluster (OIDC issuer enabled and equal to the fleet file's URL,
workload identity enabled, Blob CSI driver enabled), and for each managed identity the plan
uses, its federated identity credentials: missing, wrong issuer/subject/audience, and stale ones
no region needs. Everything found is a ``Finding`` of a ``Scope.LIVE`` policy; a call that
cannot be made (authentication, network, a resource that does not exist) is a ``LiveCheckError``
naming the region (raised by the shared ``rayfleet.azure.arm.ArmClient``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from ..errors import LiveCheckError
from ..findings import Finding, ObjectRef, SourceLocation
from ..identity import IdentityPlan, PlannedCredential
from ..policies import get_policy

if TYPE_CHECKING:
    from ..fleet import Fleet, Region
    from ..policies import Policy, Release
    from ..result import Result
    from .arm import ArmClient

MSI_API_VERSION = "2023-01-31"
AKS_API_VERSION = "2024-09-01"
CLUSTER_POLICIES = ("aks-oidc-issuer", "aks-workload-identity", "aks-blob-csi-driver")
CREDENTIAL_POLICIES = ("federated-credential-missing", "federated-credential-mismatch", "federated-credential-stale")


@dataclass(frozen=True)
class ExistingCredential:
    """A federated identity credential as ARM lists it."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]

    @classmethod
    def from_arm(cls, item: dict[str, Any]) -> ExistingCredential:
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        audiences = props.get("audiences") if isinstance(props.get("audiences"), list) else []
        return cls(str(item.get("name", "")), str(props.get("issuer", "")), str(props.get("subject", "")),
                   tuple(str(a) for a in audiences))


@dataclass(frozen=True)
class ClusterSettings:
    """What the check reads from a managed cluster."""

    oidc_enabled: bool
    issuer: str | None
    workload_identity: bool
    blob_driver: bool
    # principal IDs of the cluster's control-plane identity (system- or user-assigned): the Blob CSI
    # controller's identity for dynamic provisioning
    control_plane_principals: tuple[str, ...] = ()

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> ClusterSettings:
        props = _dict(body.get("properties"))
        oidc = _dict(props.get("oidcIssuerProfile"))
        issuer = oidc.get("issuerURL") or oidc.get("issuerUrl")  # REST spells it issuerURL; az shows issuerUrl
        storage = _dict(props.get("storageProfile"))
        blob = _dict(storage.get("blobCSIDriver") or storage.get("blobCsiDriver"))
        identity = _dict(body.get("identity"))
        principals = [identity.get("principalId")] + [
            _dict(u).get("principalId") for u in _dict(identity.get("userAssignedIdentities")).values()]
        return cls(oidc.get("enabled") is True, str(issuer) if issuer else None,
                   _dict(_dict(props.get("securityProfile")).get("workloadIdentity")).get("enabled") is True,
                   blob.get("enabled") is True, tuple(str(p) for p in principals if p))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class IdentityCheck:
    """What one run found: findings, and what it could not check (notes)."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    clusters: dict[str, ClusterSettings] = field(default_factory=dict)
    credentials: dict[str, list[ExistingCredential]] = field(default_factory=dict)  # identity ID -> FICs


# --- the check ----------------------------------------------------------------------------------


def _subscription(fleet: Fleet, region: Region) -> str:
    subscription = region.subscription_id or fleet.subscription_id
    if not subscription:
        raise LiveCheckError(region.name, "the fleet file gives no subscriptionId (for the fleet or this region)")
    return subscription


def _fleet_line(fleet: Fleet, *path: str | int) -> SourceLocation:
    line = fleet.document.line_of(tuple(path)) if fleet.document is not None else None
    return SourceLocation(str(fleet.path), line)


def cluster_ref(region: Region) -> ObjectRef:
    return ObjectRef(f"Microsoft.ContainerService/{AKS_API_VERSION}", "ManagedCluster", None, region.cluster.name)


@dataclass
class ClusterView:
    """What an ``aks-*`` policy looks at: one region and its managed cluster as ARM reports it."""

    fleet: Fleet
    region: Region
    settings: ClusterSettings

    @property
    def region_name(self) -> str:
        return self.region.name

    @property
    def obj(self) -> ObjectRef:
        if self.region.cluster.is_arc:
            from ..arc import CONNECTED_CLUSTERS_API_VERSION

            return ObjectRef(f"Microsoft.Kubernetes/{CONNECTED_CLUSTERS_API_VERSION}", "ConnectedCluster", None,
                             self.region.cluster.name)
        return cluster_ref(self.region)

    @property
    def label(self) -> str:
        if self.region.cluster.is_arc:
            return f"Arc-enabled cluster {self.region.cluster.resource_id}"
        return f"AKS cluster {self.region.cluster.resource_group}/{self.region.cluster.name}"

    def fleet_line(self, *path: str) -> SourceLocation:
        """Where the fleet file describes this region's cluster (``path`` below ``cluster``)."""
        return _fleet_line(self.fleet, "regions", self.fleet.regions.index(self.region), "cluster", *path)


@dataclass
class ManagedIdentityRef:
    """A user-assigned managed identity the plan uses, where it lives, and who uses it."""

    subscription: str
    resource_group: str
    name: str
    client_id: str
    region: str  # the first region that uses it (errors name it)
    source: SourceLocation
    planned: list[tuple[PlannedCredential, str]] = field(default_factory=list)  # (credential, issuer)

    @property
    def path(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{self.name}")

    @property
    def label(self) -> str:
        return f"managed identity {self.resource_group}/{self.name} ({self.client_id})"


@dataclass(frozen=True)
class CredentialMatch:
    """A planned credential and the existing one that stands for it: the exact (issuer, subject)
    pair, else the nearest (same name, or the same pair up to a trailing slash or case), else None."""

    planned: PlannedCredential
    issuer: str  # the issuer the credential must carry
    existing: ExistingCredential | None

    @property
    def exact(self) -> bool:
        return self.existing is not None and (self.existing.issuer, self.existing.subject) == \
            (self.issuer, self.planned.subject)


@dataclass
class IdentityView:
    """What a ``federated-credential-*`` policy looks at: one managed identity, the credentials the
    fleet needs on it, what ARM lists, and which listed credentials nothing needs."""

    fleet: Fleet
    identity: ManagedIdentityRef
    existing: list[ExistingCredential]
    matches: list[CredentialMatch]
    unused: list[ExistingCredential]  # listed, matched by no planned credential, in the checked scope
    issuers: dict[str, str]  # region -> OIDC issuer (fleet file, else the live cluster's)

    def region_of_issuer(self, issuer: str) -> str | None:
        return next((region for region, known in self.issuers.items() if known == issuer), None)


def service_account_ref(cred: PlannedCredential) -> ObjectRef:
    return ObjectRef("v1", "ServiceAccount", cred.namespace, cred.service_account)


def credential_ref(name: str) -> ObjectRef:
    return ObjectRef(f"Microsoft.ManagedIdentity/{MSI_API_VERSION}", "FederatedIdentityCredential", None, name)


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
                return _fleet_line(fleet, "regions", r_index, "identities", i_index)
    return cred.source or SourceLocation(str(fleet.path))


def _cluster_views(fleet: Fleet, selected: Sequence[Region], arm: ArmClient) -> list[ClusterView]:
    views = []
    for region in selected:
        if region.cluster.is_arc:
            from .arc import read_connected_cluster

            views.append(ClusterView(fleet, region, read_connected_cluster(arm, region)))
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
        views.append(ClusterView(fleet, region, ClusterSettings.from_arm(body)))
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


def _run(policies: Iterable[Any], views: Iterable[Any], out: list[Finding]) -> None:
    from ..checks import to_finding

    views = list(views)
    for policy in policies:
        for view in views:
            for violation in policy.check(view):
                out.append(to_finding(policy, violation, None, None))


def check_identity_live(fleet: Fleet, plan: IdentityPlan, arm: ArmClient, *,
                        regions: Sequence[str] | None = None) -> IdentityCheck:
    """Read every selected region's AKS cluster and every planned identity's federated credentials,
    and run the live policies over them.

    ``plan`` is ``rayfleet.identity.plan_credentials`` for the whole fleet. Raises
    ``LiveCheckError`` (naming the region) when a call fails or a resource does not exist.
    """
    selected = fleet.select(regions)
    names = {r.name for r in selected}
    result = IdentityCheck()
    clusters = _cluster_views(fleet, selected, arm)
    result.clusters = {v.region_name: v.settings for v in clusters}
    _run(cluster_policies(), [v for v in clusters if not v.region.cluster.is_arc], result.findings)
    _run([get_policy("arc-oidc-issuer")], [v for v in clusters if v.region.cluster.is_arc], result.findings)

    # The issuer each region's credentials must carry: the fleet file's, else the live cluster's.
    live = {v.region_name: v.settings.issuer for v in clusters if v.settings.oidc_enabled and v.settings.issuer}
    issuers = {r.name: r.cluster.oidc_issuer_url or live.get(r.name) or "" for r in fleet.regions}
    issuers = {k: v for k, v in issuers.items() if v}
    whole_fleet = names == {r.name for r in fleet.regions}
    checked_issuers = {issuers[n] for n in names if n in issuers}
    views = []
    for target in _identities(fleet, plan, names, issuers, arm, result.notes):
        needs = (f"Reader on {target.label} (Microsoft.ManagedIdentity/userAssignedIdentities/"
                 "federatedIdentityCredentials/read)")
        items = arm.list_pages(f"{target.path}/federatedIdentityCredentials", MSI_API_VERSION,
                               region=target.region, needs=needs)
        existing = [ExistingCredential.from_arm(item) for item in items]
        result.credentials[target.path] = existing
        matches, left = match_credentials(target.planned, existing)
        # With --region, only credentials of the checked regions' issuers can be called stale.
        unused = left if whole_fleet else [f for f in left if f.issuer in checked_issuers]
        views.append(IdentityView(fleet, target, existing, matches, unused, issuers))
    _run(credential_policies(), views, result.findings)
    return result


def cluster_policies() -> tuple[Policy, ...]:
    return tuple(get_policy(p) for p in CLUSTER_POLICIES)


def credential_policies() -> tuple[Policy, ...]:
    return tuple(get_policy(p) for p in CREDENTIAL_POLICIES)


def identity_policies() -> tuple[Policy, ...]:
    """The live policies this check runs (for ``Result.policies``)."""
    return (*credential_policies(), *cluster_policies(), get_policy("arc-oidc-issuer"))


def run_identity_check(fleet: Fleet, releases: Mapping[str, Release], *, regions: Sequence[str] | None = None,
                       arm: ArmClient | None = None, today: date | None = None) -> Result:
    """``rayfleet identity check``: the federated credential plan of the whole fleet, the
    ``federated-credential-limit`` policy, and with ``arm`` the live checks of the selected regions;
    waivers applied. ``releases`` should hold every region (the limit counts the whole fleet)."""
    from ..checks import run_fleet_policies
    from ..identity import plan_credentials
    from ..identity_rbac import plan_role_assignments
    from ..policies import FleetView
    from ..result import RegionSummary, Result
    from ..waivers import apply_waivers

    selected = [r.name for r in fleet.select(regions)]
    plan = plan_credentials(fleet, releases)
    ran = [get_policy("federated-credential-limit")]
    result = Result(command="identity check")
    result.findings.extend(run_fleet_policies(FleetView(fleet, dict(releases)), ran))
    result.notes.extend(plan.notes)
    rbac = plan_role_assignments(fleet, releases)
    result.notes.extend(rbac.notes)
    if arm is not None:
        live = check_identity_live(fleet, plan, arm, regions=selected)
        ran.extend(identity_policies())
        result.findings.extend(live.findings)
        result.notes.extend(live.notes)
        result.extra["clusters"] = {name: asdict(settings) for name, settings in live.clusters.items()}
        if rbac.assignments:  # the MultiKueue manager's role on each worker
            from .role_assignments import role_assignment_views

            policy = get_policy("kueue-manager-role-assignment")
            ran.append(policy)
            _run([policy], role_assignment_views(fleet, rbac, arm, selected), result.findings)
        from .storage import check_storage_live, storage_policies

        storage = check_storage_live(fleet, releases, arm, live.clusters, regions=selected)
        ran.extend(storage_policies())
        result.findings.extend(storage.findings)
        result.notes.extend(storage.notes)
        result.extra["storageAccounts"] = storage.accounts
    else:
        result.notes.append("live checks skipped: add --live to read the AKS clusters and the federated "
                            "credentials from Azure Resource Manager")
    ran_ids = {p.id for p in ran}
    result.findings = apply_waivers(fleet, result.findings, today=today, regions=selected, checked=ran_ids)
    result.policies = tuple(ran)
    result.regions = [RegionSummary(name, len(releases[name].objects) if name in releases else 0,
                                    name in releases) for name in selected]
    if arm is not None:  # a region without oidcIssuerUrl: its credentials carry the issuer read live
        live_issuers = {name: s.issuer for name, s in live.clusters.items() if s.oidc_enabled and s.issuer}
        plan = replace(plan, credentials=tuple(
            replace(c, issuer=live_issuers[c.region]) if c.issuer is None and c.region in live_issuers else c
            for c in plan.credentials))
    result.extra["identityPlan"] = {
        "credentials": [c.to_dict() for c in plan.credentials if c.region in selected],
        "notes": list(plan.notes),
        "roleAssignments": [a.to_dict() for a in rbac.assignments if a.worker in selected],
    }
    return result
