"""The queues users submit to exist, with the same names and namespaces, on the manager and every worker."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..kueue import cluster_queues, dispatching_queues, local_queues, multikueue_checks, scheduling_view
from .base import FleetView, Policy, ReleaseObjects, Scope


def _queues(release: ReleaseObjects, region: str, wanted: list[tuple[str, str]], manager: bool) -> Iterator[Violation]:
    lqs = local_queues(release)
    cqs = cluster_queues(release)
    checks = multikueue_checks(release) if manager else {}
    role = "manager" if manager else "worker"
    for namespace, name in wanted:
        lq = lqs.get((namespace, name))
        if lq is None:
            yield Violation(f"no LocalQueue {namespace}/{name} on this {role}: MultiKueue creates a dispatched "
                            "job's Workload in a LocalQueue of the same namespace and name on the worker, so "
                            "every queue must exist on the manager and on every worker", region=region)
            continue
        cq = cqs.get(lq.cluster_queue or "")
        if cq is None:
            yield Violation(f"LocalQueue {namespace}/{name} points at ClusterQueue {lq.cluster_queue!r}, which "
                            "the release does not render: jobs in it are never admitted", obj=lq.obj.ref,
                            path="spec.clusterQueue", value=lq.cluster_queue, region=region)
            continue
        if manager and not any(c in checks for c in cq.admission_checks):
            yield Violation(f"LocalQueue {namespace}/{name} on the manager points at ClusterQueue {cq.name}, "
                            "which has no MultiKueue AdmissionCheck: its jobs would run on the CPU-only "
                            "manager instead of being dispatched to a worker", obj=cq.obj.ref,
                            path="spec.admissionChecksStrategy", region=region)


def check(view: FleetView) -> Iterator[Violation]:
    sv = scheduling_view(view)
    if sv is None:
        return
    fleet = view.fleet
    assert fleet.scheduling is not None
    wanted = [(q.namespace, q.name) for q in fleet.scheduling.queues]
    yield from _queues(sv.manager_release, sv.manager.name, wanted, manager=True)
    # queues the manager dispatches from but the fleet file does not list must exist on workers too
    dispatching = {cq.name for cq in dispatching_queues(sv.manager_release)}
    extra = [key for key, lq in local_queues(sv.manager_release).items()
             if lq.cluster_queue in dispatching and key not in wanted]
    for name, release in sv.workers.items():
        yield from _queues(release, name, wanted + extra, manager=False)


POLICY = Policy(
    id="kueue-local-queues-match",
    title="Shared LocalQueues exist on the manager and every worker",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "A job is submitted to a LocalQueue on the MultiKueue manager; when the manager dispatches it, it "
        "creates the job and its Workload on the worker in a LocalQueue with the same namespace and name. A "
        "worker without that LocalQueue never admits the job, and the manager keeps it pending there until "
        "another worker takes it. On the manager, a queue whose ClusterQueue lacks the MultiKueue "
        "AdmissionCheck runs jobs locally, on a cluster without GPUs. The check follows the rendered "
        "objects: scheduling.queues in the fleet file, and every LocalQueue that feeds a dispatching "
        "ClusterQueue on the manager."
    ),
    remediation=(
        "Render the same LocalQueues (namespace and name) in every region, each pointing at a ClusterQueue "
        "the release renders; on the manager that ClusterQueue must list the MultiKueue AdmissionCheck."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
        "https://kueue.sigs.k8s.io/docs/tasks/run/multikueue/kuberay/",
    ),
    check=check,
)
