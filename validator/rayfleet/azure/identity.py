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
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ..errors import LiveCheckError
from ..findings import Finding, ObjectRef, SourceLocation, Violation
from ..identity import AUDIENCE, IdentityPlan, PlannedCredential
from ..policies import get_policy

if TYPE_CHECKING:

    from ..fleet import Fleet, Region
    from ..policies import Release
    from ..result import Result
    from .arm import ArmClient

MSI_API_VERSION = "2023-01-31"
AKS_API_VERSION = "2024-09-01"
IDENTITY_POLICIES = ("federated-credential-missing", "federated-credential-mismatch", "federated-credential-stale",
                     "aks-oidc-issuer", "aks-workload-identity", "aks-blob-csi-driver")


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

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> ClusterSettings:
        props = _dict(body.get("properties"))
        oidc = _dict(props.get("oidcIssuerProfile"))
        issuer = oidc.get("issuerURL") or oidc.get("issuerUrl")  # REST spells it issuerURL; az shows issuerUrl
        storage = _dict(props.get("storageProfile"))
        blob = _dict(storage.get("blobCSIDriver") or storage.get("blobCsiDriver"))
        return cls(oidc.get("enabled") is True, str(issuer) if issuer else None,
                   _dict(_dict(props.get("securityProfile")).get("workloadIdentity")).get("enabled") is True,
                   blob.get("enabled") is True)


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


class _Findings:
    def __init__(self, out: list[Finding]) -> None:
        self.out = out

    def add(self, policy_id: str, message: str, *, region: str | None, obj: ObjectRef | None, path: str,
            source: SourceLocation, severity: Any = None) -> None:
        from ..checks import to_finding

        violation = Violation(message, obj=obj, path=path, source=source, region=region, severity=severity)
        self.out.append(to_finding(get_policy(policy_id), violation, None, None))


def _cluster_ref(region: Region) -> ObjectRef:
    return ObjectRef(f"Microsoft.ContainerService/{AKS_API_VERSION}", "ManagedCluster", None, region.cluster.name)


def _check_cluster(fleet: Fleet, index: int, region: Region, settings: ClusterSettings, sink: _Findings) -> None:
    from ..findings import Severity

    obj = _cluster_ref(region)
    where = f"AKS cluster {region.cluster.resource_group}/{region.cluster.name}"
    expected = region.cluster.oidc_issuer_url
    source = _fleet_line(fleet, "regions", index, "cluster", "oidcIssuerUrl")
    if not settings.oidc_enabled or not settings.issuer:
        sink.add("aks-oidc-issuer", f"{where} has its OIDC issuer disabled: no federated credential can work",
                 region=region.name, obj=obj, path="properties.oidcIssuerProfile.enabled", source=source)
    elif expected is None:
        sink.add("aks-oidc-issuer", f"the fleet file gives no cluster.oidcIssuerUrl; {where} has "
                 f"{settings.issuer!r}: add it (the plan needs it)", region=region.name, obj=obj,
                 path="properties.oidcIssuerProfile.issuerURL", source=source, severity=Severity.WARNING)
    elif settings.issuer != expected:
        hint = ""
        if settings.issuer.rstrip("/") == expected.rstrip("/"):
            hint = " (they differ only in the trailing slash, which Entra ID compares too)"
        sink.add("aks-oidc-issuer", f"{where} has OIDC issuer {settings.issuer!r}, the fleet file says "
                 f"{expected!r}{hint}", region=region.name, obj=obj,
                 path="properties.oidcIssuerProfile.issuerURL", source=source)
    cluster_line = _fleet_line(fleet, "regions", index, "cluster")
    if not settings.workload_identity:
        sink.add("aks-workload-identity", f"{where} does not have workload identity enabled: pods get no "
                 "federated token", region=region.name, obj=obj,
                 path="properties.securityProfile.workloadIdentity.enabled", source=cluster_line)
    if not settings.blob_driver:
        sink.add("aks-blob-csi-driver", f"{where} does not have the Blob CSI driver enabled: the release's "
                 "BlobFuse volumes cannot mount", region=region.name, obj=obj,
                 path="properties.storageProfile.blobCSIDriver.enabled", source=cluster_line)


@dataclass
class _IdentityTarget:
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


def _sa_ref(cred: PlannedCredential) -> ObjectRef:
    return ObjectRef("v1", "ServiceAccount", cred.namespace, cred.service_account)


def _fic_ref(target: _IdentityTarget, name: str) -> ObjectRef:
    return ObjectRef(f"Microsoft.ManagedIdentity/{MSI_API_VERSION}", "FederatedIdentityCredential", None, name)


