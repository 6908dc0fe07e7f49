"""What policies look at: one frozen input per scope.

* ``ReleaseObjects``: one region's rendered objects (or one ``scan``'s), with its settings.
* ``FleetView``: the fleet file and every region's ``ReleaseObjects``.
* ``LiveCluster``: what preflight read from a region's Kubernetes API (``ClusterFacts``), beside
  the region's release.
* ``AksCluster`` and ``IdentityCredentials``: what the live identity check read from Azure
  Resource Manager (a managed cluster's settings; a managed identity's federated credentials
  against the ones the fleet needs).
* ``HubMembers``: the MemberClusters the Fleet Manager hub lists, beside the regions.
* ``StorageAccount``: a storage account a region's release mounts, as ARM reports it.

The adapters (``rayfleet.azure``, ``rayfleet.kube``) fill these with facts; policies read them.
Neither imports the other. Every subject tells the runner how to place a violation
(``finding_context``): which release's values file to trace a value to, which object it is
about, the region and the fallback source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .anyscale import AnyscaleRelease
from .arc import CONNECTED_CLUSTERS_API_VERSION
from .findings import ObjectRef, SourceLocation, Violation
from .fleet import Fleet, PolicySettings, Region
from .manifests import KubeObject
from .values import ValuesStack
from .wellknown import (
    AKS_API_VERSION,
    BLOB_CSI_DRIVER,
    MSI_API_VERSION,
    RAY_CRDS,
    RAY_GROUP,
    STORAGE_API_VERSION,
    TOKEN_AUDIENCE,
    WI_USE_LABEL,
)
from .workloads import PodTemplate, find_pod_templates


@dataclass(frozen=True)
class FindingContext:
    """Where a violation sits: the release (to trace a value to its values file), the object,
    the region, and the source to name when nothing more precise is known."""

    release: ReleaseObjects | None = None
    obj: KubeObject | None = None
    region: str | None = None
    default_source: SourceLocation | None = None


class Subject(Protocol):
    """Anything a policy checks."""

    def finding_context(self, violation: Violation) -> FindingContext: ...


# --- release and fleet -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReleaseObjects:
    """One region's rendered objects (or one scan's) and the settings the policies read.

    Frozen: built once the objects are all known; the indexes below are worked out then."""

    objects: tuple[KubeObject, ...]
    settings: PolicySettings
    kube_version: str
    region: Region | None = None
    fleet: Fleet | None = None
    values: ValuesStack | None = None
    anyscale: AnyscaleRelease | None = None  # the region's Anyscale operator release (rayfleet.anyscale)
    _by_kind: dict[str, list[KubeObject]] = field(init=False, repr=False)
    _by_ref_id: dict[int, KubeObject] = field(init=False, repr=False)
    _templates: dict[int, tuple[PodTemplate, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[KubeObject]] = {}
        for obj in self.objects:
            by_kind.setdefault(obj.kind, []).append(obj)
        object.__setattr__(self, "objects", tuple(self.objects))
        object.__setattr__(self, "_by_kind", by_kind)
        object.__setattr__(self, "_by_ref_id", {id(o.ref): o for o in self.objects})
        object.__setattr__(self, "_templates", {id(o): tuple(find_pod_templates(o)) for o in self.objects})

    @property
    def region_name(self) -> str | None:
        return self.region.name if self.region else None

    def of_kind(self, *kinds: str) -> list[KubeObject]:
        return [o for kind in kinds for o in self._by_kind.get(kind, [])]

    def find(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        for obj in self.of_kind(kind):
            if obj.name == name and (namespace is None or obj.namespace in (None, namespace)):
                return obj
        return None

    def templates_of(self, obj: KubeObject) -> tuple[PodTemplate, ...]:
        """Every pod template in one of this release's objects (see ``rayfleet.workloads``)."""
        found = self._templates.get(id(obj))
        return found if found is not None else tuple(find_pod_templates(obj))

    def pod_templates(self) -> Iterator[PodTemplate]:
        for obj in self.objects:
            yield from self._templates[id(obj)]

    def object_for(self, ref: ObjectRef | None) -> KubeObject | None:
        """The object a violation names. Policies pass ``obj.ref``, one instance per object, so
        its identity finds the right object even when two files hold objects of the same name."""
        if ref is None:
            return None
        found = self._by_ref_id.get(id(ref))
        if found is not None:
            return found
        return next((o for o in self.objects if o.ref == ref), None)

    def finding_context(self, violation: Violation) -> FindingContext:
        return FindingContext(self, self.object_for(violation.obj), self.region_name)

    def with_anyscale(self, rendered: AnyscaleRelease) -> ReleaseObjects:
        """This release with the Anyscale operator's objects added (so every release policy sees them)."""
        return replace(self, objects=(*self.objects, *rendered.objects), anyscale=rendered)


