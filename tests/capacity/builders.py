"""Fleets built for capacity tests: RayClusters with chosen worker groups, regions with quotas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rayfleet.fleet import load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.subjects import FleetView, ReleaseObjects


def group(name: str, vm: str | None, *, gpus: int = 0, cpu: str = "8", memory: str = "32Gi",
          max_replicas: int | None = 2, spot: bool = False, extra_selector: dict[str, str] | None = None,
          **fields: Any) -> dict[str, Any]:
    """A worker group as the chart renders it (requests = limits, instance-type nodeSelector)."""
    resources: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpus:
        resources["nvidia.com/gpu"] = str(gpus)
    selector: dict[str, str] = dict(extra_selector or {})
    if vm:
        selector["node.kubernetes.io/instance-type"] = vm
    if spot:
        selector["kubernetes.azure.com/scalesetpriority"] = "spot"
    spec: dict[str, Any] = {"containers": [{"name": "ray-worker", "image": "rayproject/ray:2.49.0",
                                            "resources": {"requests": resources, "limits": dict(resources)}}]}
    if selector:
        spec["nodeSelector"] = selector
    out: dict[str, Any] = {"groupName": name, "minReplicas": 0, "template": {"spec": spec}, **fields}
    if max_replicas is not None:
        out["maxReplicas"] = max_replicas
    return out


def ray_cluster(name: str, groups: list[dict[str, Any]], *, head_vm: str | None = None, head_cpu: str = "4",
                kind: str = "RayCluster", autoscaling: bool = True) -> dict[str, Any]:
    head_spec: dict[str, Any] = {"containers": [{"name": "ray-head", "image": "rayproject/ray:2.49.0",
                                                 "resources": {"requests": {"cpu": head_cpu, "memory": "16Gi"},
                                                               "limits": {"cpu": head_cpu, "memory": "16Gi"}}}]}
    if head_vm:
        head_spec["nodeSelector"] = {"node.kubernetes.io/instance-type": head_vm}
    cluster = {"enableInTreeAutoscaling": autoscaling, "rayVersion": "2.49.0",
               "headGroupSpec": {"rayStartParams": {}, "template": {"spec": head_spec}},
               "workerGroupSpecs": groups}
    body: dict[str, Any] = {"apiVersion": "ray.io/v1", "kind": kind, "metadata": {"name": name, "namespace": "ray"}}
    if kind == "RayCluster":
        body["spec"] = cluster
    elif kind == "RayJob":
        body["spec"] = {"entrypoint": "python train.py", "rayClusterSpec": cluster}
    else:
        body["spec"] = {"rayClusterConfig": cluster}
    return body


def region(name: str, objects: list[dict[str, Any]], *, quota: dict[str, Any] | None = None,
           peers: list[str] | None = None, location: str | None = None) -> dict[str, Any]:
    """A region entry plus the objects to write beside the fleet file (key ``_objects``)."""
    entry: dict[str, Any] = {"name": name, "location": location or name.replace("-", ""),
                             "cluster": {"name": f"aks-{name}", "kubernetesVersion": "1.33"},
                             "valuesFiles": [], "manifests": f"{name}.yaml", "_objects": objects}
    if quota is not None:
        entry["quota"] = quota
    if peers is not None:
        entry["failoverPeers"] = peers
    return entry


def write_fleet(folder: Path, regions: list[dict[str, Any]], *, failover: str | None = None,
                vm_sizes: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"apiVersion": "rayfleet.dev/v1", "chart": "chart",
                           "release": {"name": "ray", "namespace": "ray"},
                           "subscriptionId": "00000000-0000-0000-0000-000000000001", "regions": []}
    if failover:
        doc["policy"] = {"failover": failover}
    if vm_sizes:
        doc["vmSizes"] = vm_sizes
    doc.update(extra or {})
    for entry in regions:
        entry = dict(entry)
        objects = entry.pop("_objects")
        (folder / entry["manifests"]).write_text(yaml.safe_dump_all(objects, sort_keys=False))
        doc["regions"].append(entry)
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def fleet_view(path: Path) -> FleetView:
    """Every region's release from its manifests (no chart rendering)."""
    fleet = load_fleet(path)
    releases = {}
    for r in fleet.regions:
        assert r.manifests is not None
        objects = objects_from_text(r.manifests.read_text(), str(r.manifests), default_namespace=r.namespace)
        releases[r.name] = ReleaseObjects(objects, fleet.settings, r.cluster.kubernetes_version, r, fleet)
    return FleetView(fleet, releases)


def build(tmp_path: Path, regions: list[dict[str, Any]], **kwargs: Any) -> FleetView:
    return fleet_view(write_fleet(tmp_path, regions, **kwargs))
