"""``rayfleet scheduling sync``: fill the workers' ClusterProfiles on the MultiKueue manager.

Kueue builds its connection to a worker from the worker's ClusterProfile: ``status.accessProviders``
gives the API server URL and CA, and the access provider's name selects the exec plugin (kubelogin
under workload identity) configured in Kueue's ``multiKueue.clusterProfile.accessProviders``.
Helm cannot write ``status`` (it is a subresource), so this module does, from each worker's kube
context in the kubeconfig (the same cluster facts ``kubectl`` uses), with the official
``kubernetes`` client against the manager:

* find the ClusterProfiles labelled ``rayfleet.io/region`` (any namespace) on the manager;
* per worker region, compare the access provider entry with the kubeconfig's server and CA;
* PATCH ``.../clusterprofiles/<name>/status`` (JSON merge patch of the whole ``accessProviders``
  list, keeping other providers' entries) only when it differs: running it twice writes nothing.

The kubeconfig is read as YAML for the cluster entries only: loading a context through the
client would also run its credential plugin (kubelogin) for every worker, just to learn a URL.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from .errors import InputError, LiveCheckError
from .fleet import Fleet, Region
from .kube.client import KubeApi
from .kueue import REGION_LABEL

GROUP, VERSION, PLURAL = "multicluster.x-k8s.io", "v1alpha1", "clusterprofiles"
ACCESS_PROVIDER = "azure-workload-identity"  # = the name in Kueue's multiKueue.clusterProfile.accessProviders


@dataclass(frozen=True)
class ClusterFacts:
    """How to reach one worker's API server, from its kube context."""

    region: str
    context: str
    server: str
    ca_data: str  # base64 PEM, as certificate-authority-data

    def access_provider(self, name: str = ACCESS_PROVIDER) -> dict[str, Any]:
        return {"name": name, "cluster": {"server": self.server, "certificate-authority-data": self.ca_data}}


@dataclass(frozen=True)
class SyncAction:
    """What sync did (or would do) for one worker."""

    region: str
    profile: str  # namespace/name on the manager
    state: str  # "unchanged" | "updated" | "would update"
    server: str

    def describe(self) -> str:
        return f"{self.region}: ClusterProfile {self.profile} {self.state} (server {self.server})"


# --- the kubeconfig ------------------------------------------------------------------------------


