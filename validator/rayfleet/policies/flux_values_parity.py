"""The values Flux will merge for each region's HelmRelease are the values rayfleet validated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..delivery.flux import FluxValuesError, differences, flux_values
from ..delivery.settings import delivery_namespace
from ..delivery.view import export_view
from ..findings import Severity, Violation
from ..manifests import KubeObject
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
        in_namespace = [o for o in exports.flux.of_kind("HelmRelease") if o.namespace == namespace]
        operator = region.anyscale.release_name if region.anyscale else None
        # the region's release, and (docs/anyscale.md) its Anyscale operator's with the operator's own values
        pairs = [([o for o in in_namespace if o.name != operator], release.values.merged)]
        if operator is not None and release.anyscale is not None:
            pairs.append(([o for o in in_namespace if o.name == operator], release.anyscale.values.merged))
        for found, validated in pairs:
            if len(found) != 1:
                continue  # flux-helmrelease-per-region
            yield from _parity(found[0], validated, exports.flux.in_namespace(namespace), region.name)


def _parity(helmrelease: KubeObject, validated: dict[str, Any], objects: list[dict[str, Any]],
            region: str) -> Iterator[Violation]:
    try:
        merged = flux_values(helmrelease.body, objects)
    except FluxValuesError as exc:
        yield Violation(f"Flux cannot compose the values of HelmRelease {helmrelease.name}: {exc}",
                        obj=helmrelease.ref, path="spec.valuesFrom", region=region, source=helmrelease.origin)
        return
    diff = differences(validated, merged)
    if diff:
        yield Violation(f"the values Flux will merge for HelmRelease {helmrelease.name} differ from the values "
                        f"rayfleet validated at {', '.join(diff)}", obj=helmrelease.ref, path="spec.valuesFrom",
                        region=region, source=helmrelease.origin)


POLICY = Policy(
    id="flux-values-parity",
    title="Flux merges exactly the values rayfleet validated",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "rayfleet validates each region with its values stack (shared files, the region's, overrides), and a region's "
        "Anyscale operator with its own values files. Flux "
        "composes a HelmRelease's values itself: its valuesFrom ConfigMaps in order, then inline values, with "
        "Helm's merge rules. A stale or hand-edited export (a layer missing, reordered or out of date) would "
        "deploy values nobody checked."
    ),
    remediation="Re-run rayfleet export flux and commit the result; do not edit the exported ConfigMaps or the "
                "HelmRelease's valuesFrom by hand.",
    references=("https://fluxcd.io/flux/components/helm/helmreleases/#values-references",),
    check=check,
)
