"""``rayfleet rollout``: validate (refuse on errors), then the waves of ``rayfleet.rollout`` with
the live seams: preflight and readiness against each region's kube context."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..errors import EngineError
from ..findings import Finding, Severity
from ..fleet import Fleet
from ..kube.client import KubeApi
from ..kube.readiness import Readiness, wait_for_raycluster
from ..pipeline import render_fleet, validate_fleet
from ..plan import DEFAULT_TIMEOUT, RegionPlan, format_command, plan_region
from ..result import RegionSummary, Result
from ..rollout import (
    FIELD_MANAGER,
    ClusterGate,
    HelmDeployer,
    RegionOutcome,
    RolloutObserver,
    RolloutReport,
    execute_rollout,
)
from ..subjects import ReleaseObjects
from ..wellknown import RAY_GROUP
from .preflight import chart_crds, preflight_with_waivers


class LiveClusterGate:
    """Preflight and readiness against each region's kube context (``rayfleet.kube``)."""

    def __init__(self, fleet: Fleet, releases: Mapping[str, ReleaseObjects], *, kubeconfig: str | None = None,
                 create_namespace: bool = True) -> None:
        self.fleet = fleet
        self.releases = releases
        self.kubeconfig = kubeconfig
        self.create_namespace = create_namespace
        self._crds: list[dict[str, Any]] | None = None

    def preflight(self, plan: RegionPlan) -> list[Finding]:
        return preflight_with_waivers(self.fleet, plan.region, self.releases.get(plan.name),
                                      kubeconfig=self.kubeconfig, create_namespace=plan.create_namespace,
                                      crds=self.crds())

    def crds(self) -> list[dict[str, Any]]:
        """The KubeRay CRDs of the operator the chart pins (read once per rollout)."""
        if self._crds is None:
            self._crds = [c for c in chart_crds(self.fleet) if (c.get("spec") or {}).get("group") == RAY_GROUP]
        return self._crds

    def apply_crds(self, plan: RegionPlan) -> list[str]:
        """Helm installs crds/ once and never upgrades them; the KubeRay CRDs are too big for
        client-side apply. So each is applied server-side, conflicts forced (Helm's first install
        owned the fields), before the Helm step."""
        with KubeApi.connect(plan.region, self.kubeconfig) as api:
            return [str(api.apply_crd(crd, FIELD_MANAGER).get("metadata", {}).get("name")) for crd in self.crds()]

    def wait_ready(self, plan: RegionPlan, timeout: float,
                   on_update: Callable[[Readiness], None] | None = None) -> Readiness:
        assert plan.raycluster is not None
        with KubeApi.connect(plan.region, self.kubeconfig) as api:
            return wait_for_raycluster(api, plan.namespace, plan.raycluster, timeout=timeout, on_update=on_update)


def rollout_fleet(fleet: Fleet, *, regions: Sequence[str] | None = None, dry_run: bool = False,
                  timeout: int = DEFAULT_TIMEOUT, deployer: HelmDeployer | None = None,
                  gate: ClusterGate | None = None, observer: RolloutObserver | None = None,
                  kubeconfig: str | None = None, create_namespace: bool = True,
                  releases: Mapping[str, ReleaseObjects] | None = None,
                  validate: Callable[..., Result] | None = None, preflight: bool = True) -> Result:
    """``rayfleet rollout``: validate (refuse on errors), then the waves.

    A dry run with ``preflight=False`` reads no cluster: it validates and lists the waves and
    commands only. A live rollout always runs the preflight.

    Returns a ``Result`` whose findings are the validation's and every preflight's;
    ``result.rollout`` is the ``RolloutReport`` (the JSON reporter writes it as ``data.rollout``).
    A live rollout needs a ``deployer``.
    """
    selected = fleet.select(list(regions) if regions else None)
    names = [r.name for r in selected]
    validation = (validate or validate_fleet)(fleet, regions=names)
    result = Result(command="rollout", findings=list(validation.findings), policies=validation.policies,
                    notes=list(validation.notes))
    # What validate counted (objects per region), so the two commands show the same numbers.
    counted = {r.name: r for r in validation.regions}
    result.regions = [replace(counted[r.name]) if r.name in counted else RegionSummary(r.name) for r in selected]
    helm = getattr(deployer, "executable", "helm")
    helm4 = bool(getattr(deployer, "helm4", False))
    if releases is None:
        releases = validation.releases or {name: render.release for name, render in render_fleet(fleet, names).items()}
    plans = [plan_region(fleet, r, releases.get(r.name), timeout=timeout, create_namespace=create_namespace,
                         kubeconfig=kubeconfig) for r in selected]
    for summary, plan in zip(result.regions, plans, strict=True):
        summary.helm_command = format_command(plan.command(helm=helm, helm4=helm4))
    if validation.failed(Severity.ERROR):
        report = RolloutReport(str(fleet.path), dry_run, [RegionOutcome(p) for p in plans], status="refused",
                               helm=helm, helm4=helm4)
        report.finished = report.started
    else:
        if not dry_run and deployer is None:
            raise EngineError("a rollout needs a Helm deployer (a helm binary)")
        offline = dry_run and not preflight
        if gate is None and not offline:
            gate = LiveClusterGate(fleet, releases, kubeconfig=kubeconfig, create_namespace=create_namespace)
        report = execute_rollout(plans, gate=gate, deployer=deployer, dry_run=dry_run, observer=observer,
                                 fleet_path=str(fleet.path), helm=helm, helm4=helm4, preflight=not offline)
        for outcome in report.regions:
            result.findings.extend(outcome.findings)
    report.validation = {s.value: validation.count(s) for s in Severity}
    result.rollout = report
    return result
