"""Helpers for the cross-checks between the fleet file and each region's rendered release.

A region's facts are written twice: in the fleet file (identities, storage, cluster) and in its
values files (what the chart renders). These helpers say where each side is written, so a
finding can name both places: the fleet file line and the values file line to change.

Not a policy (the leading underscore keeps it out of the registry meta-test).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..findings import ObjectRef, SourceLocation
from ..fleet import Fleet, Region
from ..secrets import child_path, format_path
from ._fleet import region_path
from ._helpers import WI_CLIENT_ID, as_dict, blob_configs
from .base import ReleaseObjects

WI_TENANT_ID = "azure.workload.identity/tenant-id"


def fleet_place(fleet: Fleet, *keys: str | int) -> str:
    """``line 95 (regions[3].identities)``: a place in the fleet file, for messages."""
    line = fleet.document.line_of(keys) if fleet.document is not None else None
    path = region_path(keys[1], *keys[2:]) if keys[:1] == ("regions",) and len(keys) > 1 \
        else ".".join(str(k) for k in keys)
    return f"line {line} ({path})" if line else path


def set_by(release: ReleaseObjects, value: str) -> tuple[str, SourceLocation | None]:
    """Where the values files set a rendered value: ``set by global.azure.clientId at
    values/eastus2.yaml:7`` and the last such place (Helm's winner), or ("", None) when no values
    file set it (a chart default, or manifests rendered elsewhere)."""
    places = release.values.locate_all(value) if release.values is not None else []
    if not places:
        return "", None
    text = "set by " + ", ".join(f"{format_path(path)} at {location}" for path, location in places)
    return text, places[-1][1]


def owner_of_identity(fleet: Fleet, client_id: str, but: Region) -> str:
    """`` (identity 'id-x' of region 'eastus2')`` when another region declares this client ID."""
    for region in fleet.regions:
        if region.name == but.name:
            continue
        for identity in region.identities:
            if identity.client_id.lower() == client_id.strip().lower():
                return f" (identity {identity.name!r} of region {region.name!r})"
    return ""


def owner_of_storage(fleet: Fleet, value: str, but: Region, *, field: str) -> str:
    """`` (region 'eastus2''s storage account)`` when another region declares this value."""
    wanted = value.strip().lower()
    for region in fleet.regions:
        if region.name == but.name:
            continue
        declared = region.storage_account if field == "account" else region.storage_resource_group
        if declared and declared.lower() == wanted:
            what = "storage account" if field == "account" else "storage resource group"
            return f" (the {what} of region {region.name!r})"
    return ""


@dataclass(frozen=True)
class IdentityUse:
    """One rendered place that names a managed identity (or its tenant)."""

    obj: ObjectRef
    what: str  # "ServiceAccount 'ray'" / "StorageClass 'ray-blob'"
    path: str
    value: str


def identity_uses(release: ReleaseObjects, *, tenant: bool = False) -> Iterator[IdentityUse]:
    """Client IDs (or, with ``tenant``, tenant IDs) the release hands to Azure: every
    ServiceAccount's workload-identity annotation and every blob volume's clientID/tenantID."""
    annotation = WI_TENANT_ID if tenant else WI_CLIENT_ID
    for account in release.of_kind("ServiceAccount"):
        value = as_dict(account.metadata.get("annotations")).get(annotation)
        if isinstance(value, str) and value.strip():
            yield IdentityUse(account.ref, f"ServiceAccount {account.name!r}",
                              child_path("metadata.annotations", annotation), value.strip())
    for config in blob_configs(release):
        found = config.get("tenantID" if tenant else "clientID")
        if found is not None and isinstance(found[1], str) and found[1].strip():
            yield IdentityUse(config.obj.ref, f"{config.obj.kind} {config.obj.name!r}", config.key_path(found[0]),
                              found[1].strip())


def releases_in_fleet_order(fleet: Fleet, releases: Mapping[str, ReleaseObjects]
                            ) -> Iterator[tuple[int, Region, ReleaseObjects]]:
    """(index in the fleet file, region, release) for every region that rendered."""
    for index, region in enumerate(fleet.regions):
        release = releases.get(region.name)
        if release is not None:
            yield index, region, release
