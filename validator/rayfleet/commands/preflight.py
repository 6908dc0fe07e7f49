"""``rayfleet preflight``: is each region's cluster ready for its release?

Per region: read the cluster (``rayfleet.kube.cluster``), then run the ``preflight-*`` policies
(the live policies that take a ``LiveCluster``) through the runner, waivers applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from ..findings import Finding
from ..fleet import Fleet, Region
from ..kube.client import KubeApi
from ..kube.cluster import read_cluster
from ..pipeline import render_fleet
from ..policies import ALL_POLICIES, Policy, Scope
from ..result import RegionSummary, Result
from ..runner import Waivers, check, finish, run, select
from ..subjects import LiveCluster, ReleaseObjects, required_crds
from ..wellknown import KUBERAY_OPERATOR


def preflight_policies() -> tuple[Policy, ...]:
    """The live policies that judge a ``LiveCluster``, in catalogue order."""
    return select(ALL_POLICIES, scopes=[Scope.LIVE], subject=LiveCluster)


def operator_enabled(release: ReleaseObjects | None, fleet: Fleet | None) -> bool:
    """The release renders the operator Deployment, or its values (or the chart's defaults)
    set ``kuberay-operator.enabled``."""
    if release is not None:
        for obj in release.of_kind("Deployment"):
            labels = obj.metadata.get("labels") if isinstance(obj.metadata.get("labels"), dict) else {}
            if labels.get("app.kubernetes.io/name") == KUBERAY_OPERATOR or KUBERAY_OPERATOR in obj.name:
                return True
        if release.values is not None:
            block = release.values.merged.get(KUBERAY_OPERATOR)
            if isinstance(block, dict) and "enabled" in block:
                return block["enabled"] is True
    if fleet is not None:
        return _chart_default_enabled(fleet.chart)
    return False


def _chart_default_enabled(chart: Path) -> bool:
    try:
        data = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    block = data.get(KUBERAY_OPERATOR) if isinstance(data, dict) else None
    return isinstance(block, dict) and block.get("enabled") is True


def preflight_region(region: Region, *, fleet: Fleet | None = None, release: ReleaseObjects | None = None,
                     kubeconfig: str | Path | None = None, create_namespace: bool = True,
                     api: KubeApi | None = None) -> list[Finding]:
    """Connect to the region's kube context, read the cluster, run the preflight policies.

    Raises ``LiveCheckError`` (one line, naming the region) when the cluster cannot be read.
    """
    owned = api is None
    api = api or KubeApi.connect(region, kubeconfig)
    try:
        facts = read_cluster(api, required_crds(release), region.namespace)
    finally:
        if owned:
            api.close()
    subject = LiveCluster(region, facts, release, fleet, create_namespace, operator_enabled(release, fleet))
    return check(preflight_policies(), subject)


def preflight_with_waivers(fleet: Fleet, region: Region, release: ReleaseObjects | None, *,
                           kubeconfig: str | Path | None = None, create_namespace: bool = True) -> list[Finding]:
    """One region's preflight with the fleet file's waivers applied (what a rollout gates on)."""
    findings = preflight_region(region, fleet=fleet, release=release, kubeconfig=kubeconfig,
                                create_namespace=create_namespace)
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
    for region in selected:
        findings.extend(preflight_region(region, fleet=fleet, release=releases.get(region.name),
                                         kubeconfig=kubeconfig, create_namespace=create_namespace))
        summaries.append(RegionSummary(region.name, objects=len(releases[region.name].objects)
                                       if region.name in releases else 0))
    return run("preflight", preflight_policies(), (), findings=findings, regions=summaries,
               waivers=Waivers(fleet, regions=[r.name for r in selected], report=False))
