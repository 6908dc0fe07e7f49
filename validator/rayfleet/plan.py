"""The rollout plan: per region, its wave, its values files in Helm's order and the exact
``helm upgrade --install`` command. ``rayfleet plan`` prints it, ``validate`` names each region's
command from it, and ``rollout`` executes it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .fleet import Fleet, Region
from .helm_args import DEFAULT_TIMEOUT, kube_flags, upgrade_args
from .subjects import ReleaseObjects
from .wellknown import KUBERAY_OPERATOR, RAY_GROUP
from .yamlio import safe_load_trusted


def format_command(command: Sequence[str]) -> str:
    return shlex.join(command)


class HelmInstall:
    """One ``helm upgrade --install`` in a region's cluster; the plans below give its fields."""

    release: str
    chart: str
    namespace: str
    values_files: tuple[str, ...]
    timeout: int
    atomic: bool
    create_namespace: bool
    kubeconfig: str | None
    region: Region

    @property
    def kube_context(self) -> str | None:
        return self.region.cluster.kube_context

    def helm_args(self, *, helm4: bool = False) -> list[str]:
        """``helm`` arguments without the binary and the kube flags (pyhelm3 appends those)."""
        return upgrade_args(self.release, self.chart, self.namespace, self.values_files,
                            create_namespace=self.create_namespace, atomic=self.atomic, timeout=self.timeout,
                            helm4=helm4)

    def command(self, *, helm: str = "helm", helm4: bool = False) -> list[str]:
        """The command a person would run (what ``plan`` and ``rollout --dry-run`` print, and what
        ``rollout`` runs)."""
        return [helm, *self.helm_args(helm4=helm4), *kube_flags(self.kube_context, self.kubeconfig)]


@dataclass(frozen=True)
class OperatorPlan(HelmInstall):
    """The Anyscale operator's own ``helm upgrade --install`` in a region (docs/anyscale.md): the
    user's chart copy, the operator's values files only, its release and namespace. A rollout runs
    it right after the region's release (before the readiness wait), as Flux does with ``dependsOn``."""

    region: Region
    release: str
    chart: str
    version: str
    namespace: str
    values_files: tuple[str, ...]
    timeout: int = DEFAULT_TIMEOUT
    atomic: bool = True
    create_namespace: bool = True
    kubeconfig: str | None = None

    @property
    def name(self) -> str:
        return self.region.name


@dataclass(frozen=True)
class RegionPlan(HelmInstall):
    """What happens in one region: one ``helm upgrade --install`` (then, in a rollout, a
    readiness gate on the RayCluster)."""

    region: Region
    chart: str
    values_files: tuple[str, ...]
    timeout: int = DEFAULT_TIMEOUT
    atomic: bool = True
    create_namespace: bool = True
    raycluster: str | None = None  # the RayCluster the release renders (None: no readiness gate)
    kubeconfig: str | None = None
    apply_crds: bool = False  # the release installs the operator: its CRDs go in server-side first
    anyscale: OperatorPlan | None = None  # the region also runs the Anyscale operator (after the release)

    @property
    def name(self) -> str:
        return self.region.name

    @property
    def wave(self) -> int:
        return self.region.wave

    @property
    def release(self) -> str:
        return self.region.release_name

    @property
    def namespace(self) -> str:
        return self.region.namespace



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
        text = (chart / "values.yaml").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False  # a chart Helm cannot read either: the render reports it
    return _default_enabled_in(text)


@lru_cache(maxsize=8)
def _default_enabled_in(text: str) -> bool:
    # every region asks (its helm command): the chart's defaults are parsed once per process
    try:
        data = safe_load_trusted(text)
    except (yaml.YAMLError, ValueError, KeyError, IndexError, TypeError, RecursionError):
        return False
    block = data.get(KUBERAY_OPERATOR) if isinstance(data, dict) else None
    return isinstance(block, dict) and block.get("enabled") is True


def plan_region(fleet: Fleet, region: Region, release: ReleaseObjects | None = None, *,
                timeout: int = DEFAULT_TIMEOUT, atomic: bool = True, create_namespace: bool = True,
                kubeconfig: str | None = None) -> RegionPlan:
    """A region's plan: the chart and ``-f`` files in Helm's order (shared, region, overrides)."""
    raycluster = None
    if release is not None:
        raycluster = next((o.name for o in release.objects if o.kind == "RayCluster" and o.group == RAY_GROUP), None)
    return RegionPlan(
        region=region,
        chart=fleet.relative(fleet.chart),
        values_files=tuple(fleet.relative(p) for p in fleet.values_stack_paths(region)),
        timeout=timeout, atomic=atomic, create_namespace=create_namespace, raycluster=raycluster,
        kubeconfig=kubeconfig, apply_crds=operator_enabled(release, fleet),
        anyscale=plan_operator(fleet, region, timeout=timeout, atomic=atomic, create_namespace=create_namespace,
                               kubeconfig=kubeconfig),
    )


def plan_operator(fleet: Fleet, region: Region, *, timeout: int = DEFAULT_TIMEOUT, atomic: bool = True,
                  create_namespace: bool = True, kubeconfig: str | None = None) -> OperatorPlan | None:
    """The region's Anyscale operator release (None when the region declares none)."""
    operator = region.anyscale
    if operator is None:
        return None
    return OperatorPlan(region=region, release=operator.release_name, chart=fleet.relative(operator.chart),
                        version=operator.version, namespace=operator.namespace,
                        values_files=tuple(fleet.relative(p) for p in operator.values_files), timeout=timeout,
                        atomic=atomic, create_namespace=create_namespace, kubeconfig=kubeconfig)


def helm_command(fleet: Fleet, region: Region, *, timeout: int = DEFAULT_TIMEOUT) -> list[str]:
    """The ``helm upgrade --install`` a person would run for a region, values in Helm's order:
    the command ``rayfleet rollout`` runs."""
    return plan_region(fleet, region, timeout=timeout).command()


def build_plan(fleet: Fleet, regions: Sequence[str] | None = None) -> list[RegionPlan]:
    """The plan for the selected regions, ordered by wave then fleet order."""
    return sorted((plan_region(fleet, r) for r in fleet.select(regions)), key=lambda p: p.wave)


def waves(plans: Sequence[RegionPlan]) -> list[tuple[int, list[RegionPlan]]]:
    """Plans grouped by wave, ascending; fleet order inside a wave."""
    grouped: dict[int, list[RegionPlan]] = {}
    for plan in plans:
        grouped.setdefault(plan.wave, []).append(plan)
    return sorted(grouped.items())


__all__ = ["DEFAULT_TIMEOUT", "OperatorPlan", "RegionPlan", "build_plan", "format_command", "helm_command",
           "operator_enabled", "plan_operator", "plan_region", "waves"]
