"""GPU capacity: what each region's release may ask of Azure at most, against its vCPU quota.

The model (also in ``docs/capacity.md``):

* **Pods.** Every RayCluster spec (RayCluster, RayJob ``rayClusterSpec``, RayService
  ``rayClusterConfig``) has one head pod and, per worker group, ``maxReplicas x numOfHosts`` pods
  at most. A group without ``maxReplicas`` (or with KubeRay's default 2147483647) while the
  autoscaler is on is *unbounded*; with the autoscaler off it counts ``replicas``.
* **VM size.** A pod's node size is its ``node.kubernetes.io/instance-type`` nodeSelector (or a
  required node affinity ``In`` on that label; with several sizes the one that costs the most
  vCPUs is counted). Sizes come from ``data/vm_sizes.yaml`` and the fleet file's ``vmSizes``
  (which wins). A pod is *spot* when it selects ``kubernetes.azure.com/scalesetpriority: spot``.
* **Pods per node.** GPU pods: ``node GPUs // pod GPUs``. All pods: also at most
  ``node vCPUs // pod CPU request`` and ``node memory // pod memory request`` when requests are
  set (requests default to limits, as Kubernetes does). A CPU pod without requests takes a whole
  node. A pod larger than its node is a problem (it can never be scheduled) and counts one node.
  Nominal VM figures are used, not the node's allocatable resources, so node counts are a lower
  bound; each group is assumed to have its own node pool (no packing across groups), an upper
  bound.
* **vCPUs.** ``ceil(pods / pods per node) x VM vCPUs``, counted against the VM's quota family and
  the total regional vCPUs; spot groups count against the regional spot vCPUs instead. A pod with
  no (known) VM size counts its CPU request (rounded up) against the regional total only.
* **Failover.** When a region is lost, its peers must host its GPU nodes, node for node and of
  the same VM size (so the same GPU model and quota family), within each peer's spare quota:
  family quota - own max demand, and regional (or spot) quota - own max demand. Peers are filled
  in the order the fleet file lists them, largest nodes first.

One module per step: ``catalogue`` (VM sizes), ``demand`` (pods → nodes → vCPUs), ``quota``
(quota fit), ``failover`` (the failover simulation), ``table`` (the capacity table). Pod facts
(GPUs, CPU, memory, replica bounds) come from ``rayfleet.workloads.PodTemplate``, quantities from
``rayfleet.quantities``. Everything here is a pure function of ``ReleaseObjects``/``FleetView``.
"""

from __future__ import annotations

from ..quantities import parse_quantity
from .catalogue import VmSize, lookup_vm_size, normalise_family, vm_catalogue
from .demand import GroupDemand, RegionDemand, group_demand, is_spot, region_demand, release_demand, selected_vm_sizes
from .failover import Absorbed, FailoverOutcome, Spare, failover_outcome, failover_outcomes, spare_quota
from .quota import REGIONAL, SPOT, QuotaBreach, quota_breaches, quota_families, with_quotas
from .table import CapacityRow, CapacityTable, capacity_table

__all__ = [
    "REGIONAL", "SPOT", "Absorbed", "CapacityRow", "CapacityTable", "FailoverOutcome", "GroupDemand", "QuotaBreach",
    "RegionDemand", "Spare", "VmSize", "capacity_table", "failover_outcome", "failover_outcomes", "group_demand",
    "is_spot", "lookup_vm_size", "normalise_family", "parse_quantity", "quota_breaches", "quota_families",
    "region_demand", "release_demand", "selected_vm_sizes", "spare_quota", "vm_catalogue", "with_quotas",
]
