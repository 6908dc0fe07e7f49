"""The values Flux will merge for each region's HelmRelease are the values rayfleet validated."""

from __future__ import annotations

from collections.abc import Iterator

from ..delivery.flux import FluxValuesError, differences, flux_values
from ..delivery.settings import delivery_namespace
from ..delivery.view import export_view
from ..findings import Severity, Violation
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    exports = export_view(view.fleet)
    if exports is None or exports.flux.problem:
        return  # flux-helmrelease-per-region reports a missing export
    for region in view.fleet.regions:
        release = view.releases.get(region.name)
        if release is None or release.values is None:
            continue  # not rendered from values (manifests:), or did not render
        namespace = delivery_namespace(region)
        found = [o for o in exports.flux.of_kind("HelmRelease") if o.namespace == namespace]
        if len(found) != 1:
            continue  # flux-helmrelease-per-region
        helmrelease = found[0]
        try:
            merged = flux_values(helmrelease.body, exports.flux.in_namespace(namespace))
        except FluxValuesError as exc:
            yield Violation(f"Flux cannot compose the values of HelmRelease {helmrelease.name}: {exc}",
                            obj=helmrelease.ref, path="spec.valuesFrom", region=region.name,
                            source=helmrelease.origin)
            continue
        diff = differences(release.values.merged, merged)
        if diff:
            yield Violation(f"the values Flux will merge for HelmRelease {helmrelease.name} differ from the values "
                            f"rayfleet validated at {', '.join(diff)}", obj=helmrelease.ref, path="spec.valuesFrom",
                            region=region.name, source=helmrelease.origin)


POLICY = Policy(
    id="flux-values-parity",
    title="Flux merges exactly the values rayfleet validated",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "rayfleet validates each region with its values stack (shared files, the region's, overrides). Flux "
        "composes a HelmRelease's values itself: its valuesFrom ConfigMaps in order, then inline values, with "
        "Helm's merge rules. A stale or hand-edited export (a layer missing, reordered or out of date) would "
        "deploy values nobody checked."
    ),
    remediation="Re-run rayfleet export flux and commit the result; do not edit the exported ConfigMaps or the "
                "HelmRelease's valuesFrom by hand.",
    references=("https://fluxcd.io/flux/components/helm/helmreleases/#values-references",),
    check=check,
)
