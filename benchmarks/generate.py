"""Synthetic fleets modelled on examples/fleet.yaml, and their rendered manifests.

A fleet of N regions is written into a folder of its own:

    fleet.yaml                      chart: <repo>/charts/ray-aks (absolute), N regions
    values/platform.yaml            copied from examples/values/platform.yaml
    values/overrides/platform-team.yaml   copied from the example override
    values/regions/<region>.yaml    one per region, shaped like examples/values/regions/*.yaml

Region i takes the i-th of three profiles (H100 on demand, A100, T4 on Spot: the example's three
regions) and an Azure location in turn; its name, cluster, identity (client ID, a GUID),
storage account and worker groups are its own. Everything is derived from the region number,
so a fleet is the same every time it is generated.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples"
CHART = REPO / "charts" / "ray-aks"
TENANT_ID = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
SUBSCRIPTION_ID = "6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
_NAMESPACE = uuid.UUID("5f1d7c3e-9a2b-4c6d-8e0f-1a2b3c4d5e6f")  # uuid5 namespace for the region GUIDs

LOCATIONS = (
    "eastus2", "swedencentral", "westus3", "eastus", "westeurope", "northeurope", "southcentralus",
    "uksouth", "francecentral", "japaneast", "australiaeast", "canadacentral", "centralus",
    "germanywestcentral", "koreacentral", "norwayeast", "switzerlandnorth", "westus2",
)


@dataclass(frozen=True)
class Profile:
    """A GPU flavour of region, after the example's three."""

    vm_size: str
    node_pool: str
    family: str
    cpu: str
    memory: str
    vcpus_per_node: int
    spot: bool = False
    cpu_group: bool = False


PROFILES = (
    Profile("Standard_NC40ads_H100_v5", "h100", "StandardNCadsH100v5Family", "36", "280Gi", 40, cpu_group=True),
    Profile("Standard_NC24ads_A100_v4", "a100", "StandardNCADSA100v4Family", "20", "190Gi", 24),
    Profile("Standard_NC4as_T4_v3", "t4spot", "standardNCASv3_T4Family", "3", "20Gi", 4, spot=True),
)


@dataclass(frozen=True)
class SyntheticRegion:
    index: int
    name: str
    location: str
    cluster: str
    client_id: str
    oidc_guid: str
    storage_account: str
    profile: Profile

    @property
    def resource_group(self) -> str:
        return f"rg-{self.cluster}"


def _guid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(map(str, parts))))


def synthetic_regions(count: int) -> list[SyntheticRegion]:
    """``count`` distinct regions; the first three mirror the example's eastus2, swedencentral, westus3."""
    regions = []
    for i in range(count):
        location = LOCATIONS[i % len(LOCATIONS)]
        name = f"{location}{i // len(LOCATIONS) + 1:03d}" if count > 3 else location
        regions.append(SyntheticRegion(
            index=i, name=name, location=location, cluster=f"rayfleet-r{i:04d}",
            client_id=_guid("client", i), oidc_guid=_guid("oidc", i),
            storage_account=f"rayfleet{i:04d}data", profile=PROFILES[i % len(PROFILES)]))
    return regions


def region_values(region: SyntheticRegion) -> dict:
    """The region's values file: global identity and storage, and its own worker groups."""
    p = region.profile
    gpu = {"vmSize": p.vm_size, "nodePool": p.node_pool, "gpusPerPod": 1, "cpu": p.cpu, "memory": p.memory,
           "minReplicas": 0, "maxReplicas": 2 + region.index % 7}
    if p.spot:
        gpu["spot"] = True
    groups: dict = {"gpu": gpu}
    if p.cpu_group:
        # 40Gi + the shared 16 GiB block-cache pool fits the node (blobfuse-cache-fits-node), as in the example
        groups["cpu"] = {"vmSize": "Standard_D16ds_v5", "nodePool": "raycpu", "cpu": "14", "memory": "40Gi",
                         "minReplicas": 0, "maxReplicas": 2 + region.index % 5}
    values: dict = {
        "global": {
            "region": region.name, "location": region.location, "clusterName": region.cluster,
            "azure": {"clientId": region.client_id},
            "storage": {"account": region.storage_account, "resourceGroup": region.resource_group,
                        "container": "ray-data"},
        },
        "ray-cluster": {"workerGroups": groups},
    }
    if p.spot:  # the example's T4 region: file cache on the temp disk
        values["blob-storage"] = {"cache": {"mode": "file", "fileCacheSizeMb": 20480}}
    values["scheduling"] = {"flavors": _flavors(region)}
    return values