@dataclass(frozen=True)
class FleetView:
    """The fleet file and every region's release (regions that did not render are left out)."""

    fleet: Fleet
    releases: Mapping[str, ReleaseObjects]

    def finding_context(self, violation: Violation) -> FindingContext:
        release = self.releases.get(violation.region or "")
        obj = release.object_for(violation.obj) if release is not None else None
        return FindingContext(release, obj, violation.region, SourceLocation(str(self.fleet.path)))


def fleet_line(fleet: Fleet, *path: str | int) -> SourceLocation:
    """The fleet file and the line of ``path`` in it (or of the nearest parent)."""
    line = fleet.document.line_of(tuple(path)) if fleet.document is not None else None
    return SourceLocation(str(fleet.path), line)


# --- a live Kubernetes cluster -----------------------------------------------------------------


@dataclass(frozen=True)
class ClusterFacts:
    """What preflight read from one cluster, as the API server sent it."""

    server: str
    version: dict[str, Any]
    crds: dict[str, dict[str, Any] | None]  # CRD name → object, None when absent
    csi_driver: dict[str, Any] | None
    webhook_configurations: list[dict[str, Any]]
    nodes: list[dict[str, Any]]
    namespace: dict[str, Any] | None
    daemon_sets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def git_version(self) -> str:
        return str(self.version.get("gitVersion") or f"v{self.version.get('major')}.{self.version.get('minor')}")

    @property
    def minor(self) -> str | None:
        """``1.33`` from ``v1.33.2`` (or from major/minor, where ``minor`` may read ``33+``)."""
        match = re.match(r"^v?(\d+)\.(\d+)", self.git_version)
        if match:
            return f"{match.group(1)}.{match.group(2)}"
        major, minor = str(self.version.get("major", "")), str(self.version.get("minor", "")).rstrip("+")
        return f"{major}.{minor}" if major.isdigit() and minor.isdigit() else None


def required_crds(release: ReleaseObjects | None) -> list[str]:
    """The KubeRay CRDs a release needs: RayCluster always (rollout waits on it), plus the kinds
    it renders."""
    kinds = {"RayCluster"}
    if release is not None:
        kinds |= {o.kind for o in release.objects if o.group == RAY_GROUP and o.kind in RAY_CRDS}
    return sorted(RAY_CRDS[k] for k in kinds)


@dataclass(frozen=True)
class LiveCluster:
    """What a preflight policy looks at: the region, its rendered release (None: not rendered)
    and its live cluster. ``operator_in_release``: the release installs the KubeRay operator
    (and, on first install, its CRDs)."""

    region: Region
    cluster: ClusterFacts
    release: ReleaseObjects | None = None
    fleet: Fleet | None = None
    create_namespace: bool = True
    operator_in_release: bool = False
    chart_crds: Sequence[dict[str, Any]] = ()  # the pinned operator's CRDs (from the chart)

    @property
    def region_name(self) -> str:
        return self.region.name

    def required_crds(self) -> list[str]:
        return required_crds(self.release)

    def gpu_worker_templates(self) -> list[PodTemplate]:
        """Worker group pod templates that ask for NVIDIA GPUs (one per group)."""
        seen: set[tuple[str, str | None]] = set()
        out = []
        if self.release is not None:
            for tpl in self.release.pod_templates():
                key = (tpl.obj.name, tpl.group)
                if tpl.role == "worker" and tpl.gpus > 0 and key not in seen:
                    seen.add(key)
                    out.append(tpl)
        return out

    def uses_blob_csi(self) -> bool:
        """Whether the release mounts Blob CSI volumes (unknown release: assume it does)."""
        if self.release is None:
            return True
        for obj in self.release.objects:
            body = obj.body
            spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
            if obj.kind == "StorageClass" and body.get("provisioner") == BLOB_CSI_DRIVER:
                return True
            if obj.kind == "PersistentVolume" and (spec.get("csi") or {}).get("driver") == BLOB_CSI_DRIVER:
                return True
        return any((v.get("csi") or {}).get("driver") == BLOB_CSI_DRIVER
                   for tpl in self.release.pod_templates() for _, v in tpl.volumes()
                   if isinstance(v.get("csi"), dict))

    def uses_workload_identity(self) -> bool:
        """Whether any pod of the release carries ``azure.workload.identity/use: "true"``."""
        if self.release is None:
            return True
        return any(str(tpl.labels.get(WI_USE_LABEL, "")).lower() == "true" for tpl in self.release.pod_templates())

    def fleet_source(self, *key: str | int) -> SourceLocation | None:
        """Where the region's ``key`` sits in the fleet file (for findings about the fleet file)."""
        if self.fleet is None:
            return None
        index = next((i for i, r in enumerate(self.fleet.regions) if r.name == self.region.name), None)
        if index is None or self.fleet.document is None:
            return SourceLocation(str(self.fleet.path))
        return fleet_line(self.fleet, "regions", index, *key)

    def finding_context(self, violation: Violation) -> FindingContext:
        obj = self.release.object_for(violation.obj) if self.release is not None else None
        default = SourceLocation(str(self.fleet.path)) if self.fleet is not None else None
        return FindingContext(self.release, obj, violation.region or self.region_name, default)


