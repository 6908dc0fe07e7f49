"""The fleet file: the chart, the shared values, every region, and the waivers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema

from .arc import NodePool, is_explicit, pool_problem, shape_family
from .errors import InputError
from .fleet_scheduling import MANAGER, WORKER, Scheduling, check_roles, parse_scheduling
from .quotas import Quota
from .resources import load_schema
from .secrets import redact_text
from .vm_sizes import VmSizeSpec, vm_catalogue
from .yamlio import LoadedDocument, load_document, read_text

AZURE_CLOUDS = {
    "AzurePublicCloud": ("https://management.azure.com", "login.microsoftonline.com"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "login.microsoftonline.us"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "login.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class Identity:
    name: str
    client_id: str
    resource_id: str | None = None
    resource_group: str | None = None
    principal_id: str | None = None  # Entra object ID (role assignments, Kubernetes username on AKS)


@dataclass(frozen=True)
class Cluster:
    name: str
    kubernetes_version: str
    resource_group: str | None = None
    kube_context: str | None = None
    oidc_issuer_url: str | None = None
    kind: str = "aks"  # "aks" or "arc" (an Azure Arc-enabled cluster, docs/arc.md)
    resource_id: str | None = None  # kind arc: the connectedCluster's resource ID

    @property
    def is_arc(self) -> bool:
        return self.kind == "arc"

    @property
    def kube_minor(self) -> str:
        """``1.33`` from ``v1.33.2``."""
        match = re.match(r"^v?(\d+\.\d+)", self.kubernetes_version)
        return match.group(1) if match else self.kubernetes_version


@dataclass(frozen=True)
class ChartSource:
    """Where a chart is published: an HTTPS Helm repository (``chart`` names it in the index) or an
    OCI repository (``url`` ends with the chart's name; the tag is the pinned version)."""

    url: str
    chart: str | None = None
    provider: str = "generic"

    @property
    def is_oci(self) -> bool:
        return self.url.startswith("oci://")

    @property
    def chart_name(self) -> str:
        return self.chart or self.url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class AnyscaleOperator:
    """A region's Anyscale operator release: the user's chart (pinned), values and release."""

    chart: Path
    version: str
    values_files: tuple[Path, ...]
    release_name: str
    namespace: str
    source: ChartSource | None = None  # where Flux pulls the chart (None: helm engine only)


@dataclass(frozen=True)
class Region:
    name: str
    location: str
    cluster: Cluster
    values_files: tuple[Path, ...]
    release_name: str
    namespace: str
    subscription_id: str | None = None
    identities: tuple[Identity, ...] = ()
    storage_account: str | None = None
    storage_location: str | None = None
    storage_resource_group: str | None = None
    storage_cross_region: bool = False  # storage.allowCrossRegion: data in another region is intended
    quota: Quota | None = None
    manifests: Path | None = None
    wave: int = 1
    failover_peers: tuple[str, ...] = ()
    role: str = WORKER  # manager | worker (scheduling)
    fleet_member: str | None = None  # Fleet Manager member name (None: the cluster name)
    inventory: tuple[NodePool, ...] | None = None  # Arc members: declared GPU node pools (None: none declared)
    anyscale: AnyscaleOperator | None = None

    @property
    def member_name(self) -> str:
        """The region's Azure Kubernetes Fleet Manager member name."""
        return self.fleet_member or self.cluster.name


@dataclass(frozen=True)
class WaiverScope:
    region: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Waiver:
    policy: str
    scope: WaiverScope
    reason: str
    owner: str
    expires: date
    line: int | None = None


@dataclass(frozen=True)
class ExternalServiceAccount:
    namespace: str
    name: str
    client_id: str | None = None


@dataclass(frozen=True)
class PolicySettings:
    failover: str = "best-effort"
    gpu_taint: tuple[str, str, str] | None = None  # key, value, effect
    allowed_registries: tuple[str, ...] = ()
    allow_cross_region_storage: bool = False
    external_service_accounts: tuple[ExternalServiceAccount, ...] = ()

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> PolicySettings:
        """Settings from the fleet file's ``policy:`` block (already schema-checked)."""
        taint = raw.get("gpuTaint")
        return PolicySettings(
            failover=raw.get("failover", "best-effort"),
            gpu_taint=(taint["key"], taint.get("value", ""), taint["effect"]) if taint else None,
            allowed_registries=tuple(raw.get("allowedRegistries", ())),
            allow_cross_region_storage=raw.get("allowCrossRegionStorage", False),
            external_service_accounts=tuple(ExternalServiceAccount(sa["namespace"], sa["name"], sa.get("clientId"))
                                            for sa in raw.get("externalServiceAccounts", ())),
        )


@dataclass(frozen=True)
class Fleet:
    path: Path
    chart: Path
    release_name: str
    namespace: str
    values_files: tuple[Path, ...]
    overrides: tuple[Path, ...]
    regions: tuple[Region, ...]
    waivers: tuple[Waiver, ...] = ()
    crds: Path | None = None
    cloud: str = "AzurePublicCloud"
    tenant_id: str | None = None
    subscription_id: str | None = None
    settings: PolicySettings = field(default_factory=PolicySettings)
    vm_sizes: dict[str, VmSizeSpec] = field(default_factory=dict)
    scheduling: Scheduling | None = None
    delivery: dict[str, Any] | None = None  # the raw ``delivery:`` block (rayfleet.delivery reads it)
    document: LoadedDocument | None = field(default=None, compare=False, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        known = ", ".join(r.name for r in self.regions)
        raise InputError(f"unknown region {name!r} (the fleet has: {known})", file=str(self.path))

    def select(self, names: list[str] | tuple[str, ...] | None) -> tuple[Region, ...]:
        """The regions named (in fleet order), or all of them."""
        if not names:
            return self.regions
        wanted = {self.region(n).name for n in names}
        return tuple(r for r in self.regions if r.name in wanted)

    def values_stack_paths(self, region: Region) -> tuple[Path, ...]:
        """The ``-f`` files of a region in Helm's order: shared, region, overrides."""
        return (*self.values_files, *region.values_files, *self.overrides)

    def relative(self, path: Path) -> str:
        """A path as the user wrote it, relative to the current folder when possible."""
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    @property
    def manager(self) -> Region | None:
        """The MultiKueue manager region (only with a scheduling section)."""
        return next((r for r in self.regions if r.role == MANAGER), None)

    @property
    def workers(self) -> tuple[Region, ...]:
        """Regions jobs run in: every region but the manager."""
        return tuple(r for r in self.regions if r.role != MANAGER)

    @property
    def arm_endpoint(self) -> str:
        return AZURE_CLOUDS[self.cloud][0]

    @property
    def authority(self) -> str:
        return AZURE_CLOUDS[self.cloud][1]


def load_fleet(path: str | Path) -> Fleet:
    """Read and check a fleet file. Raises ``InputError`` naming the file, line and field."""
    fleet_path = Path(path)
    shown = str(path)
    document = load_document(read_text(fleet_path, label="fleet file"), shown, allow_empty=False)
    data = document.data
    if not isinstance(data, dict):
        raise InputError("a fleet file must be a mapping", file=shown)
    _check_schema(data, document)
    base = fleet_path.parent

    def resolve(p: str) -> Path:
        return base / p

    release = data["release"]
    regions = []
    seen: set[str] = set()
    for index, raw in enumerate(data["regions"]):
        if raw["name"] in seen:
            raise InputError(f"region name {raw['name']!r} is used twice", file=shown,
                             line=document.line_of(("regions", index, "name")), field=f"regions[{index}].name")
        seen.add(raw["name"])
        regions.append(_region(raw, release, resolve))
        operator = regions[-1].anyscale
        if operator is not None and operator.release_name == regions[-1].release_name:
            raise InputError(f"region {raw['name']}: the Anyscale operator's release has the region's release name "
                             f"{operator.release_name!r}: Helm and Flux would take them for one release", file=shown,
                             line=document.line_of(("regions", index, "anyscale")),
                             field=f"regions[{index}].anyscale.release.name")
    settings = PolicySettings.from_dict(data.get("policy", {}))
    waivers = tuple(_waiver(raw, index, document, shown) for index, raw in enumerate(data.get("waivers", [])))
    vm_sizes = {
        name: VmSizeSpec(spec["vcpus"], spec["gpus"], spec["family"], spec.get("memoryGiB"), spec.get("gpuModel"))
        for name, spec in data.get("vmSizes", {}).items()
    }

    regions, vm_sizes = with_inventory_quotas(regions, vm_sizes, document, shown)
    scheduling = parse_scheduling(data.get("scheduling"), regions)
    check_roles(data, regions, scheduling, vm_sizes, document)
    return Fleet(
        path=fleet_path,
        chart=resolve(data["chart"]),
        release_name=release["name"],
        namespace=release["namespace"],
        values_files=tuple(resolve(p) for p in data.get("valuesFiles", [])),
        overrides=tuple(resolve(p) for p in data.get("overrides", [])),
        regions=tuple(regions),
        waivers=waivers,
        crds=resolve(data["crds"]) if data.get("crds") else None,
        cloud=data.get("cloud", "AzurePublicCloud"),
        tenant_id=data.get("tenantId"),
        subscription_id=data.get("subscriptionId"),
        settings=settings,
        vm_sizes=vm_sizes,
        scheduling=scheduling,
        delivery=data.get("delivery"),
        document=document,
    )


def _check_schema(data: dict[str, Any], document: LoadedDocument) -> None:
    validator = jsonschema.Draft7Validator(load_schema("fleet.schema.json"))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    # a field whose schema carries its own errorMessage (a pinned version, a chart source) says it plainly
    own = _with_own_message(error)
    error = own or error
    path = tuple(error.absolute_path)
    field_name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top level)"
    # redacted before cutting: a cut key is no longer recognised
    message = redact_text(f"{error.instance!r} {error.schema['errorMessage']}" if own else error.message)
    if error.validator == "additionalProperties":
        message = f"unknown field: {message}"
    if len(message) > 200:
        message = message[:197] + "..."
    raise InputError(f"does not match the fleet schema: {message}", file=document.path,
                     line=document.line_of(path), field=field_name)


def _with_own_message(error: jsonschema.ValidationError) -> jsonschema.ValidationError | None:
    """The error itself or the oneOf it came from, when its schema has an ``errorMessage``."""
    node: jsonschema.ValidationError | None = error
    while node is not None:
        if node.validator != "required" and isinstance(node.schema, dict) and "errorMessage" in node.schema:
            return node
        node = node.parent
    return None


def _region(raw: dict[str, Any], release: dict[str, Any], resolve: Any) -> Region:
    cluster = raw["cluster"]
    quota = raw.get("quota")
    storage = raw.get("storage", {})
    own_release = raw.get("release", {})
    return Region(
        name=raw["name"],
        location=raw["location"],
        cluster=Cluster(
            name=cluster["name"],
            kubernetes_version=str(cluster["kubernetesVersion"]),
            resource_group=cluster.get("resourceGroup"),
            kube_context=cluster.get("kubeContext"),
            oidc_issuer_url=cluster.get("oidcIssuerUrl"),
            kind=cluster.get("kind", "aks"),
            resource_id=cluster.get("resourceId"),
        ),
        values_files=tuple(resolve(p) for p in raw["valuesFiles"]),
        release_name=own_release.get("name", release["name"]),
        namespace=own_release.get("namespace", release["namespace"]),
        subscription_id=raw.get("subscriptionId"),
        identities=tuple(Identity(i["name"], i["clientId"], i.get("resourceId"), i.get("resourceGroup"),
                                  i.get("principalId")) for i in raw.get("identities", [])),
        storage_account=storage.get("account"),
        storage_location=storage.get("location"),
        storage_resource_group=storage.get("resourceGroup"),
        storage_cross_region=storage.get("allowCrossRegion", False),
        quota=Quota(dict(quota.get("families", {})), quota.get("regionalVCpus"), quota.get("spotVCpus"))
        if quota is not None else None,
        manifests=resolve(raw["manifests"]) if raw.get("manifests") else None,
        wave=raw.get("wave", 1),
        failover_peers=tuple(raw.get("failoverPeers", [])),
        role=raw.get("role", WORKER),
        fleet_member=raw.get("fleetMember"),
        inventory=tuple(NodePool(p["name"], p["count"], p.get("vmSize"), p.get("gpus"), p.get("vcpus"),
                                 p.get("memoryGiB"), p.get("gpuModel"), p.get("instanceType"))
                        for p in raw["inventory"]["nodePools"]) if "inventory" in raw else None,
        anyscale=_anyscale(raw["anyscale"], own_release, release, resolve) if "anyscale" in raw else None,
    )


def _anyscale(raw: dict[str, Any], own_release: dict[str, Any], release: dict[str, Any],
              resolve: Any) -> AnyscaleOperator:
    own = raw.get("release", {})
    return AnyscaleOperator(
        chart=resolve(raw["chart"]), version=str(raw["version"]),
        values_files=tuple(resolve(p) for p in raw.get("valuesFiles", [])),
        release_name=own.get("name", "anyscale-operator"),
        namespace=own.get("namespace", own_release.get("namespace", release["namespace"])),
        source=ChartSource(raw["source"]["url"], raw["source"].get("chart"), raw["source"].get("provider", "generic"))
        if "source" in raw else None,
    )


def _waiver(raw: dict[str, Any], index: int, document: LoadedDocument, shown: str) -> Waiver:
    try:
        expires = date.fromisoformat(raw["expires"])
    except ValueError:
        raise InputError(f"{raw['expires']!r} is not a date (YYYY-MM-DD)", file=shown,
                         line=document.line_of(("waivers", index, "expires")),
                         field=f"waivers[{index}].expires") from None
    scope = raw["scope"]
    return Waiver(
        policy=raw["policy"],
        scope=WaiverScope(scope.get("region"), scope.get("kind"), scope.get("namespace"), scope.get("name")),
        reason=raw["reason"],
        owner=raw["owner"],
        expires=expires,
        line=document.line_of(("waivers", index)),
    )


# --- Arc members: the declared inventory as the region's quota (rayfleet.arc) -------------------------


def with_inventory_quotas(regions: list[Region], vm_sizes: dict[str, VmSizeSpec], document: LoadedDocument,
                          shown: str) -> tuple[list[Region], dict[str, VmSizeSpec]]:
    """Regions with each Arc member's inventory as its quota, and the VM sizes with the explicit
    shapes added. Raises ``InputError`` for an inventory on an AKS region, a quota on an Arc
    member, or an explicit shape that reuses a known VM size name."""
    sizes = dict(vm_sizes)
    out: list[Region] = []
    for index, region in enumerate(regions):
        where = ("regions", index)
        if region.inventory is not None and not region.cluster.is_arc:
            raise InputError("inventory is for Arc members (cluster.kind: arc); an AKS region declares quota",
                             file=shown, line=document.line_of((*where, "inventory")),
                             field=f"regions[{index}].inventory")
        if not region.cluster.is_arc:
            out.append(region)
            continue
        if region.quota is not None:
            raise InputError("an Arc member has no Azure quota: declare its GPU node pools under inventory",
                             file=shown, line=document.line_of((*where, "quota")), field=f"regions[{index}].quota")
        for p_index, pool in enumerate(region.inventory or ()):
            if not is_explicit(pool):
                continue
            name = pool.instance_type or pool.name
            taken = {n.lower() for n in sizes} | set(vm_catalogue())
            if name.lower() in taken:
                raise InputError(f"instance type {name!r} is already a VM size; use vmSize: {name} instead of "
                                 "an explicit shape", file=shown,
                                 line=document.line_of((*where, "inventory", "nodePools", p_index)),
                                 field=f"regions[{index}].inventory.nodePools[{p_index}]")
            assert pool.vcpus is not None and pool.gpus is not None
            sizes[name] = VmSizeSpec(pool.vcpus, pool.gpus, shape_family(region.name, pool), pool.memory_gib,
                                     pool.gpu_model)
        out.append(replace(region, quota=_quota(region, sizes)) if region.inventory is not None else region)
    return out, sizes


def _quota(region: Region, sizes: dict[str, VmSizeSpec]) -> Quota:
    families: dict[str, int] = {}
    total = 0
    by_name = {n.lower(): s for n, s in sizes.items()}
    for pool in region.inventory or ():
        if pool_problem(pool):
            continue
        key = (pool.vm_size or pool.instance_type or pool.name).lower()
        spec = by_name.get(key) or vm_catalogue().get(key)
        if spec is None:
            continue  # arc-gpu-inventory reports it
        families[spec.family] = families.get(spec.family, 0) + pool.count * spec.vcpus
        total += pool.count * spec.vcpus
    return Quota(families, total, 0)  # no spot capacity on a cluster the fleet owns outright
