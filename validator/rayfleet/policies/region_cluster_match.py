"""A region's values name its own cluster, region and location, never another region's."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ..fleet import Fleet, Region
from ..secrets import format_path
from ._region_facts import fleet_place, releases_in_fleet_order
from .base import FleetView, Policy, Scope

# The chart's values that restate a fact of the fleet file: (values key, fleet key, what, fact).
_RESTATED = (
    (("global", "region"), ("name",), "region name", lambda r: r.name),
    (("global", "location"), ("location",), "location", lambda r: r.location),
    (("global", "clusterName"), ("cluster", "name"), "cluster name", lambda r: r.cluster.name),
)
_SHORTEST = 4  # shorter strings match by chance


def _facts(region: Region, *, anywhere: bool) -> list[tuple[str, str, tuple[str, ...]]]:
    """(value, what, fleet key) of a region's cluster facts. With ``anywhere``, only those no other
    region's values may hold at all: the OIDC issuer. Cluster names and kube contexts may appear
    legitimately (a MultiKueue manager lists its workers by name), so only the restated keys are
    compared with them."""
    cluster = region.cluster
    facts = []
    if not anywhere:
        facts.append((cluster.name, "AKS cluster name", ("cluster", "name")))
        if cluster.kube_context:
            facts.append((cluster.kube_context, "kube context", ("cluster", "kubeContext")))
    if cluster.oidc_issuer_url:
        facts.append((cluster.oidc_issuer_url, "OIDC issuer", ("cluster", "oidcIssuerUrl")))
    return facts


def _norm(value: str) -> str:
    return value.strip().rstrip("/").lower()


def _owners(fleet: Fleet, *, anywhere: bool) -> dict[str, list[tuple[str, str]]]:
    """Normalised value → [(region name, ``the OIDC issuer of region 'eastus2' (fleet file line
    27)``)] for the cluster facts of every region. Built once per check, not once per region (a
    1,000-region fleet would build it a million times)."""
    owners: dict[str, list[tuple[str, str]]] = {}
    for index, region in enumerate(fleet.regions):
        for value, what, key in _facts(region, anywhere=anywhere):
            line = fleet.document.line_of(("regions", index, *key)) if fleet.document is not None else None
            if len(_norm(value)) >= _SHORTEST:
                owners.setdefault(_norm(value), []).append(
                    (region.name, f"the {what} of region {region.name!r}" + (f" (fleet file line {line})"
                                                                              if line else "")))
    return owners


def _others(owners: dict[str, list[tuple[str, str]]], value: str, but: Region) -> list[tuple[str, str]]:
    """The regions other than ``but`` that own ``value`` (normalised)."""
    return [owner for owner in owners.get(value, ()) if owner[0] != but.name]


def check(view: FleetView) -> Iterator[Violation]:
    fleet = view.fleet
    restated_facts = _owners(fleet, anywhere=False)
    issuer_facts = _owners(fleet, anywhere=True)
    for index, region, release in releases_in_fleet_order(fleet, view.releases):
        stack = release.values
        if stack is None:
            continue
        restated = set()
        for values_key, fleet_key, what, fact in _RESTATED:
            restated.add(values_key)
            location = stack.origin(values_key)
            value = _lookup(stack.merged, values_key)
            if location is None or not isinstance(value, str) or not value.strip():
                continue
            expected = fact(region)
            if _norm(value) == _norm(expected):
                continue
            owner = {name for name, _ in _others(restated_facts, _norm(value), region)}
            owner |= {r.name for r in fleet.regions if r.name != region.name and r.name == _norm(value)}
            yield Violation(
                f"{format_path(values_key)} is {value!r}"
                + (f" (from region {', '.join(repr(o) for o in sorted(owner))})" if owner else "")
                + f"; the fleet file declares {what} {expected!r} for region {region.name!r} at "
                f"{fleet_place(fleet, 'regions', index, *fleet_key)}; set at {location}",
                region=region.name, path=format_path(values_key), source=location)
        for key, location, value in stack.leaves():
            if key in restated or not isinstance(value, str) or len(_norm(value)) < _SHORTEST:
                continue
            found = _others(issuer_facts, _norm(value), region)
            if found:
                owned = " and ".join(text for _, text in found)
                yield Violation(f"{format_path(key)} is {value!r}, {owned}, in the values of region "
                                f"{region.name!r}; set at {location}", region=region.name, path=format_path(key),
                                source=location)


def _lookup(data: object, path: tuple[str, ...]) -> object:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


POLICY = Policy(
    id="region-cluster-match",
    title="A region's values name its own region, location and cluster, never another region's",
    severity=Severity.ERROR,
    scope=Scope.FLEET,
    rationale=(
        "The chart restates a few facts of the fleet file (global.region, global.location, "
        "global.clusterName): they label what the release reports about itself, so a value copied from "
        "another region makes its status, notes and alerts talk about the wrong cluster. Any value in a "
        "region's values files that is another region's OIDC issuer URL is a leftover of copying that "
        "region and points this release at the other cluster's trust. (Other regions' cluster names are "
        "not searched for everywhere: a MultiKueue manager lists its workers by name.) The fleet file "
        "itself gives every region its own cluster name, kube context and issuer (unique-cluster-names). "
        "The finding names the values file line and the fleet file line of the fact."
    ),
    remediation=(
        "Change the value in the values file named to this region's own cluster name, location or issuer "
        "as the fleet file declares them."
    ),
    references=("https://learn.microsoft.com/azure/aks/use-oidc-issuer",),
    check=check,
)