# --- live Azure: managed clusters and federated credentials -----------------------------------


@dataclass(frozen=True)
class AksSettings:
    """What the identity check reads from a managed cluster."""

    oidc_enabled: bool
    issuer: str | None
    workload_identity: bool
    blob_driver: bool
    # principal IDs of the cluster's control-plane identity (system- or user-assigned): the Blob CSI
    # controller's identity for dynamic provisioning
    control_plane_principals: tuple[str, ...] = ()


@dataclass(frozen=True)
class _ClusterFacts:
    """One region and its cluster's settings as ARM reports them (the part ``AksCluster`` and
    ``ArcCluster`` share; a policy takes one or the other, never this)."""

    fleet: Fleet
    region: Region
    settings: AksSettings

    @property
    def region_name(self) -> str:
        return self.region.name

    def fleet_line(self, *path: str) -> SourceLocation:
        """Where the fleet file describes this region's cluster (``path`` below ``cluster``)."""
        return fleet_line(self.fleet, "regions", self.fleet.regions.index(self.region), "cluster", *path)

    def finding_context(self, violation: Violation) -> FindingContext:
        return FindingContext(region=violation.region)


@dataclass(frozen=True)
class AksCluster(_ClusterFacts):
    """What an ``aks-*`` policy looks at: one region and its managed cluster as ARM reports it."""

    @property
    def obj(self) -> ObjectRef:
        return cluster_ref(self.region)

    @property
    def label(self) -> str:
        return f"AKS cluster {self.region.cluster.resource_group}/{self.region.cluster.name}"


@dataclass(frozen=True)
class ArcCluster(_ClusterFacts):
    """What an ``arc-*`` policy looks at: one region on an Azure Arc-enabled cluster, as ARM reports
    its connectedCluster (the same settings as a managed cluster's; no Blob CSI add-on)."""

    @property
    def obj(self) -> ObjectRef:
        return ObjectRef(f"Microsoft.Kubernetes/{CONNECTED_CLUSTERS_API_VERSION}", "ConnectedCluster", None,
                         self.region.cluster.name)

    @property
    def label(self) -> str:
        return f"Arc-enabled cluster {self.region.cluster.resource_id}"


def cluster_ref(region: Region) -> ObjectRef:
    return ObjectRef(f"Microsoft.ContainerService/{AKS_API_VERSION}", "ManagedCluster", None, region.cluster.name)


def subject_for(namespace: str, service_account: str) -> str:
    """The token subject of a ServiceAccount: ``system:serviceaccount:<namespace>:<name>``."""
    return f"system:serviceaccount:{namespace}:{service_account}"


@dataclass(frozen=True)
class PlannedCredential:
    """One federated identity credential one region needs on one managed identity.

    ``identity_name``, ``resource_group`` and ``subscription_id`` are None when the fleet file
    does not say (the identity is not listed under the region's ``identities``); ``issuer`` is
    None when the region has no ``cluster.oidcIssuerUrl``.
    """

    region: str
    client_id: str
    identity_name: str | None
    resource_id: str | None
    resource_group: str | None
    subscription_id: str | None
    issuer: str | None
    namespace: str
    service_account: str
    name: str
    audience: str = TOKEN_AUDIENCE
    source: SourceLocation | None = field(default=None, compare=False)

    @property
    def subject(self) -> str:
        return subject_for(self.namespace, self.service_account)

    @property
    def identity_label(self) -> str:
        """How messages name the identity: ``name (client ID)`` or the client ID alone."""
        return f"{self.identity_name} ({self.client_id})" if self.identity_name else self.client_id


