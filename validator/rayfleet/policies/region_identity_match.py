"""Every managed identity a region's release uses is one the fleet file declares for that region."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._region_facts import fleet_place, identity_uses, owner_of_identity, releases_in_fleet_order, set_by
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    for index, region, release in releases_in_fleet_order(fleet, view.releases):
        if not region.identities:
            continue  # region-identity-declared reports a region that declares none
        declared = {i.client_id.lower() for i in region.identities}
        names = ", ".join(f"{i.name} ({i.client_id})" for i in region.identities)
        for use in identity_uses(release):
            if use.value.lower() in declared:
                continue
            where, source = set_by(release, use.value)
            yield Violation(
                f"{use.what} uses client ID {use.value}{owner_of_identity(fleet, use.value, region)}; the fleet "
                f"file declares identities {names} for region {region.name!r} at "
                f"{fleet_place(fleet, 'regions', index, 'identities')}" + (f"; {where}" if where else ""),
                obj=use.obj, path=use.path, region=region.name, source=source)
        if fleet.tenant_id is None:
            continue
        for use in identity_uses(release, tenant=True):
            if use.value.lower() == fleet.tenant_id.lower():
                continue
            where, source = set_by(release, use.value)
            yield Violation(
                f"{use.what} names tenant {use.value}; the fleet file declares tenant {fleet.tenant_id} at "
                f"{fleet_place(fleet, 'tenantId')}" + (f"; {where}" if where else ""),
                obj=use.obj, path=use.path, region=region.name, source=source)


POLICY = Policy(
    id="region-identity-match",
    title="A region's release uses only the managed identities the fleet file declares for it",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "A region's identities are written twice: under regions[].identities in the fleet file (what the "
        "identity plan federates, what the live checks read) and in the region's values files (what the "
        "ServiceAccounts and blob volumes render with). A region copied from another keeps the other "
        "region's client ID in its values file: its pods then exchange tokens as the other region's "
        "identity (which has no federated credential for this cluster, so every Azure call fails) or, "
        "worse, one that has, reaching the other region's data. Every ServiceAccount's "
        "azure.workload.identity/client-id and every blob volume's clientID must be a client ID the fleet "
        "file declares for that region, and every tenant-id the fleet's tenantId. The finding names the "
        "fleet file line and the values file line that set the rendered value."
    ),
    remediation=(
        "Set the region's values file to the client ID of one of the region's identities (or add the identity "
        "the release really uses under regions[].identities in the fleet file), and the tenant to the "
        "fleet's tenantId."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
    ),
    check=check,
)
