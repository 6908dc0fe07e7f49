"""``rayfleet preflight``: is each region's cluster ready for its release?

Per region: read the cluster (``rayfleet.kube.cluster``), then run the ``preflight-*`` policies
(the live policies that take a ``LiveCluster``) through the runner, waivers applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..findings import Finding
from ..fleet import Fleet, Region
from ..kube.client import KubeApi
from ..kube.cluster import read_cluster
from ..pipeline import render_fleet
from ..plan import operator_enabled
from ..policies import ALL_POLICIES, Policy, Scope
from ..render import EmbeddedHelm
from ..result import RegionSummary, Result
from ..runner import Waivers, check, finish, run, select
from ..schemas_check import crds_from_chart_files
from ..subjects import LiveCluster, ReleaseObjects, required_crds


def preflight_policies() -> tuple[Policy, ...]:
    """The live policies that judge a ``LiveCluster``, in catalogue order."""
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=LiveCluster)


def chart_crds(fleet: Fleet | None) -> list[dict[str, Any]]:
    """The CRDs the fleet's chart ships: the pinned kuberay-operator's ``crds/`` once
    ``helm dependency build`` has fetched it (empty before)."""
    if fleet is None:
        return []
    return crds_from_chart_files(EmbeddedHelm().chart_crds(fleet.chart))


def preflight_region(region: Region, *, fleet: Fleet | None = None, release: ReleaseObjects | None = None,
                     kubeconfig: str | Path | None = None, create_namespace: bool = True,
                     api: KubeApi | None = None, crds: list[dict[str, Any]] | None = None) -> list[Finding]:
    """Connect to the region's kube context, read the cluster, run the preflight policies.

    ``crds`` are the CRDs the served ones are compared with (default: the chart's). Raises
    ``LiveCheckError`` (one line, naming the region) when the cluster cannot be read.
    """
    owned = api is None
    api = api or KubeApi.connect(region, kubeconfig)
    try:
        facts = read_cluster(api, required_crds(release), region.namespace)
    finally:
        if owned:
            api.close()
    subject = LiveCluster(region, facts, release, fleet, create_namespace, operator_enabled(release, fleet),
                          tuple(chart_crds(fleet) if crds is None else crds))
    return check(preflight_policies(), subject)


def preflight_with_waivers(fleet: Fleet, region: Region, release: ReleaseObjects | None, *,
                           kubeconfig: str | Path | None = None, create_namespace: bool = True,
                           crds: list[dict[str, Any]] | None = None) -> list[Finding]:
    """One region's preflight with the fleet file's waivers applied (what a rollout gates on)."""
    findings = preflight_region(region, fleet=fleet, release=release, kubeconfig=kubeconfig,
                                create_namespace=create_namespace, crds=crds)
    return finish(Result("preflight", findings, policies=preflight_policies()),
                  Waivers(fleet, regions=[region.name], report=False)).findings


def run_preflight(fleet: Fleet, *, regions: Sequence[str] | None = None, kubeconfig: str | Path | None = None,
                  create_namespace: bool = True, releases: dict[str, ReleaseObjects] | None = None) -> Result:
    """``rayfleet preflight``: every selected region's cluster, with waivers applied."""
    selected = fleet.select(list(regions) if regions else None)
    if releases is None:
        releases = {name: render.release for name, render in render_fleet(fleet, [r.name for r in selected]).items()}
    findings: list[Finding] = []
    summaries = []
    crds = chart_crds(fleet)  # read from the chart once, compared with every region's
    for region in selected:
        findings.extend(preflight_region(region, fleet=fleet, release=releases.get(region.name),
                                         kubeconfig=kubeconfig, create_namespace=create_namespace, crds=crds))
        summaries.append(RegionSummary(region.name, objects=len(releases[region.name].objects)
                                       if region.name in releases else 0))
    return run("preflight", preflight_policies(), (), findings=findings, regions=summaries,
               waivers=Waivers(fleet, regions=[r.name for r in selected], report=False))