def _kubeconfig_paths(kubeconfig: str | Path | None) -> list[Path]:
    if kubeconfig:
        return [Path(kubeconfig)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def _load_kubeconfigs(paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    loaded = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read kubeconfig: {exc.strerror or exc}", file=str(path)) from None
        except yaml.YAMLError as exc:
            raise InputError(f"kubeconfig is not YAML: {str(exc).splitlines()[0]}", file=str(path)) from None
        if not isinstance(data, dict):
            raise InputError("kubeconfig is not a mapping", file=str(path))
        loaded.append((path, data))
    return loaded


def _named(data: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in data.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            inner = entry.get(section[:-1])  # contexts[].context, clusters[].cluster
            return inner if isinstance(inner, dict) else {}
    return None


def cluster_facts(region: Region, kubeconfig: str | Path | None = None) -> ClusterFacts:
    """Server URL and CA of a region's kube context (first kubeconfig file that has it wins, as
    kubectl merges $KUBECONFIG). Raises ``InputError`` naming the file and what is missing."""
    context_name = region.cluster.kube_context
    if not context_name:
        raise InputError(f"region {region.name}: the fleet file names no cluster.kubeContext")
    files = _load_kubeconfigs(_kubeconfig_paths(kubeconfig))
    context = next((c for _, data in files if (c := _named(data, "contexts", context_name)) is not None), None)
    if context is None:
        raise InputError(f"region {region.name}: no context {context_name!r} in the kubeconfig",
                         file=", ".join(str(p) for p, _ in files))
    cluster_name = context.get("cluster")
    found = next(((p, c) for p, data in files if (c := _named(data, "clusters", str(cluster_name))) is not None), None)
    if found is None:
        raise InputError(f"region {region.name}: context {context_name!r} names cluster {cluster_name!r}, which "
                         "the kubeconfig does not define", file=", ".join(str(p) for p, _ in files))
    path, cluster = found
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith("https://"):
        raise InputError(f"region {region.name}: cluster {cluster_name!r} has no https:// server URL", file=str(path))
    if cluster.get("insecure-skip-tls-verify"):
        raise InputError(f"region {region.name}: cluster {cluster_name!r} skips TLS verification; the manager "
                         "needs the worker's CA", file=str(path))
    ca_data = cluster.get("certificate-authority-data")
    if not ca_data and cluster.get("certificate-authority"):
        ca_path = Path(str(cluster["certificate-authority"]))
        ca_path = ca_path if ca_path.is_absolute() else path.parent / ca_path
        try:
            ca_data = base64.b64encode(ca_path.read_bytes()).decode()
        except OSError as exc:
            raise InputError(f"region {region.name}: cannot read the CA file of cluster {cluster_name!r}: "
                             f"{exc.strerror or exc}", file=str(ca_path)) from None
    if not ca_data:
        raise InputError(f"region {region.name}: cluster {cluster_name!r} has no certificate-authority-data "
                         "(Kueue needs the worker's CA)", file=str(path))
    return ClusterFacts(region.name, context_name, server, str(ca_data))


# --- the manager ---------------------------------------------------------------------------------


def _profiles(api: KubeApi) -> dict[str, dict[str, Any]]:
    """Region -> ClusterProfile on the manager (by the rayfleet.io/region label)."""
    custom = client.CustomObjectsApi(api.api_client)
    page = api.call("ClusterProfiles", custom.list_cluster_custom_object, GROUP, VERSION, PLURAL,
                    label_selector=REGION_LABEL)
    if page is None:
        raise LiveCheckError(api.region, f"{PLURAL}.{GROUP} is not served: install the ClusterProfile CRD "
                                         "(the Kueue manager release does) before syncing")
    out: dict[str, dict[str, Any]] = {}
    for item in page.get("items") or []:
        labels = (item.get("metadata") or {}).get("labels") or {}
        if isinstance(labels, dict) and labels.get(REGION_LABEL):
            out[str(labels[REGION_LABEL])] = item
    return out


def _merged(current: list[Any], wanted: dict[str, Any]) -> list[Any]:
    """The accessProviders list with ours replaced (or added), other providers kept in place."""
    others = [p for p in current if not (isinstance(p, dict) and p.get("name") == wanted["name"])]
    index = next((i for i, p in enumerate(current) if isinstance(p, dict) and p.get("name") == wanted["name"]),
                 len(others))
    return [*others[:index], wanted, *others[index:]]


def sync_cluster_profiles(fleet: Fleet, *, kubeconfig: str | Path | None = None, dry_run: bool = False,
                          regions: Sequence[str] | None = None, provider: str = ACCESS_PROVIDER) -> list[SyncAction]:
    """Write each worker's server and CA into its ClusterProfile's status on the manager.

    Reads every worker's facts first (so bad input fails before any write), then one GET of the
    ClusterProfiles and one status PATCH per ClusterProfile that differs. Raises ``InputError``
    (kubeconfig, fleet) or ``LiveCheckError`` (the manager's API).
    """
    manager = fleet.manager
    if fleet.scheduling is None or manager is None:
        raise InputError("the fleet has no scheduling section and no manager region: nothing to sync",
                         file=str(fleet.path))
    workers = [r for r in fleet.select(regions) if r.role != "manager"]
    facts = [cluster_facts(r, kubeconfig) for r in workers]
    actions: list[SyncAction] = []
    with KubeApi.connect(manager, kubeconfig) as api:
        profiles = _profiles(api)
        custom = client.CustomObjectsApi(api.api_client)
        for fact in facts:
            profile = profiles.get(fact.region)
            if profile is None:
                raise LiveCheckError(manager.name, f"no ClusterProfile labelled {REGION_LABEL}={fact.region} on the "
                                                   "manager: roll out the manager's release first")
            meta = profile.get("metadata") or {}
            namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
            status = profile.get("status") if isinstance(profile.get("status"), dict) else {}
            current = status.get("accessProviders") if isinstance(status.get("accessProviders"), list) else []
            wanted = _merged(current, fact.access_provider(provider))
            where = f"{namespace}/{name}"
            if wanted == current:
                actions.append(SyncAction(fact.region, where, "unchanged", fact.server))
                continue
            if dry_run:
                actions.append(SyncAction(fact.region, where, "would update", fact.server))
                continue
            written = api.call(f"the status of ClusterProfile {where}", custom.patch_namespaced_custom_object_status,
                               GROUP, VERSION, namespace, PLURAL, name, {"status": {"accessProviders": wanted}},
                               verb="write", _content_type="application/merge-patch+json")
            if written is None:
                raise LiveCheckError(manager.name, f"ClusterProfile {where} disappeared while syncing (404)")
            actions.append(SyncAction(fact.region, where, "updated", fact.server))
    return actions