def _loosely_equal(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _compare(target: _IdentityTarget, existing: list[ExistingCredential], fleet_issuers: dict[str, str],
             stale_issuers: set[str] | None, sink: _Findings) -> None:
    """Planned against existing credentials of one identity. ``stale_issuers`` None: every unused
    credential is stale; else only those whose issuer is in it (a region subset was checked)."""
    used: set[str] = set()
    for cred, issuer in target.planned:
        subject = cred.subject
        exact = next((f for f in existing if f.name not in used and f.issuer == issuer and f.subject == subject),
                     None)
        where = f"{target.label}"
        path = f"federatedIdentityCredentials/{cred.name}"
        if exact is not None:
            used.add(exact.name)
            if list(exact.audiences) != [AUDIENCE]:
                sink.add("federated-credential-mismatch",
                         f"federated credential {exact.name!r} on {where} has audiences {list(exact.audiences)}, "
                         f"needs exactly [{AUDIENCE!r}] (AADSTS700212 otherwise)", region=cred.region,
                         obj=_sa_ref(cred), path=f"federatedIdentityCredentials/{exact.name}.properties.audiences",
                         source=target.source)
            continue
        near = (next((f for f in existing if f.name not in used and f.name == cred.name), None)
                or next((f for f in existing if f.name not in used and f.subject == subject
                         and _loosely_equal(f.issuer, issuer)), None)
                or next((f for f in existing if f.name not in used and f.issuer == issuer
                         and f.subject.lower() == subject.lower()), None))
        if near is None:
            sink.add("federated-credential-missing",
                     f"{where} has no federated credential for issuer {issuer!r} and subject {subject!r} "
                     f"(ServiceAccount {cred.namespace}/{cred.service_account} of region {cred.region}; "
                     f"planned name {cred.name!r})", region=cred.region, obj=_sa_ref(cred), path=path,
                     source=target.source)
            continue
        used.add(near.name)
        problems = []
        if near.issuer != issuer:
            slash = " (trailing slash)" if near.issuer.rstrip("/") == issuer.rstrip("/") else ""
            problems.append(f"issuer {near.issuer!r} instead of {issuer!r}{slash}")
        if near.subject != subject:
            problems.append(f"subject {near.subject!r} instead of {subject!r}")
        if list(near.audiences) != [AUDIENCE]:
            problems.append(f"audiences {list(near.audiences)} instead of [{AUDIENCE!r}]")
        sink.add("federated-credential-mismatch",
                 f"federated credential {near.name!r} on {where} has {'; '.join(problems)}: token exchange for "
                 f"ServiceAccount {cred.namespace}/{cred.service_account} of region {cred.region} fails "
                 "with AADSTS70021", region=cred.region, obj=_sa_ref(cred),
                 path=f"federatedIdentityCredentials/{near.name}.properties", source=target.source)
    by_issuer = {issuer: region for region, issuer in fleet_issuers.items()}
    for fic in existing:
        if fic.name in used:
            continue
        if stale_issuers is not None and fic.issuer not in stale_issuers:
            continue
        owner = by_issuer.get(fic.issuer)
        why = (f"its issuer is region {owner}'s cluster, whose release has no ServiceAccount {fic.subject!r} "
               "on this identity" if owner else
               "its issuer is no cluster of this fleet (a deleted cluster, or another workload that shares "
               "the identity)")
        sink.add("federated-credential-stale",
                 f"federated credential {fic.name!r} on {target.label} (issuer {fic.issuer!r}, subject "
                 f"{fic.subject!r}) is needed by no region: {why}", region=owner or target.region,
                 obj=_fic_ref(target, fic.name), path=f"federatedIdentityCredentials/{fic.name}",
                 source=target.source)


def check_identity_live(fleet: Fleet, plan: IdentityPlan, arm: ArmClient, *,
                        regions: Sequence[str] | None = None) -> IdentityCheck:
    """Read every selected region's AKS cluster and every planned identity's federated credentials.

    ``plan`` is ``rayfleet.identity.plan_credentials`` for the same regions. Raises
    ``LiveCheckError`` (naming the region) when a call fails or a resource does not exist.
    """
    selected = fleet.select(regions)
    names = {r.name for r in selected}
    result = IdentityCheck()
    sink = _Findings(result.findings)
    live_issuers: dict[str, str] = {}
    for region in selected:
        index = fleet.regions.index(region)
        group = region.cluster.resource_group
        if not group:
            raise LiveCheckError(region.name, "the fleet file gives no cluster.resourceGroup for this region")
        subscription = _subscription(fleet, region)
        path = (f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
                f"Microsoft.ContainerService/managedClusters/{region.cluster.name}")
        body = arm.get(path, AKS_API_VERSION, region=region.name,
                       needs=f"Reader on AKS cluster {group}/{region.cluster.name} "
                             "(Microsoft.ContainerService/managedClusters/read)")
        settings = ClusterSettings.from_arm(body)
        result.clusters[region.name] = settings
        _check_cluster(fleet, index, region, settings, sink)
        if settings.oidc_enabled and settings.issuer:
            live_issuers[region.name] = settings.issuer

    # The identities, with the issuer each planned credential must carry: the fleet file's, or
    # the cluster's when the fleet file has none.
    fleet_issuers = {r.name: r.cluster.oidc_issuer_url or live_issuers.get(r.name, "") for r in fleet.regions}
    fleet_issuers = {k: v for k, v in fleet_issuers.items() if v}
    targets: dict[tuple[str, str, str], _IdentityTarget] = {}
    lookups: dict[tuple[str, str], tuple[str, str] | None] = {}
    for cred in plan.credentials:
        if cred.region not in names:
            continue
        region = fleet.region(cred.region)
        issuer = cred.issuer or live_issuers.get(cred.region)
        if not issuer:
            result.notes.append(f"region {cred.region}: no OIDC issuer known, {cred.subject} not checked")
            continue
        subscription = cred.subscription_id or _subscription(fleet, region)
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
            result.notes.append(f"region {cred.region}: identity {cred.client_id} found as {group}/{name}; "
                                "add name and resourceGroup under the region's identities in the fleet file")
        key3 = (subscription, group.lower(), name)
        if key3 not in targets:
            targets[key3] = _IdentityTarget(subscription, group, name, cred.client_id, cred.region,
                                            _identity_source(fleet, cred))
        targets[key3].planned.append((cred, issuer))

    all_selected = names == {r.name for r in fleet.regions}
    stale_issuers = None if all_selected else {fleet_issuers[n] for n in names if n in fleet_issuers}
    for target in targets.values():
        needs = (f"Reader on {target.label} (Microsoft.ManagedIdentity/userAssignedIdentities/"
                 "federatedIdentityCredentials/read)")
        items = list(arm.list_pages(f"{target.path}/federatedIdentityCredentials", MSI_API_VERSION,
                                    region=target.region, needs=needs))
        existing = [ExistingCredential.from_arm(item) for item in items]
        result.credentials[target.path] = existing
        _compare(target, existing, fleet_issuers, stale_issuers, sink)
    return result


def identity_policies() -> tuple:
    """The live policies this check can raise (for ``Result.policies``)."""
    return tuple(get_policy(p) for p in IDENTITY_POLICIES)


def filter_waiver_findings(fleet: Fleet, findings: Iterable[Finding], ran: set[str]) -> list[Finding]:
    """Drop the waiver bookkeeping findings (unmatched, expiring, expired) about waivers of
    policies this command did not run: `identity check` must not call a waiver for
    `image-pinned` unmatched."""
    labels = tuple(f"waiver #{i + 1} ({w.policy}," for i, w in enumerate(fleet.waivers) if w.policy not in ran)
    return [f for f in findings
            if not (f.policy.startswith("waiver-") and labels and f.message.startswith(labels))]


def run_identity_check(fleet: Fleet, releases: Mapping[str, Release], *, regions: Sequence[str] | None = None,
                       arm: ArmClient | None = None, today: date | None = None) -> Result:
    """``rayfleet identity check``: the federated credential plan of the whole fleet, the
    ``federated-credential-limit`` policy, and with ``arm`` the live checks of the selected regions;
    waivers applied. ``releases`` should hold every region (the limit counts the whole fleet)."""
    from ..checks import run_fleet_policies
    from ..identity import plan_credentials
    from ..policies import FleetView
    from ..result import RegionSummary, Result
    from ..waivers import apply_waivers

    selected = [r.name for r in fleet.select(regions)]
    plan = plan_credentials(fleet, releases)
    ran = [get_policy("federated-credential-limit")]
    result = Result(command="identity check")
    result.findings.extend(run_fleet_policies(FleetView(fleet, dict(releases)), ran))
    result.notes.extend(plan.notes)
    if arm is not None:
        live = check_identity_live(fleet, plan, arm, regions=selected)
        ran.extend(identity_policies())
        result.findings.extend(live.findings)
        result.notes.extend(live.notes)
        result.extra["clusters"] = {name: asdict(settings) for name, settings in live.clusters.items()}
    else:
        result.notes.append("live checks skipped: add --live to read the AKS clusters and the federated "
                            "credentials from Azure Resource Manager")
    ran_ids = {p.id for p in ran}
    result.findings = filter_waiver_findings(
        fleet, apply_waivers(fleet, result.findings, today=today, regions=selected), ran_ids)
    result.policies = tuple(ran)
    result.regions = [RegionSummary(name, len(releases[name].objects) if name in releases else 0,
                                    name in releases) for name in selected]
    result.extra["identityPlan"] = {
        "credentials": [c.to_dict() for c in plan.credentials if c.region in selected],
        "notes": list(plan.notes),
    }
    return result
