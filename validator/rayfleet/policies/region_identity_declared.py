"""A region whose release runs workload identity declares its managed identities."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from ._helpers import WI_USE_LABEL
from ._region_facts import fleet_place, identity_uses, owner_of_identity, releases_in_fleet_order, set_by
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    for index, region, release in releases_in_fleet_order(fleet, view.releases):
        if region.identities:
            continue
        uses = list(identity_uses(release))
        labelled = any(str(t.labels.get(WI_USE_LABEL)) == "true" for t in release.pod_templates())
        if not uses and not labelled:
            continue
        users: dict[str, list[str]] = {}
        for use in uses:
            users.setdefault(use.value.lower(), []).append(use.what)
        described = []
        for client_id, whats in users.items():
            where, _ = set_by(release, client_id)
            described.append(f"client ID {client_id}{owner_of_identity(fleet, client_id, region)} in "
                             f"{' and '.join(dict.fromkeys(whats))}" + (f", {where}" if where else ""))
        what = "; ".join(described) or f"pods labelled {WI_USE_LABEL}: \"true\""
        yield Violation(
            f"region {region.name!r} runs workload identity ({what}) but declares no identities in the fleet "
            f"file at {fleet_place(fleet, 'regions', index)}, so nothing checks that they are this region's",
            region=region.name, path=region_path(index, "identities"), source=region_source(fleet, index))


POLICY = Policy(
    id="region-identity-declared",
    title="A region that runs workload identity declares its identities in the fleet file",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "The fleet file is where a region's managed identities are declared: region-identity-match checks "
        "the rendered client IDs against them, the identity plan names the identity and resource group of "
        "each federated credential from them, and the live checks read them. A region whose release "
        "annotates ServiceAccounts or blob volumes with a client ID but declares no identities skips all "
        "of that, which is how a region copied from another ships with the other region's identity."
    ),
    remediation=(
        "Add the region's managed identities under regions[].identities in the fleet file (name, clientId, "
        "resourceGroup), then fix whatever client ID region-identity-match reports."
    ),
    references=("https://learn.microsoft.com/azure/aks/workload-identity-deploy-cluster",),
    check=check,
)
