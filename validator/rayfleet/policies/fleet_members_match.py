"""The fleet's regions match the hub's MemberClusters (live, read from the Fleet Manager hub)."""

from __future__ import annotations

from collections.abc import Iterator

from ..delivery.fleet_manager import LOCATION_LABEL
from ..findings import ObjectRef, Severity, Violation
from ..subjects import HubMembers
from .base import Policy, Scope

MEMBER_API = "cluster.kubernetes-fleet.io/v1beta1"


def _condition(member: dict, kind: str) -> str | None:
    for cond in (member.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return str(cond.get("status"))
    return None


def check(view: HubMembers) -> Iterator[Violation]:
    by_name = {(m.get("metadata") or {}).get("name"): m for m in view.members}
    for region in view.regions:
        name = region.member_name
        ref = ObjectRef(MEMBER_API, "MemberCluster", None, name)
        member = by_name.get(name)
        if member is None:
            yield Violation(f"region {region.name!r}: the hub has no MemberCluster {name!r}", obj=ref,
                            region=region.name)
            continue
        labels = (member.get("metadata") or {}).get("labels") or {}
        location = labels.get(LOCATION_LABEL)
        if location != region.location:
            yield Violation(f"region {region.name!r} is in {region.location} but member {name} is labelled "
                            f"{LOCATION_LABEL}={location or '(none)'}", obj=ref, region=region.name,
                            path=f"metadata.labels[{LOCATION_LABEL}]", value=location)
        if (member.get("metadata") or {}).get("deletionTimestamp") or _condition(member, "Joined") == "False":
            yield Violation(f"member {name} of region {region.name!r} is leaving or has left the fleet", obj=ref,
                            region=region.name, path="status.conditions")
        elif _condition(member, "Joined") != "True":
            yield Violation(f"member {name} of region {region.name!r} has not joined the fleet yet", obj=ref,
                            region=region.name, path="status.conditions", severity=Severity.WARNING)


POLICY = Policy(
    id="fleet-members-match",
    title="Every region has a joined hub MemberCluster in its location",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "The placement and the update stages select member clusters by name and fleet.azure.com/location. A "
        "region whose member is missing, in another location or not joined is silently left out of the "
        "rollout; a member that leaves during a run aborts it."
    ),
    remediation="Join the region's AKS cluster to the fleet (az fleet member create --name <fleetMember>) or fix "
                "the region's fleetMember and location.",
    references=("https://learn.microsoft.com/azure/kubernetes-fleet/concepts-member-cluster-labels",),
    check=check,
    subject=HubMembers,
)
