"""Live GPU quota: what each region's subscription has free, from the Compute usages API.

``GET {arm}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/usages``
lists, per quota, ``currentValue`` and ``limit`` (numbers, or strings when the answer went
through ``az vm list-usage``). The live ``Quota`` of a region is ``limit - currentValue`` for:

* every VM family (``name.value`` ending in "Family", compared after
  ``rayfleet.capacity.normalise_family``),
* ``cores`` ("Total Regional vCPUs") as the regional vCPUs,
* ``lowPriorityCores`` ("Total Regional Spot vCPUs") as the spot vCPUs.

``currentValue`` counts allocated and deallocated VMs, including the nodes this release already
runs, so the live check asks whether the release's *whole* max demand still fits on top of what
the subscription uses now: pessimistic for a release that is already running. Needs
``Microsoft.Compute/locations/usages/read`` (in the built-in Reader role).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..capacity import normalise_family
from ..errors import InputError, LiveCheckError
from ..fleet import Quota

if TYPE_CHECKING:
    from ..fleet import Fleet, Region
    from .arm import ArmClient

USAGES_API_VERSION = "2024-07-01"
REGIONAL_USAGE = "cores"
SPOT_USAGE = "lowPriorityCores"


@dataclass(frozen=True)
class Usage:
    """One line of the usages answer."""

    name: str  # name.value, as Azure spells it
    localized_name: str | None
    current: int
    limit: int

    @property
    def free(self) -> int:
        return max(self.limit - self.current, 0)

    @property
    def is_family(self) -> bool:
        return normalise_family(self.name).endswith("family")


def usages_path(subscription_id: str, location: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Compute/locations/{location}/usages"


def _number(value: Any, field: str, name: str, region: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value) if not isinstance(value, str) or value.strip().lstrip("-").isdigit() \
            else int(float(value))
    except (TypeError, ValueError):
        raise LiveCheckError(region, f"usages answer has a {field} that is not a number for {name}: {value!r}") \
            from None


def parse_usage(item: dict[str, Any], region: str) -> Usage | None:
    """A ``Usage`` from one item of the answer; None for items without a name."""
    name_block = item.get("name")
    if isinstance(name_block, dict):
        name, localized = name_block.get("value"), name_block.get("localizedValue")
    else:  # az vm list-usage flattens to localName
        name, localized = name_block, item.get("localName")
    if not isinstance(name, str) or not name:
        return None
    return Usage(name, str(localized) if localized else None,
                 _number(item.get("currentValue", 0), "currentValue", name, region),
                 _number(item.get("limit", 0), "limit", name, region))


def read_usages(client: ArmClient, subscription_id: str, location: str, *, region: str) -> list[Usage]:
    """Every usage line of one subscription in one location (all pages)."""
    usages: list[Usage] = []
    for item in client.list_pages(usages_path(subscription_id, location), USAGES_API_VERSION, region=region,
                                  needs=f"Reader on subscription {subscription_id} "
                                        "(Microsoft.Compute/locations/usages/read)"):
        usage = parse_usage(item, region)
        if usage is not None:
            usages.append(usage)
    return usages


def quota_from_usages(usages: Iterable[Usage]) -> Quota:
    """The free vCPUs: per family, regional (``cores``) and spot (``lowPriorityCores``)."""
    families: dict[str, int] = {}
    regional = spot = None
    for usage in usages:
        key = normalise_family(usage.name)
        if key == REGIONAL_USAGE.lower():
            regional = usage.free
        elif key == SPOT_USAGE.lower():
            spot = usage.free
        elif usage.is_family:
            families[usage.name] = usage.free
    return Quota(families, regional, spot)


def subscription_for(fleet: Fleet, region: Region) -> str:
    subscription = region.subscription_id or fleet.subscription_id
    if not subscription:
        raise InputError(f"region {region.name} has no subscriptionId (set it on the region or the fleet) "
                         "so its quota cannot be read", file=str(fleet.path))
    return subscription


def live_quotas(fleet: Fleet, client: ArmClient, regions: Sequence[str] | None = None) -> dict[str, Quota]:
    """Region name → the live free quota of its subscription and location (one call per pair)."""
    cache: dict[tuple[str, str], Quota] = {}
    quotas: dict[str, Quota] = {}
    for region in fleet.select(regions):
        key = (subscription_for(fleet, region), region.location)
        if key not in cache:
            cache[key] = quota_from_usages(read_usages(client, key[0], key[1], region=region.name))
        quotas[region.name] = cache[key]
    return quotas
