"""``rayfleet plan --lose REGION`` (``rayfleet.region_loss``) as JSON and as text."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from ..kueue import format_quantity
from ..region_loss import FlavorLoss, JobFit, RegionLoss


def flavor_loss_to_dict(flavor: FlavorLoss) -> dict[str, Any]:
    placed, short = flavor.placement()
    return {"flavor": flavor.flavor, "vmSize": flavor.vm_size, "lostGpus": flavor.lost, "managerGpus": flavor.manager,
            "remaining": [{"worker": s.worker, "gpus": s.quota, "roomGpus": s.room, "vmSize": s.vm_size}
                          for s in flavor.remaining],
            "remainingGpus": flavor.remaining_quota, "strandedGpus": flavor.stranded,
            "raiseQuota": [{"worker": w, "gpus": g} for w, g in placed], "shortGpus": short}


def job_fit_to_dict(job: JobFit) -> dict[str, Any]:
    return {"job": f"{job.namespace}/{job.name}", "queue": job.queue, "gpus": job.gpus,
            "fitsOn": list(job.fits)}


def region_loss_to_dict(loss: RegionLoss) -> dict[str, Any]:
    failover = None
    if loss.failover is not None:
        failover = {"gpusNeeded": loss.failover.gpus_needed, "gpusPlaced": loss.failover.gpus_placed,
                    "absorbed": loss.failover.absorbed,
                    "groups": [{"group": a.group.label, "vmSize": a.group.vm.name if a.group.vm else None,
                                "nodes": a.group.nodes, "placed": a.placed} for a in loss.failover.groups]}
    return {"lost": loss.lost, "manager": loss.manager, "dispatch": {"mode": loss.mode, "order": list(loss.order)},
            "workerLostTimeout": loss.timeout, "flavors": [flavor_loss_to_dict(f) for f in loss.flavors],
            "lostRayCluster": failover, "jobs": [job_fit_to_dict(j) for j in loss.jobs], "notes": list(loss.notes)}


def format_loss_json(loss: RegionLoss) -> str:
    return json.dumps(region_loss_to_dict(loss), indent=2) + "\n"


def _gpus(value: float | None) -> str:
    return "-" if value is None else format_quantity(value)


def format_loss_text(loss: RegionLoss, *, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=160, soft_wrap=True)
    console.print(f"If {loss.lost} is lost: after workerLostTimeout ({loss.timeout}) MultiKueue evicts its jobs on "
                  f"the manager ({loss.manager}) and dispatches them again "
                  f"({loss.mode}: {', '.join(loss.order) or 'no worker left'}).", markup=False)
    table = Table(title="GPU queue quota per flavor", title_justify="left")
    for header in ("flavor", f"VM size ({loss.lost})", f"lost ({loss.lost})",
                   "remaining workers (quota / Azure room, other VM size)",
                   "remaining", "manager admits", "stranded"):
        table.add_column(header)
    for f in loss.flavors:
        shares = ", ".join(f"{s.worker} {_gpus(s.quota)} / {'-' if s.room is None else s.room}"
                           + (f" ({s.vm_size})" if s.vm_size and s.vm_size != f.vm_size else "") for s in f.remaining)
        table.add_row(f.flavor, f.vm_size or "-", _gpus(f.lost), shares or "-", _gpus(f.remaining_quota),
                      _gpus(f.manager), _gpus(f.stranded))
    console.print(table)
    for f in loss.flavors:
        if not f.lost:
            continue
        placed, short = f.placement()
        vm_of = {s.worker: s.vm_size for s in f.remaining}
        where = ", ".join(f"{w} +{g}" + (f" ({vm_of[w]})" if vm_of.get(w) and vm_of[w] != f.vm_size else "")
                          for w, g in placed) or "nowhere"
        console.print(f"{f.flavor}: {_gpus(f.lost)} GPUs of queue capacity go with {loss.lost}; Azure quota lets "
                      f"the remaining workers take them by raising their queue quota: {where}"
                      + (f" ({short} short)" if short else "") + ".", markup=False)
        if f.stranded:
            console.print(f"{f.flavor}: the manager still admits {_gpus(f.stranded)} GPUs more than the remaining "
                          "workers' queues hold; those jobs wait on a worker until the region is back or dropped "
                          "from dispatch (docs/scheduling.md).", markup=False)
    if loss.failover is not None:
        outcome = loss.failover
        verdict = "fits" if outcome.absorbed else "does not fit"
        console.print(f"{loss.lost}'s own RayCluster ({outcome.gpus_needed} GPUs at its max) {verdict} in the "
                      f"remaining workers' spare quota: {outcome.gpus_placed} of {outcome.gpus_needed} GPUs placed "
                      "(failover model).", markup=False)
    if loss.jobs:
        jobs = Table(title="queued RayJobs", title_justify="left")
        for header in ("job", "queue", "GPUs", "can run on"):
            jobs.add_column(header)
        for j in loss.jobs:
            jobs.add_row(f"{j.namespace}/{j.name}", j.queue or "-", str(j.gpus),
                         ", ".join(j.fits) or "nowhere: no remaining worker's queue is that large")
        console.print(jobs)
    for note in loss.notes:
        console.print(f"note: {note}", markup=False)
    return buffer.getvalue()
