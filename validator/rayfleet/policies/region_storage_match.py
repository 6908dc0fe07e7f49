"""Every blob volume of a region's release mounts the storage account the fleet file declares for it."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from ._helpers import blob_configs
from ._region_facts import fleet_place, owner_of_storage, releases_in_fleet_order, set_by
from .base import FleetView, Policy, Scope

# (driver parameter, fleet file key under regions[].storage, what it is)
_CHECKED = (("storageAccount", "account", "storage account"),
            ("resourceGroup", "resourceGroup", "resource group"))


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    for index, region, release in releases_in_fleet_order(fleet, view.releases):
        configs = list(blob_configs(release))
        if not configs:
            continue
        if region.storage_account is None:
            first = configs[0]
            account = first.get("storageAccount")
            value = str(account[1]).strip() if account and account[1] else ""
            where, _ = set_by(release, value) if value else ("", None)
            shown = (f", account {value!r}{owner_of_storage(fleet, value, region, field='account')}"
                     + (f" {where}" if where else "")) if value else ""
            yield Violation(
                f"region {region.name!r} mounts blob storage ({first.obj.kind} {first.obj.name!r}{shown}) but "
                f"declares no storage in the fleet file at {fleet_place(fleet, 'regions', index)}, so nothing "
                "checks that it is this region's data",
                region=region.name, path=region_path(index, "storage"), source=region_source(fleet, index))
            continue
        declared = {"account": region.storage_account, "resourceGroup": region.storage_resource_group}
        for config in configs:
            what_obj = f"{config.obj.kind} {config.obj.name!r}"
            for parameter, key, what in _CHECKED:
                expected = declared[key]
                if expected is None:
                    continue
                found = config.get(parameter)
                value = str(found[1]).strip() if found is not None and found[1] is not None else ""
                if value.lower() == expected.lower():
                    continue
                path = config.key_path(found[0] if found else parameter)
                place = fleet_place(fleet, "regions", index, "storage", key)
                if not value:
                    if key != "account":
                        continue  # without a resource group the driver looks in the cluster's node group
                    yield Violation(
                        f"{what_obj} names no storage account; the fleet file declares storage account "
                        f"{expected!r} for region {region.name!r} at {place}",
                        obj=config.obj.ref, path=path, region=region.name)
                    continue
                where, source = set_by(release, value)
                yield Violation(
                    f"{what_obj} mounts {what} {value!r}{owner_of_storage(fleet, value, region, field=key)}; "
                    f"the fleet file declares {what} {expected!r} for region {region.name!r} at {place}"
                    + (f"; {where}" if where else ""),
                    obj=config.obj.ref, path=path, region=region.name, source=source)


POLICY = Policy(
    id="region-storage-match",
    title="A region's blob volumes mount the storage the fleet file declares for it",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "A region's storage is written twice: under regions[].storage in the fleet file (its account, "
        "location and resource group: what storage-in-region and the live checks read) and in the region's "
        "values files (what the BlobFuse2 StorageClass or PersistentVolume renders). A region copied from "
        "another keeps the other region's account in its values file and silently trains on, and writes "
        "checkpoints to, the other region's data across regions. Every blob StorageClass and PersistentVolume "
        "must name the region's declared account (and resource group, when declared): a dynamic StorageClass "
        "without an account lets the driver pick or create one in the cluster's node resource group. A region "
        "that mounts blob storage must declare it. The finding names the fleet file line and the values file line."
    ),
    remediation=(
        "Set the storage account and resource group in the region's values file to the region's "
        "storage declared in the fleet file (or correct regions[].storage when the values are right)."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
        "https://learn.microsoft.com/azure/aks/azure-csi-blob-storage-provision",
    ),
    check=check,
)