@dataclass(frozen=True)
class ExistingCredential:
    """A federated identity credential as ARM lists it."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]


@dataclass
class ManagedIdentityRef:
    """A user-assigned managed identity the plan uses, where it lives, and who uses it."""

    subscription: str
    resource_group: str
    name: str
    client_id: str
    region: str  # the first region that uses it (errors name it)
    source: SourceLocation
    planned: list[tuple[PlannedCredential, str]] = field(default_factory=list)  # (credential, issuer)

    @property
    def path(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{self.name}")

    @property
    def label(self) -> str:
        return f"managed identity {self.resource_group}/{self.name} ({self.client_id})"


@dataclass(frozen=True)
class CredentialMatch:
    """A planned credential and the existing one that stands for it: the exact (issuer, subject)
    pair, else the nearest (same name, or the same pair up to a trailing slash or case), else None."""

    planned: PlannedCredential
    issuer: str  # the issuer the credential must carry
    existing: ExistingCredential | None

    @property
    def exact(self) -> bool:
        return self.existing is not None and (self.existing.issuer, self.existing.subject) == \
            (self.issuer, self.planned.subject)


@dataclass(frozen=True)
class IdentityCredentials:
    """What a ``federated-credential-*`` policy looks at: one managed identity, the credentials the
    fleet needs on it, what ARM lists, and which listed credentials nothing needs."""

    fleet: Fleet
    identity: ManagedIdentityRef
    existing: Sequence[ExistingCredential]
    matches: Sequence[CredentialMatch]
    unused: Sequence[ExistingCredential]  # listed, matched by no planned credential, in the checked scope
    issuers: Mapping[str, str]  # region -> OIDC issuer (fleet file, else the live cluster's)

    def region_of_issuer(self, issuer: str) -> str | None:
        return next((region for region, known in self.issuers.items() if known == issuer), None)

    def finding_context(self, violation: Violation) -> FindingContext:
        return FindingContext(region=violation.region)


def service_account_ref(cred: PlannedCredential) -> ObjectRef:
    return ObjectRef("v1", "ServiceAccount", cred.namespace, cred.service_account)


def credential_ref(name: str) -> ObjectRef:
    return ObjectRef(f"Microsoft.ManagedIdentity/{MSI_API_VERSION}", "FederatedIdentityCredential", None, name)


# --- live Azure Kubernetes Fleet Manager: the hub ---------------------------------------------


@dataclass(frozen=True)
class HubMembers:
    """What ``fleet-members-match`` looks at: the regions and the hub's MemberClusters."""

    fleet: Fleet
    regions: Sequence[Region]
    members: Sequence[dict[str, Any]]

    def finding_context(self, violation: Violation) -> FindingContext:
        return FindingContext(region=violation.region)


# --- live Azure: the storage accounts the releases mount ---------------------------------------


@dataclass(frozen=True)
class StorageTarget:
    """The storage account one region's release mounts, and how."""

    region: str
    account: str
    resource_group: str | None
    subscription_id: str | None
    dynamic: bool  # a StorageClass: the controller creates the container
    adls: bool  # mounted as ADLS Gen2 (isHnsEnabled / --use-adls)
    obj: KubeObject  # the StorageClass or PersistentVolume that says so

    @property
    def resource_id(self) -> str | None:
        if not (self.subscription_id and self.resource_group):
            return None
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.Storage/storageAccounts/{self.account}")


@dataclass(frozen=True)
class RoleAssignment:
    """A role assignment as ARM lists it (at the account's scope or inherited from above)."""

    principal_id: str
    role_id: str  # the role definition's GUID
    scope: str



@dataclass(frozen=True)
class StorageAccount:
    """What a ``blob-*`` live policy looks at: one region's storage target, the account as ARM
    reports it, and (dynamic provisioning) the cluster's control-plane identity and the role
    assignments on the account."""

    fleet: Fleet
    region: Region
    target: StorageTarget
    account: dict[str, Any]
    principals: tuple[str, ...] = ()
    assignments: tuple[RoleAssignment, ...] | None = None  # None: not read (static PV)

    @property
    def region_name(self) -> str:
        return self.region.name

    @property
    def hns_enabled(self) -> bool:
        props = self.account.get("properties") if isinstance(self.account.get("properties"), dict) else {}
        return props.get("isHnsEnabled") is True

    @property
    def account_ref(self) -> ObjectRef:
        return ObjectRef(f"Microsoft.Storage/{STORAGE_API_VERSION}", "StorageAccount", None, self.target.account)

    @property
    def object_ref(self) -> ObjectRef:
        return self.target.obj.ref

    def fleet_source(self) -> SourceLocation:
        """Where the fleet file describes the region's storage."""
        if self.fleet.document is None:
            return SourceLocation(str(self.fleet.path))
        return fleet_line(self.fleet, "regions", self.fleet.regions.index(self.region), "storage")

    def finding_context(self, violation: Violation) -> FindingContext:
        return FindingContext(region=violation.region)