def _flavors(region: SyntheticRegion) -> list[dict]:
    """Kueue flavors like the example regions': the GPU pool (one GPU of queue quota) and the CPU pool."""
    p = region.profile
    labels = {"kubernetes.azure.com/agentpool": p.node_pool, "node.kubernetes.io/instance-type": p.vm_size}
    tolerations = [{"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    if p.spot:
        labels["kubernetes.azure.com/scalesetpriority"] = "spot"
        tolerations.append({"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
                            "effect": "NoSchedule"})
    gpu = {"name": "gpu", "nodeLabels": labels, "nodeTaints": [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}],
           "tolerations": tolerations, "quota": {"cpu": p.cpu, "memory": p.memory, "gpu": 1}}
    cpu = {"name": "cpu", "quota": {"cpu": "16", "memory": "64Gi", "gpu": 0},
           "nodeLabels": {"kubernetes.azure.com/agentpool": "raycpu",
                          "node.kubernetes.io/instance-type": "Standard_D16ds_v5"}}
    return [gpu, cpu]


def _fleet_region(region: SyntheticRegion, regions: list[SyntheticRegion]) -> dict:
    p = region.profile
    gpu_vcpus = p.vcpus_per_node * 16
    quota: dict = {"families": {p.family: gpu_vcpus, "standardDDSv5Family": 200}, "regionalVCpus": gpu_vcpus + 200}
    if p.spot:
        quota = {"families": {"standardDDSv5Family": 50}, "regionalVCpus": 100, "spotVCpus": 64}
    peers = [regions[(region.index + 1) % len(regions)].name] if len(regions) > 1 else []
    return {
        "name": region.name,
        "location": region.location,
        "cluster": {
            "name": region.cluster, "resourceGroup": region.resource_group, "kubeContext": region.cluster,
            "kubernetesVersion": "1.32" if p.spot else "1.33",
            "oidcIssuerUrl": f"https://{region.location}.oic.prod-aks.azure.com/{TENANT_ID}/{region.oidc_guid}/",
        },
        "identities": [{"name": f"id-{region.cluster}", "clientId": region.client_id,
                        "resourceGroup": region.resource_group}],
        "storage": {"account": region.storage_account, "location": region.location,
                    "resourceGroup": region.resource_group},
        "quota": quota,
        "valuesFiles": [f"values/regions/{region.name}.yaml"],
        "wave": 1 if region.index == 0 else 2,
        "failoverPeers": peers,
    }


def fleet_document(regions: list[SyntheticRegion], chart: Path = CHART) -> dict:
    """fleet.yaml for ``regions``, with the example's shared values, override, policy and a waiver."""
    document: dict = {
        "apiVersion": "rayfleet.dev/v1",
        "chart": str(chart.resolve()),
        "release": {"name": "ray", "namespace": "ray"},
        "cloud": "AzurePublicCloud",
        "tenantId": TENANT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "valuesFiles": ["values/platform.yaml"],
        "overrides": ["values/overrides/platform-team.yaml"],
        "policy": {"failover": "best-effort", "gpuTaint": {"key": "sku", "value": "gpu", "effect": "NoSchedule"},
                   "allowedRegistries": ["docker.io/rayproject", "mcr.microsoft.com"]},
        "regions": [_fleet_region(r, regions) for r in regions],
    }
    spot = [r for r in regions if r.profile.spot]
    if spot:
        document["waivers"] = [{
            "policy": "image-digest-pinned", "scope": {"region": spot[0].name},
            "reason": "The T4 spot region tracks the platform image tag; digests are pinned at release time.",
            "owner": "platform-team@example.com", "expires": "2027-06-30"}]
    return document


def _dump(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def generate_fleet(folder: Path, count: int, *, chart: Path = CHART) -> Path:
    """Write a fleet of ``count`` regions into ``folder``; returns the fleet.yaml path."""
    regions = synthetic_regions(count)
    values = folder / "values"
    (values / "overrides").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLE / "values" / "platform.yaml", values / "platform.yaml")
    override = Path("overrides") / "platform-team.yaml"
    shutil.copyfile(EXAMPLE / "values" / override, values / override)
    for region in regions:
        _dump(values / "regions" / f"{region.name}.yaml", region_values(region))
    fleet = folder / "fleet.yaml"
    _dump(fleet, fleet_document(regions, chart))
    return fleet


def write_rendered(fleet_path: Path, out: Path) -> tuple[list[Path], int]:
    """Render every region once and write its objects to ``out/<region>/``, one file per object
    (what ``rayfleet render`` writes). Returns (region folders, object count)."""
    from rayfleet.fleet import load_fleet
    from rayfleet.pipeline import render_fleet
    from rayfleet.rendered_output import write_objects

    renders = render_fleet(load_fleet(fleet_path))
    folders, objects = [], 0
    for name, render in renders.items():
        if not render.rendered:
            raise RuntimeError(f"region {name} does not render: {[f.message for f in render.findings]}")
        folder = out / name
        objects += len(write_objects(render.release.objects, folder))
        folders.append(folder)
    return folders, objects
