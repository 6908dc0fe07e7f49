"""What a policy is, and what it is given to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..findings import Severity, Violation

if TYPE_CHECKING:
    from ..anyscale import AnyscaleRelease
    from ..fleet import Fleet, PolicySettings, Region
    from ..manifests import KubeObject
    from ..values import ValuesStack
    from ..workloads import PodTemplate


class Scope(StrEnum):
    RELEASE = "release"  # one region's objects (also what `scan` checks)
    FLEET = "fleet"  # all regions at once; needs the fleet file
    PIPELINE = "pipeline"  # raised by the pipeline itself: schemas, rendering, waivers
    LIVE = "live"  # raised by checks against a live Azure or Kubernetes API


@dataclass
class Release:
    """What a release policy looks at: one region's objects (or one scan's), and its settings."""

    objects: list[KubeObject]
    settings: PolicySettings
    kube_version: str
    region: Region | None = None
    fleet: Fleet | None = None
    values: ValuesStack | None = None
    anyscale: AnyscaleRelease | None = None  # the region's Anyscale operator release (rayfleet.anyscale)
    _by_kind: dict[str, list[KubeObject]] | None = field(default=None, repr=False)
    _by_ref_id: dict[int, KubeObject] | None = field(default=None, repr=False)
    _derived: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    @property
    def region_name(self) -> str | None:
        return self.region.name if self.region else None

    def of_kind(self, *kinds: str) -> list[KubeObject]:
        if self._by_kind is None:
            self._by_kind = {}
            for obj in self.objects:
                self._by_kind.setdefault(obj.kind, []).append(obj)
        return [o for kind in kinds for o in self._by_kind.get(kind, [])]

    def derived(self, name: str, compute: Callable[[Release], Any]) -> Any:
        """``compute(self)``, worked out once per release and shared by every policy that needs it
        (e.g. the capacity demand). Keyed on the object count too, so a release still being filled
        is not served a stale value."""
        key = (name, len(self.objects))
        if key not in self._derived:
            self._derived[key] = compute(self)
        return self._derived[key]

    def object_index(self) -> dict[int, KubeObject]:
        """Objects by the identity of their ``ref`` (built once)."""
        if self._by_ref_id is None:
            self._by_ref_id = {id(o.ref): o for o in self.objects}
        return self._by_ref_id

    def find(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        for obj in self.of_kind(kind):
            if obj.name == name and (namespace is None or obj.namespace in (None, namespace)):
                return obj
        return None

    def pod_templates(self) -> Iterator[PodTemplate]:
        for obj in self.objects:
            yield from obj.pod_templates


@dataclass
class FleetView:
    """What a fleet policy looks at: the fleet file and every region's release."""

    fleet: Fleet
    releases: dict[str, Release]


ReleaseCheck = Callable[[Release], Iterable[Violation]]
FleetCheck = Callable[[FleetView], Iterable[Violation]]


@dataclass(frozen=True)
class Policy:
    """A policy: readable ID (= module name with dashes), metadata, and one check."""

    id: str
    title: str
    severity: Severity
    scope: Scope
    rationale: str
    remediation: str
    references: tuple[str, ...] = ()
    check: Callable[[Any], Iterable[Violation]] | None = None
    needs_fleet: bool = False  # a release policy that only makes sense with the fleet file

    @property
    def module_name(self) -> str:
        return self.id.replace("-", "_")
