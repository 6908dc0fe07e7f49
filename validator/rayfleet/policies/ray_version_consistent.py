"""Every region runs the same Ray version."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ..findings import ObjectRef, Severity, Violation
from ..workloads import ray_cluster_specs
from ._helpers import ray_container, ray_version_of_image
from .base import FleetView, Policy, ReleaseObjects, Scope


def ray_version(release: ReleaseObjects) -> tuple[str, ObjectRef, str] | None:
    """(Ray version, object, JSON path) of a release's first Ray cluster: ``spec.rayVersion``, else
    the head image's tag."""
    for obj in release.objects:
        for ray in ray_cluster_specs(obj):
            declared = ray.spec.get("rayVersion")
            if declared:
                return str(declared), obj.ref, f"{ray.path}.rayVersion"
            for tpl in release.templates_of(obj):
                found = ray_container(tpl) if tpl.role == "head" else None
                image = found[0].get("image") if found else None
                version = ray_version_of_image(image) if isinstance(image, str) else None
                if found and version:
                    return version, obj.ref, f"{found[1]}.image"
    return None


def check(view: FleetView) -> Iterator[Violation]:
    versions = {name: v for name, release in view.releases.items() if (v := ray_version(release))}
    if len({v[0] for v in versions.values()}) <= 1:
        return
    common, _ = Counter(v[0] for v in versions.values()).most_common(1)[0]
    pairs: set[frozenset[str]] = set()
    for region in view.fleet.regions:
        mine = versions.get(region.name)
        for peer in region.failover_peers if mine else ():
            theirs = versions.get(peer)
            pair = frozenset((region.name, peer))
            if mine is None or theirs is None or theirs[0] == mine[0] or pair in pairs:
                continue
            pairs.add(pair)
            # Jobs re-sent to the peer would run on another Ray version.
            yield Violation(f"region {region.name!r} runs Ray {mine[0]} but its failover peer {peer!r} runs "
                            f"Ray {theirs[0]}", region=region.name, obj=mine[1], path=mine[2], value=mine[0])
    paired = {name for pair in pairs for name in pair}
    for region in view.fleet.regions:
        mine = versions.get(region.name)
        if mine is not None and mine[0] != common and region.name not in paired:
            yield Violation(f"region {region.name!r} runs Ray {mine[0]}; most regions run Ray {common}",
                            region=region.name, obj=mine[1], path=mine[2], value=mine[0],
                            severity=Severity.WARNING)


POLICY = Policy(
    id="ray-version-consistent",
    title="Every region runs the same Ray version",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "Jobs move between regions (MultiKueue, failover), and a job written for one Ray version can fail "
        "on another. Regions on different versions are a warning, usual during a staged rollout; a region "
        "and its failover peer on different versions is an error, since failover would change the Ray "
        "version under running work. The version is spec.rayVersion of the RayCluster, else the head "
        "image's tag."
    ),
    remediation="Roll the same Ray version out to every region, and upgrade failover pairs in the same wave.",
    references=(
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
    ),
    check=check,
)
