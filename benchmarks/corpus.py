"""Planted credentials and misconfigurations, one class per manifest, and how each tool did.

Every class is built from a clean base object (the chart's own rendered RayCluster, StorageClass
and test Pod, or a small ConfigMap/Secret) and written twice:

    <folder>/planted/<class>.yaml   the base with the one thing planted
    <folder>/control/<class>.yaml   the same base, clean

A tool *finds* a class when it reports, on the planted file, a failed check (checkov check ID,
rayfleet policy ID) that it does not report on the control file. The control makes the test fair
to a tool with many generic checks: checkov fails a dozen best-practice checks on any Pod, and
none of those say anything about the plant.

The credentials are made up, shaped like the real thing (an 88-character base64 account key, an
Entra client secret "xxxNQ~...", a SAS query string, a JWT, a PEM block); none is valid anywhere.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_rng = random.Random(20260826)  # fixed seed: the corpus is the same every run
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(n: int, alphabet: str = _B64) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


ACCOUNT_KEY = base64.b64encode(_rng.randbytes(64)).decode()  # 88 characters, ends in "=="
CONNECTION_STRING = ("DefaultEndpointsProtocol=https;AccountName=rayfleet0000data;"
                     f"AccountKey={ACCOUNT_KEY};EndpointSuffix=core.windows.net")
SAS_URL = ("https://rayfleet0000data.blob.core.windows.net/ray-data?sv=2022-11-02&ss=b&srt=co&sp=rl"
           f"&se=2026-12-31T00:00:00Z&st=2026-01-01T00:00:00Z&spr=https&sig={_token(43)}%3D")
CLIENT_SECRET = f"{_token(3)}8Q~{_token(34, _B64 + '_-.~')}"
JWT = ".".join([
    base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()).decode().rstrip("="),
    base64.urlsafe_b64encode(json.dumps({"aud": "api://ray", "iss": "https://sts.windows.net/x/",
                                         "sub": "ray-dashboard", "exp": 1893456000}).encode()).decode().rstrip("="),
    base64.urlsafe_b64encode(_rng.randbytes(64)).decode().rstrip("="),
])
_KEY_BODY = base64.b64encode(_rng.randbytes(600)).decode()
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\n"
               + "\n".join(_KEY_BODY[i:i + 64] for i in range(0, len(_KEY_BODY), 64))
               + "\n-----END RSA PRIVATE KEY-----\n")


@dataclass(frozen=True)
class PlantClass:
    id: str
    kind: str  # "credential" or "misconfiguration"
    description: str
    base: str  # which base object: raycluster, storageclass, pod, configmap, secret
    plant: Callable[[dict[str, Any]], None]  # mutates a deep copy of the base


# --- where things go in the bases ---------------------------------------------------------------

def _pod_container(obj: dict) -> dict:
    return obj["spec"]["containers"][0]


def _head(obj: dict) -> dict:
    return obj["spec"]["headGroupSpec"]["template"]["spec"]


def _worker(obj: dict) -> dict:
    return obj["spec"]["workerGroupSpecs"][0]["template"]["spec"]


def _add_env(container: dict, name: str, value: str | None = None, **extra: Any) -> None:
    entry: dict[str, Any] = {"name": name, **extra}
    if value is not None:
        entry["value"] = value
    container.setdefault("env", []).append(entry)


def _plant_hostpath(obj: dict) -> None:
    spec = _head(obj)
    spec["volumes"].append({"name": "docker-sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}})
    spec["containers"][0]["volumeMounts"].append({"name": "docker-sock", "mountPath": "/var/run/docker.sock"})


def _plant_privileged(container: dict) -> None:
    container["securityContext"].update(privileged=True, allowPrivilegeEscalation=True)


def _plant_latest(obj: dict) -> None:
    for spec in (_head(obj), *(g["template"]["spec"] for g in obj["spec"]["workerGroupSpecs"])):
        for container in spec["containers"]:
            if container["image"].startswith("rayproject/ray"):
                container["image"] = "rayproject/ray:latest"


def _plant_store_key_default(obj: dict) -> None:
    obj["parameters"].pop("mountWithWorkloadIdentityToken", None)
    obj["parameters"].pop("storeAccountKey", None)


CLASSES: tuple[PlantClass, ...] = (
    PlantClass("account-key-env", "credential", "storage account key as a Pod env value", "pod",
               lambda o: _add_env(_pod_container(o), "STORAGE_ACCOUNT_KEY", ACCOUNT_KEY)),
    PlantClass("account-key-raycluster-env", "credential", "storage account key in a RayCluster worker env",
               "raycluster", lambda o: _add_env(_worker(o)["containers"][0], "AZURE_STORAGE_KEY", ACCOUNT_KEY)),
    PlantClass("connection-string-configmap", "credential", "storage connection string in a ConfigMap", "configmap",
               lambda o: o["data"].update({"blob.conf": CONNECTION_STRING})),
    PlantClass("sas-token-args", "credential", "SAS token in container args", "pod",
               lambda o: _pod_container(o).setdefault("args", []).append(f"--source={SAS_URL}")),
    PlantClass("client-secret-secret", "credential", "Entra client secret in a Secret (stringData)", "secret",
               lambda o: o["stringData"].update({"AZURE_CLIENT_SECRET": CLIENT_SECRET})),
    PlantClass("account-key-secret", "credential", "Blob CSI account-key Secret (base64 data)", "secret",
               lambda o: o.setdefault("data", {}).update(
                   {"azurestorageaccountname": base64.b64encode(b"rayfleet0000data").decode(),
                    "azurestorageaccountkey": base64.b64encode(ACCOUNT_KEY.encode()).decode()})),
    PlantClass("private-key-configmap", "credential", "PEM private key in a ConfigMap", "configmap",
               lambda o: o["data"].update({"tls.key": PRIVATE_KEY})),
    PlantClass("jwt-raycluster-env", "credential", "JWT in a RayCluster head env", "raycluster",
               lambda o: _add_env(_head(o)["containers"][0], "RAY_DASHBOARD_TOKEN", JWT)),
    PlantClass("client-secret-env-ref", "credential",
               "AZURE_CLIENT_SECRET env (from a Secret): overrides workload identity", "pod",
               lambda o: _add_env(_pod_container(o), "AZURE_CLIENT_SECRET",
                                  valueFrom={"secretKeyRef": {"name": "sp-secret", "key": "secret"}})),
    PlantClass("blob-storageclass-secretname", "misconfiguration", "secretName in a Blob CSI StorageClass",
               "storageclass", lambda o: o["parameters"].update(
                   {"secretName": "azure-storage-account-rayfleet0000data-secret", "secretNamespace": "ray"})),
    PlantClass("store-account-key-default", "misconfiguration",
               "Blob StorageClass without token mode: storeAccountKey defaults to true", "storageclass",
               _plant_store_key_default),
    PlantClass("privileged-pod", "misconfiguration", "privileged container in a Pod", "pod",
               lambda o: _plant_privileged(_pod_container(o))),
    PlantClass("privileged-raycluster-worker", "misconfiguration", "privileged container in a RayCluster worker group",
               "raycluster", lambda o: _plant_privileged(_worker(o)["containers"][0])),
    PlantClass("hostpath-raycluster-head", "misconfiguration", "hostPath volume (docker.sock) in a RayCluster head",
               "raycluster", _plant_hostpath),
    PlantClass("host-network-raycluster-head", "misconfiguration", "hostNetwork in a RayCluster head", "raycluster",
               lambda o: _head(o).update(hostNetwork=True)),
    PlantClass("image-latest-raycluster", "misconfiguration", "image :latest in a RayCluster", "raycluster",
               _plant_latest),
    PlantClass("sys-admin-capability-pod", "misconfiguration", "SYS_ADMIN capability added in a Pod", "pod",
               lambda o: _pod_container(o)["securityContext"].setdefault("capabilities", {}).update(add=["SYS_ADMIN"])),
)


def _small_bases() -> dict[str, dict]:
    return {
        "configmap": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ray-config", "namespace": "ray"},
                      "data": {"LOG_LEVEL": "info", "RAY_DATA_PATH": "/mnt/data"}},
        "secret": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ray-settings", "namespace": "ray"},
                   "type": "Opaque", "stringData": {"LOG_LEVEL": "info"}},
    }


def bases_from_rendered(region_folder: Path) -> dict[str, dict]:
    """The chart's own RayCluster, StorageClass and test Pod from one region's rendered folder,
    plus a plain ConfigMap and Secret."""
    bases = _small_bases()
    for file in sorted(region_folder.glob("*.yaml")):
        body = yaml.safe_load(file.read_text(encoding="utf-8"))
        key = {"RayCluster": "raycluster", "StorageClass": "storageclass", "Pod": "pod"}.get(body.get("kind"))
        if key and key not in bases:
            bases[key] = body
    missing = {c.base for c in CLASSES} - bases.keys()
    if missing:
        raise RuntimeError(f"{region_folder}: no base object for {sorted(missing)}")
    return bases


def write_corpus(folder: Path, bases: dict[str, dict]) -> tuple[Path, Path]:
    """Write planted/ and control/ (one file per class); returns both folders."""
    planted, control = folder / "planted", folder / "control"
    for out in (planted, control):
        out.mkdir(parents=True, exist_ok=True)
    for cls in CLASSES:
        clean = copy.deepcopy(bases[cls.base])
        clean["metadata"]["name"] = cls.id  # one name per class: findings map back without doubt
        dirty = copy.deepcopy(clean)
        cls.plant(dirty)
        (control / f"{cls.id}.yaml").write_text(yaml.safe_dump(clean, sort_keys=False), encoding="utf-8")
        (planted / f"{cls.id}.yaml").write_text(yaml.safe_dump(dirty, sort_keys=False), encoding="utf-8")
    return planted, control


# --- reading each tool's findings: class id -> set of check IDs ---------------------------------

def rayfleet_failures(report: dict) -> dict[str, set[str]]:
    """From ``rayfleet scan --report json=...``: policy IDs per corpus object (named after its
    class), else per file."""
    out: dict[str, set[str]] = {}
    for finding in report.get("findings", []):
        obj = finding.get("object") or {}
        source = finding.get("source") or {}
        key = obj.get("name") or (Path(source["file"]).stem if source.get("file") else None)
        if key:
            out.setdefault(key, set()).add(finding["policy"])
    return out


def checkov_failures(report: Any) -> dict[str, set[str]]:
    """From ``checkov -o json``: failed check IDs per corpus file (a list of reports, one per
    framework, or one report, or a bare summary when nothing was scanned)."""
    reports = report if isinstance(report, list) else [report]
    out: dict[str, set[str]] = {}
    for item in reports:
        for check in (item.get("results") or {}).get("failed_checks", []):
            out.setdefault(Path(check["file_path"]).stem, set()).add(check["check_id"])
    return out


@dataclass
class Detection:
    cls: PlantClass
    found: dict[str, bool]  # tool -> found
    evidence: dict[str, list[str]]  # tool -> check IDs on the planted file only


def score(per_tool: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]]) -> list[Detection]:
    """``per_tool``: tool -> (failures on planted/, failures on control/)."""
    rows = []
    for cls in CLASSES:
        found, evidence = {}, {}
        for tool, (planted, control) in per_tool.items():
            new = sorted(planted.get(cls.id, set()) - control.get(cls.id, set()))
            found[tool], evidence[tool] = bool(new), new
        rows.append(Detection(cls, found, evidence))
    return rows
