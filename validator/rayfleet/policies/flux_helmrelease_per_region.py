"""Every region of the fleet has exactly one Flux HelmRelease in the export, and no other does."""

from __future__ import annotations

from collections.abc import Iterator

from ..delivery.settings import NAMESPACE_PREFIX, delivery_namespace
from ..delivery.view import export_view
from ..findings import Severity, Violation
from ._fleet import region_path, region_source
from .base import FleetView, Policy, Scope


def check(view: FleetView) -> Iterator[Violation]:
    exports = export_view(view.fleet)
    if exports is None:
        return
    flux = exports.flux
    if flux.problem:
        yield Violation(f"{flux.problem}: run rayfleet export flux --out {view.fleet.relative(flux.committed)}"
                        if flux.committed else flux.problem, path="delivery.exports.flux")
        return
    found: dict[str, list] = {}
    for obj in flux.objects:
        if obj.kind == "HelmRelease" and obj.api_version.startswith("helm.toolkit.fluxcd.io/"):
            found.setdefault(obj.namespace or "", []).append(obj)
    known = {delivery_namespace(r) for r in view.fleet.regions}
    for index, region in enumerate(view.fleet.regions):
        namespace = delivery_namespace(region)
        operator = region.anyscale.release_name if region.anyscale else None
        count = sum(1 for o in found.get(namespace, []) if o.name != operator)
        if count != 1:
            yield Violation(f"region {region.name!r} has {count} HelmReleases in namespace {namespace} "
                            "(expected exactly one)", region=region.name, path=region_path(index),
                            source=region_source(view.fleet, index))
        if operator is not None and not any(o.name == operator for o in found.get(namespace, [])):
            yield Violation(f"region {region.name!r} runs the Anyscale operator but namespace {namespace} has no "
                            f"HelmRelease {operator}", region=region.name, path=region_path(index, "anyscale"),
                            source=region_source(view.fleet, index))
    for namespace, objects in sorted(found.items()):
        if namespace not in known:
            for obj in objects:
                what = (f"region {namespace.removeprefix(NAMESPACE_PREFIX)!r}"
                        if namespace.startswith(NAMESPACE_PREFIX) else f"namespace {namespace or '(none)'}")
                yield Violation(f"HelmRelease {obj.name} is for {what}, which is not in the fleet", obj=obj.ref,
                                source=obj.origin)


POLICY = Policy(
    id="flux-helmrelease-per-region",
    title=("Every region has exactly one Flux HelmRelease (one more for its Anyscale operator); no removed region "
           "keeps one"),
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "With GitOps delivery each cluster applies the folder of its region. A region without a HelmRelease is "
        "never deployed (nor is its Anyscale operator without its own); two HelmReleases in one region fight over the "
        "same Helm release; a HelmRelease for a "
        "region that left the fleet keeps deploying a configuration nobody validates any more."
    ),
    remediation="Re-run rayfleet export flux (and fleet-manager) and commit the result; delete folders of removed "
                "regions.",
    references=("https://fluxcd.io/flux/components/helm/helmreleases/",),
    check=check,
)
