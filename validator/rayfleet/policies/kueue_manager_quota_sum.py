"""The manager's ClusterQueue quota equals the sum of the workers' quotas, per flavor and resource."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..kueue import Quota, dispatching_queues, format_quantity, scheduling_view, worker_quotas
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    sv = scheduling_view(view)
    if sv is None:
        return
    fleet = view.fleet
    manager_queues = dispatching_queues(sv.manager_release)
    if not manager_queues:
        return  # kueue-local-queues-match reports a manager without a dispatching ClusterQueue
    manager: dict[tuple[str, str], list[Quota]] = {}
    for cq in manager_queues:
        for q in cq.quotas:
            manager.setdefault((q.flavor, q.resource), []).append(q)
    per_worker = {name: worker_quotas(release, fleet) for name, release in sv.workers.items()}
    keys = list(manager) + [k for quotas in per_worker.values() for k in quotas if k not in manager]
    first = manager_queues[0]
    for key in dict.fromkeys(keys):
        flavor, resource = key
        shares = {name: quotas[key][0] for name, quotas in per_worker.items() if key in quotas}
        expected = sum(shares.values())
        entries = manager.get(key, [])
        got = sum(q.value or 0.0 for q in entries)
        if entries and all(q.value is None for q in entries):
            continue  # not a quantity: the CRD schema check reports it
        if abs(got - expected) <= 1e-9 * max(1.0, abs(expected)):
            continue
        where = entries[0] if entries else None
        like = where.raw if where else next((q.raw for quotas in per_worker.values() if key in quotas
                                              for q in quotas[key][1]), None)

        def _fmt(number: float, like: object = like) -> str:
            return format_quantity(number, like)

        split = ", ".join(f"{name} {_fmt(v)}" for name, v in shares.items()) or "no worker has it"
        owner = next(cq for cq in manager_queues if where in cq.quotas) if where else first
        what = "dispatches more than the workers can admit" if got > expected else "leaves worker quota idle"
        yield Violation(
            f"ClusterQueue {owner.name}: flavor {flavor!r} {resource} nominalQuota {_fmt(got)} but the "
            f"workers' sum is {_fmt(expected)} ({split}); the manager {what}",
            obj=owner.obj.ref, path=where.path if where else "spec.resourceGroups",
            value=where.raw if where else None, region=sv.manager.name)



POLICY = Policy(
    id="kueue-manager-quota-sum",
    title="The MultiKueue manager's quota is the sum of the workers' quotas",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "MultiKueue admits a job on the manager against the manager's ClusterQueue, then dispatches it to a "
        "worker that admits it against its own. Kueue does not keep the two in step (automatic sync is an "
        "alpha feature that is off), and its docs ask for the manager's nominal quota to equal the sum of the "
        "workers': lower and GPU regions sit idle while jobs queue; higher and the manager dispatches jobs no "
        "worker can admit, which then hold manager quota while they wait. Quotas are compared per flavor and "
        "resource as Kubernetes quantities."
    ),
    remediation=(
        "Set the manager ClusterQueue's nominalQuota for each flavor and resource to the sum over the worker "
        "regions (the message lists each worker's share), or change the workers' quotas."
    ),
    references=(
        "https://kueue.sigs.k8s.io/docs/concepts/multikueue/",
        "https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/",
    ),
    check=check,
)
