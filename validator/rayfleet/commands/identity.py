"""``rayfleet identity check``: the federated credential plan, the 20-credential limit and, with
Azure Resource Manager, the live ``aks-*`` and ``federated-credential-*`` policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from ..azure.arm import ArmClient
from ..azure.identity import read_identity_facts
from ..azure.role_assignments import role_assignment_views
from ..azure.storage import read_storage_facts
from ..findings import Finding
from ..fleet import Fleet
from ..identity import IdentityPlan, plan_credentials
from ..identity_rbac import RoleAssignmentView, plan_role_assignments
from ..policies import ALL_POLICIES, Policy, Reads, Scope
from ..result import RegionSummary, Result
from ..runner import Waivers, check_all, finish, select
from ..subjects import (
    AksCluster,
    AksSettings,
    ArcCluster,
    FleetView,
    IdentityCredentials,
    ReleaseObjects,
    StorageAccount,
)


def cluster_policies() -> tuple[Policy, ...]:
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=AksCluster)


def arc_policies() -> tuple[Policy, ...]:
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=ArcCluster)


def credential_policies() -> tuple[Policy, ...]:
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=IdentityCredentials)


def storage_policies() -> tuple[Policy, ...]:
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=StorageAccount)


def plan_policies() -> tuple[Policy, ...]:
    """The fleet policies that read the federated credential plan (the limit per identity)."""
    return select(ALL_POLICIES, scopes=[Scope.FLEET], reads=Reads.CREDENTIAL_PLAN)


def role_policies() -> tuple[Policy, ...]:
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=RoleAssignmentView)


def identity_policies() -> tuple[Policy, ...]:
    """The live policies this check runs (for ``Result.policies``)."""
    return (*credential_policies(), *cluster_policies(), *arc_policies())


@dataclass
class IdentityCheck:
    """What one live check found: findings, what it could not check (notes), and what ARM said."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    clusters: dict[str, AksSettings] = field(default_factory=dict)


def _by_policy(policies: Sequence[Policy], subjects: Sequence[object]) -> list[Finding]:
    """Findings policy by policy (each over every subject), the order the report lists them in."""
    return [f for policy in policies for f in check_all((policy,), subjects)]  # type: ignore[arg-type]


def check_identity_live(fleet: Fleet, plan: IdentityPlan, arm: ArmClient, *,
                        regions: Sequence[str] | None = None) -> IdentityCheck:
    """Read every selected region's AKS cluster and every planned identity's federated credentials
    (``rayfleet.azure.identity``), and run the live policies over them.

    ``plan`` is ``rayfleet.identity.plan_credentials`` for the whole fleet. Raises
    ``LiveCheckError`` (naming the region) when a call fails or a resource does not exist.
    """
    facts = read_identity_facts(fleet, plan, arm, regions=regions)
    result = IdentityCheck(notes=list(facts.notes),
                           clusters={c.region_name: c.settings for c in facts.clusters})
    result.findings.extend(_by_policy(cluster_policies(), facts.clusters))  # AKS members
    result.findings.extend(_by_policy(arc_policies(), facts.clusters))  # Arc members
    result.findings.extend(_by_policy(credential_policies(), facts.identities))
    return result


def run_identity_check(fleet: Fleet, releases: Mapping[str, ReleaseObjects], *, regions: Sequence[str] | None = None,
                       arm: ArmClient | None = None, today: date | None = None) -> Result:
    """``rayfleet identity check``: the federated credential plan of the whole fleet, the
    ``federated-credential-limit`` policy, and with ``arm`` the live checks of the selected regions;
    waivers applied. ``releases`` should hold every region (the limit counts the whole fleet)."""
    selected = [r.name for r in fleet.select(regions)]
    plan = plan_credentials(fleet, releases)
    ran = list(plan_policies())
    result = Result(command="identity check")
    result.findings.extend(check_all(ran, [FleetView(fleet, dict(releases))]))
    result.notes.extend(plan.notes)
    rbac = plan_role_assignments(fleet, releases)
    result.notes.extend(rbac.notes)
    live = None
    if arm is not None:
        live = check_identity_live(fleet, plan, arm, regions=selected)
        ran.extend(identity_policies())
        result.findings.extend(live.findings)
        result.notes.extend(live.notes)
        result.clusters = live.clusters
        if rbac.assignments:  # the MultiKueue manager's role on each worker
            ran.extend(role_policies())
            result.findings.extend(_by_policy(role_policies(), role_assignment_views(fleet, rbac, arm, selected)))
        storage = read_storage_facts(fleet, releases, arm, live.clusters, regions=selected)
        ran.extend(storage_policies())
        result.findings.extend(_by_policy(storage_policies(), storage.accounts))
        result.notes.extend(storage.notes)
        result.storage_accounts = storage.summary
    else:
        result.notes.append("live checks skipped: add --live to read the AKS clusters and the federated "
                            "credentials from Azure Resource Manager")
    result.policies = tuple(ran)
    finish(result, Waivers(fleet, today, selected))
    result.regions = [RegionSummary(name, len(releases[name].objects) if name in releases else 0,
                                    name in releases) for name in selected]
    if live is not None:  # a region without oidcIssuerUrl: its credentials carry the issuer read live
        live_issuers = {name: s.issuer for name, s in live.clusters.items() if s.oidc_enabled and s.issuer}
        plan = replace(plan, credentials=tuple(
            replace(c, issuer=live_issuers[c.region]) if c.issuer is None and c.region in live_issuers else c
            for c in plan.credentials))
    result.identity_plan = IdentityPlan(tuple(c for c in plan.credentials if c.region in selected), plan.notes)
    result.role_assignments = tuple(a for a in rbac.assignments if a.worker in selected)
    return result
