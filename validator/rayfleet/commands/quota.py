"""``rayfleet quota``: the capacity policies and the capacity table, from the fleet file or live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..capacity.table import CapacityTable, capacity_table
from ..findings import SourceLocation
from ..policies import ALL_POLICIES, Policy, Reads, Scope
from ..result import RegionSummary, Result
from ..runner import Waivers, check, finish, select
from ..subjects import FleetView


def capacity_policies() -> tuple[Policy, ...]:
    """What the quota command checks: the release and fleet policies that read the capacity model."""
    return select(ALL_POLICIES, scopes=[Scope.RELEASE, Scope.FLEET], reads=Reads.CAPACITY)


def check_capacity(view: FleetView, *, quota_source: str = "fleet file",
                   quota_origins: Mapping[str, str] | None = None) -> tuple[Result, CapacityTable]:
    """The capacity policies over ``view`` (``unknown-vm-size`` per region, then ``gpu-quota-fit``
    and ``failover-headroom``) and the capacity table, as the ``quota`` command shows them.

    ``quota_origins`` (region → e.g. the usages URL the live quota came from) replaces the
    fleet-file line that the region's quota findings point to. Waivers in the fleet file apply.
    The table is also ``result.capacity`` (JSON report ``data.capacity``).
    """
    policies = capacity_policies()
    result = Result(command="quota", policies=policies)
    for name, release in view.releases.items():
        result.findings.extend(check(policies, release))
        result.regions.append(RegionSummary(name, len(release.objects)))
    fleet_findings = check(policies, view)
    if quota_origins:
        fleet_findings = [replace(f, source=SourceLocation(quota_origins[f.region]))
                          if f.policy == "gpu-quota-fit" and f.obj is None and f.region in quota_origins else f
                          for f in fleet_findings]
    result.findings.extend(fleet_findings)
    finish(result, Waivers(view.fleet, regions=list(view.releases)))
    table = capacity_table(view, quota_source=quota_source)
    result.capacity = table
    result.notes.extend(table.notes)
    result.notes.append(f"quota from the {quota_source}" if quota_source == "fleet file"
                        else f"quota: {quota_source}")
    return result, table
