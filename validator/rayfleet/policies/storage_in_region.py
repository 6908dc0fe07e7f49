"""A region's storage account lives in that region."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    if view.fleet.settings.allow_cross_region_storage:
        return
    for index, region in enumerate(view.fleet.regions):
        if region.storage_cross_region:
            continue
        if region.storage_location and region.storage_location != region.location:
            yield Violation(f"region {region.name!r} ({region.location}) uses storage account "
                            f"{region.storage_account!r} in {region.storage_location}, and "
                            f"{region_path(index, 'storage', 'allowCrossRegion')} is not set", region=region.name,
                            path=region_path(index, "storage", "location"),
                            source=region_source(view.fleet, index, "storage", "location"))


POLICY = Policy(
    id="storage-in-region",
    title="A region's storage account is in that region",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "BlobFuse2 streams training data and checkpoints over the network: an account in another region "
        "adds latency and egress cost to every read, and ties the region to a second region's outage. Data "
        "gravity is an error by default; a region that reads another region's data on purpose says so with "
        "storage.allowCrossRegion: true on that region (policy.allowCrossRegionStorage allows it for every "
        "region)."
    ),
    remediation=("Use a storage account in the region's own location, or set storage.allowCrossRegion: true on "
                 "the region when reading data across regions is intended."),
    references=(
        "https://learn.microsoft.com/azure/storage/common/storage-redundancy",
        "https://learn.microsoft.com/azure/aks/azure-csi-blob-storage-provision",
    ),
    check=check,
)
