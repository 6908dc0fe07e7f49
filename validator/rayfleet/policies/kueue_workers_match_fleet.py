"""The MultiKueueConfig dispatches to exactly the fleet's worker regions, each wired to its ClusterProfile."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..kueue import (
    cluster_profiles,
    config_of_check,
    kueue_namespaces,
    multikueue_checks,
    multikueue_clusters,
    multikueue_configs,
    region_label,
    scheduling_view,
)
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    sv = scheduling_view(view)
    if sv is None:
        return
    fleet = view.fleet
    assert fleet.scheduling is not None
    release, region = sv.manager_release, sv.manager.name
    configs = multikueue_configs(release)
    clusters = multikueue_clusters(release)
    profiles = cluster_profiles(release)
    namespaces = kueue_namespaces(release)
    shown = " or ".join(sorted(namespaces))
    workers = [r.name for r in fleet.workers]
    checks = multikueue_checks(release)
    if not checks:
        yield Violation("the manager renders no AdmissionCheck with controllerName kueue.x-k8s.io/multikueue, "
                        "so nothing is dispatched to the workers", region=region)
        return
    for check_obj in checks.values():
        name = config_of_check(check_obj)
        config = configs.get(name or "")
        if config is None:
            yield Violation(f"AdmissionCheck {check_obj.name} names MultiKueueConfig {name!r} in its parameters, "
                            "which the manager does not render", obj=check_obj.ref, path="spec.parameters",
                            value=name, region=region)
            continue
        listed = [c for c in config.clusters if c != sv.manager.name]  # the manager: kueue-manager-not-worker
        for index, cluster in enumerate(config.clusters):
            if cluster == sv.manager.name:
                continue
            path = f"spec.clusters[{index}]"
            if cluster not in workers:
                yield Violation(f"MultiKueueConfig {config.obj.name} dispatches to {cluster!r}, which is not a "
                                f"worker region of the fleet ({', '.join(workers)})", obj=config.obj.ref,
                                path=path, value=cluster, region=region)
        for worker in workers:
            if worker not in listed:
                yield Violation(f"MultiKueueConfig {config.obj.name} does not dispatch to worker region "
                                f"{worker!r}: its GPUs are never used by the shared queues", obj=config.obj.ref,
                                path="spec.clusters", region=region)
        order = [c for c in listed if c in workers]
        wanted = [w for w in fleet.scheduling.order if w in order]
        if fleet.scheduling.dispatch_mode == "Incremental" and order != wanted:
            yield Violation(f"MultiKueueConfig {config.obj.name} lists the workers as {', '.join(order)} but "
                            f"scheduling.dispatch.order is {', '.join(wanted)}; the Incremental dispatcher "
                            "tries them in the listed order", obj=config.obj.ref, path="spec.clusters",
                            region=region)
        for cluster in listed:
            if cluster not in workers:
                continue
            mkc = clusters.get(cluster)
            if mkc is None:
                yield Violation(f"MultiKueueConfig {config.obj.name} names MultiKueueCluster {cluster!r}, which "
                                "the manager does not render", obj=config.obj.ref, path="spec.clusters",
                                value=cluster, region=region)
                continue
            if mkc.profile is None:
                continue  # a kubeConfig source: kueue-no-kubeconfig-secret reports it
            profile = next((profiles[(ns, mkc.profile)] for ns in sorted(namespaces)
                            if (ns, mkc.profile) in profiles), None)
            if profile is None:
                yield Violation(f"MultiKueueCluster {cluster} refers to ClusterProfile {mkc.profile!r}, which the "
                                f"manager does not render in {shown} (Kueue reads ClusterProfiles only in its "
                                "own namespace)", obj=mkc.obj.ref,
                                path=f"{mkc.source_path}.clusterProfileRef.name", value=mkc.profile, region=region)
            elif region_label(profile) != cluster:
                yield Violation(f"ClusterProfile {profile.namespace}/{mkc.profile} (for MultiKueueCluster {cluster}) "
                                f"is labelled rayfleet.io/region={region_label(profile)!r}; `rayfleet scheduling "
                                f"sync` fills its server and CA from the region the label names", obj=profile.ref,
                                path='metadata.labels["rayfleet.io/region"]', region=region)


POLICY = Policy(
    id="kueue-workers-match-fleet",
    title="MultiKueue dispatches to exactly the fleet's worker regions",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "The manager reaches workers through a chain of objects: the MultiKueue AdmissionCheck names a "
        "MultiKueueConfig, whose clusters name MultiKueueClusters, each pointing at a ClusterProfile in "
        "kueue-system that holds the worker's address. A worker missing from the MultiKueueConfig never gets "
        "jobs; a name that is not a fleet region is a cluster nobody validated or rolls out to; a broken link "
        "leaves the MultiKueueCluster inactive. With the Incremental dispatcher the list order is the "
        "preference, so it must be the fleet's scheduling.dispatch.order."
    ),
    remediation=(
        "List every worker region once (and nothing else) in the MultiKueueConfig, in scheduling.dispatch.order; "
        "render one MultiKueueCluster per worker named after the region, with a clusterProfileRef to a "
        "ClusterProfile in Kueue's namespace labelled rayfleet.io/region with that region."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
        "https://github.com/kubernetes-sigs/cluster-inventory-api",
    ),
    check=check,
)
