"""The rollout plan: per region, its wave, its values files in Helm's order and the exact
``helm upgrade --install`` command. ``rayfleet plan`` prints it, ``validate`` names each region's
command from it, and ``rollout`` executes it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from .fleet import Fleet, Region
from .subjects import ReleaseObjects
from .wellknown import RAY_GROUP

DEFAULT_TIMEOUT = 600


def helm_command(fleet: Fleet, region: Region) -> list[str]:
    """The ``helm upgrade --install`` a person would run for a region, values in Helm's order."""
    command = ["helm", "upgrade", "--install", region.release_name, fleet.relative(fleet.chart),
               "--namespace", region.namespace, "--create-namespace"]
    if region.cluster.kube_context:
        command += ["--kube-context", region.cluster.kube_context]
    for path in fleet.values_stack_paths(region):
        command += ["-f", fleet.relative(path)]
    return command


def format_command(command: Sequence[str]) -> str:
    return shlex.join(command)


@dataclass(frozen=True)
class RegionPlan:
    """What happens in one region: one ``helm upgrade --install`` (then, in a rollout, a
    readiness gate on the RayCluster)."""

    region: Region
    chart: str
    values_files: tuple[str, ...]
    install_command: tuple[str, ...]  # what `rayfleet plan` prints (``helm_command``)
    timeout: int = DEFAULT_TIMEOUT
    atomic: bool = True
    create_namespace: bool = True
    raycluster: str | None = None  # the RayCluster the release renders (None: no readiness gate)
    kubeconfig: str | None = None

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

    @property
    def kube_context(self) -> str | None:
        return self.region.cluster.kube_context

    def helm_args(self, *, helm4: bool = False) -> list[str]:
        """``helm`` arguments of the rollout, without the binary and the kube flags (pyhelm3
        appends those)."""
        args = ["upgrade", "--install", self.release, self.chart, "--namespace", self.namespace]
        if self.create_namespace:
            args.append("--create-namespace")
        if self.atomic:
            args.append("--rollback-on-failure" if helm4 else "--atomic")
        args += ["--wait", "--timeout", f"{self.timeout}s"]
        for path in self.values_files:
            args += ["-f", path]
        return args

    def command(self, *, helm: str = "helm", helm4: bool = False) -> list[str]:
        """The command the rollout runs for this region (what ``rollout --dry-run`` prints)."""
        cmd = [helm, *self.helm_args(helm4=helm4)]
        if self.kube_context:
            cmd += ["--kube-context", self.kube_context]
        if self.kubeconfig:
            cmd += ["--kubeconfig", self.kubeconfig]
        return cmd


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
        install_command=tuple(helm_command(fleet, region)),
        timeout=timeout, atomic=atomic, create_namespace=create_namespace, raycluster=raycluster,
        kubeconfig=kubeconfig,
    )


def build_plan(fleet: Fleet, regions: Sequence[str] | None = None) -> list[RegionPlan]:
    """The plan for the selected regions, ordered by wave then fleet order."""
    return sorted((plan_region(fleet, r) for r in fleet.select(regions)), key=lambda p: p.wave)


def waves(plans: Sequence[RegionPlan]) -> list[tuple[int, list[RegionPlan]]]:
    """Plans grouped by wave, ascending; fleet order inside a wave."""
    grouped: dict[int, list[RegionPlan]] = {}
    for plan in plans:
        grouped.setdefault(plan.wave, []).append(plan)
    return sorted(grouped.items())


__all__ = ["DEFAULT_TIMEOUT", "RegionPlan", "build_plan", "format_command", "helm_command", "plan_region", "waves"]
