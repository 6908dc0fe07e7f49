"""Small helpers shared by several policies: Blob CSI objects, mount options, images, GPUs.

Not a policy (the leading underscore keeps it out of the registry meta-test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..manifests import KubeObject
from ..ray_sidecars import configured_containers
from ..secrets import child_path
from ..subjects import ReleaseObjects
from ..wellknown import BLOB_CSI_DRIVER, GPU_RESOURCE, WI_CLIENT_ID, WI_TOKEN_EXPIRATION, WI_USE_LABEL
from ..workloads import PodTemplate

BLOB_DRIVER = BLOB_CSI_DRIVER
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class BlobVolumeConfig:
    """The driver parameters of a blob StorageClass or static PV, keys compared without case."""

    obj: KubeObject
    path: str  # JSON path of the parameters map
    params: dict[str, Any]
    mount_options: list[Any]
    mount_options_path: str
    label: str | None = None  # how to name it when it is not the object itself (inline volumes)
    csi_path: str | None = None  # JSON path of the csi block that may hold *SecretRef (PV, inline)
    csi: dict[str, Any] | None = None

    @property
    def is_pv(self) -> bool:
        return self.obj.kind == "PersistentVolume"

    @property
    def is_storage_class(self) -> bool:
        return self.obj.kind == "StorageClass"

    @property
    def what(self) -> str:
        return self.label or f"{self.obj.kind} {self.obj.name!r}"

    def get_set(self, key: str) -> tuple[str, Any] | None:
        """Like ``get``, but a key written with no value (``MSIEndpoint:``) is not set."""
        found = self.get(key)
        return found if found is not None and is_set(found[1]) else None

    def get(self, key: str) -> tuple[str, Any] | None:
        """(key as written, value) for a key, ignoring case, like the driver does."""
        wanted = key.lower()
        for k, v in self.params.items():
            if str(k).lower() == wanted:
                return str(k), v
        return None

    def key_path(self, key: str) -> str:
        return child_path(self.path, key)


def is_set(value: Any) -> bool:
    """A parameter written with no value (null or blank) is not set: the driver reads it as empty."""
    return value is not None and str(value).strip() != ""


def inline_csi_volumes(release: ReleaseObjects, driver: str) -> Iterator[tuple[PodTemplate, str, dict[str, Any]]]:
    """(pod template, JSON path of the volume, the volume) for inline CSI volumes of a driver."""
    for tpl in release.pod_templates():
        for index, volume in tpl.volumes():
            if as_dict(volume.get("csi")).get("driver") == driver:
                yield tpl, tpl.at(f"volumes[{index}]"), volume


def blob_configs(release: ReleaseObjects) -> Iterator[BlobVolumeConfig]:
    """Every blob StorageClass (``parameters``) and static blob PV (``csi.volumeAttributes``)."""
    for obj in release.of_kind("StorageClass", "PersistentVolume"):
        if obj.kind == "StorageClass":
            if obj.body.get("provisioner") != BLOB_DRIVER:
                continue
            yield BlobVolumeConfig(obj, "parameters", as_dict(obj.body.get("parameters")),
                                   as_list(obj.body.get("mountOptions")), "mountOptions")
        else:
            spec = as_dict(obj.body.get("spec"))
            csi = as_dict(spec.get("csi"))
            if csi.get("driver") != BLOB_DRIVER:
                continue
            yield BlobVolumeConfig(obj, "spec.csi.volumeAttributes", as_dict(csi.get("volumeAttributes")),
                                   as_list(spec.get("mountOptions")), "spec.mountOptions", csi_path="spec.csi",
                                   csi=csi)


def inline_blob_configs(release: ReleaseObjects) -> Iterator[BlobVolumeConfig]:
    """Inline (ephemeral) blob CSI volumes in pod specs: the same attributes as a static PV."""
    for tpl, path, volume in inline_csi_volumes(release, BLOB_DRIVER):
        csi = as_dict(volume.get("csi"))
        attrs = as_dict(csi.get("volumeAttributes"))
        options = attrs.get("mountOptions")
        label = f"inline blob volume {volume.get('name', '?')!r} in {where(tpl)}"
        yield BlobVolumeConfig(tpl.obj, f"{path}.csi.volumeAttributes", attrs,
                               [options] if isinstance(options, str) else [],
                               f"{path}.csi.volumeAttributes.mountOptions", label=label, csi_path=f"{path}.csi",
                               csi=csi)


def is_blobfuse(config: BlobVolumeConfig) -> bool:
    """BlobFuse (not NFS): mount options are BlobFuse2 flags."""
    protocol = config.get("protocol")
    return protocol is None or str(protocol[1]).lower() in ("fuse", "fuse2", "")


def mount_option_flags(options: list[Any]) -> Iterator[tuple[int, str, str]]:
    """(index, flag, the whole option) for each mount option; one option may hold several words
    (``-o allow_other``), and ``--flag=value`` is split at ``=``."""
    for index, raw in enumerate(options):
        if not isinstance(raw, str):
            continue
        for word in raw.split():
            yield index, word.split("=", 1)[0], raw


def has_allow_other(options: list[Any]) -> bool:
    for raw in options:
        if isinstance(raw, str):
            words = raw.replace(",", " ").split()
            if "allow_other" in words or any(w in ("-oallow_other", "-o=allow_other") for w in words):
                return True
    return False


# --- pods ------------------------------------------------------------------------------------

def env_entries(container: dict[str, Any]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(index, name, entry) for each ``env`` entry that is a map with a string name; anything
    else a manifest puts there (a list as a name, a number as an entry) is the schema's to report."""
    for index, entry in enumerate(as_list(container.get("env"))):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            yield index, entry["name"], entry


def container_label(container: dict[str, Any]) -> str:
    return f"container {container.get('name', '?')!r}"


def where(tpl: PodTemplate) -> str:
    """``worker group 'gpu' of RayCluster 'ray'`` / ``Deployment 'x'``."""
    if tpl.role in ("head", "worker", "submitter"):
        return f"{tpl.description} of {tpl.obj.kind} {tpl.obj.name!r}"
    return f"{tpl.obj.kind} {tpl.obj.name!r}"


def sets_service_account(tpl: PodTemplate) -> bool:
    return bool(tpl.spec.get("serviceAccountName") or tpl.spec.get("serviceAccount"))


def without_workload_identity(tpl: PodTemplate) -> bool:
    """A Ray pod group with neither the workload identity label nor a ServiceAccount of its own: one
    root cause, reported once by workload-identity-pod-label (with both fixes)."""
    return tpl.role in ("head", "worker", "submitter") and str(tpl.labels.get(WI_USE_LABEL)) != "true" \
        and not sets_service_account(tpl)


def ray_templates(release: ReleaseObjects) -> Iterator[PodTemplate]:
    """Ray pods: head, worker groups and RayJob submitters."""
    for tpl in release.pod_templates():
        if tpl.role in ("head", "worker", "submitter"):
            yield tpl


def resource_value(container: dict[str, Any], section: str, name: str) -> Any:
    return as_dict(as_dict(container.get("resources")).get(section)).get(name)


def ray_start_params(tpl: PodTemplate) -> dict[str, Any]:
    return as_dict(as_dict(tpl.group_spec).get("rayStartParams"))


# --- images ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"


def parse_image(image: str) -> ImageRef:
    """Split an image reference the way Docker does (``rayproject/ray`` is on docker.io)."""
    rest, _, digest = image.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = "docker.io", rest
        if "/" not in path:
            path = f"library/{path}"
    repository, colon, tag = path.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = path, ""
    return ImageRef(registry.lower(), repository, tag or None, digest or None)


@dataclass(frozen=True)
class ContainerSite:
    """A container wherever it is configured: in a pod template, or in a KubeRay options block."""

    obj: KubeObject
    container: dict[str, Any]
    path: str  # JSON path of the container (or of the options block)
    who: str  # "container 'x' in head of RayCluster 'y'" / "the autoscaler of RayCluster 'y'"
    tpl: PodTemplate | None = None


def every_container(release: ReleaseObjects, *, configured: bool = False) -> Iterator[ContainerSite]:
    """Every container of every pod template, then every container KubeRay adds from a RayCluster
    spec (``rayfleet.ray_sidecars``); ``configured`` also yields option blocks KubeRay ignores for
    now (autoscalerOptions with autoscaling off), for checks on images a spec names."""
    for tpl in release.pod_templates():
        for container, path in tpl.containers():
            yield ContainerSite(tpl.obj, container, path, f"{container_label(container)} in {where(tpl)}", tpl)
    for obj in release.objects:
        for sidecar in configured_containers(obj):
            if sidecar.injected or configured:
                yield ContainerSite(obj, sidecar.fields, sidecar.path, sidecar.who)


def container_images(tpl: PodTemplate) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(container, JSON path of its image, image) for every container with an image."""
    return tpl.images()


# Ray's own images (and mirrors of them keep the name): rayproject/ray, ray-ml, ray-llm, anyscale/ray.
RAY_REPOSITORIES = ("ray", "ray-ml", "ray-llm")
_RAY_IN_TAG = re.compile(r"(?:^|[-_.])ray-?(\d+\.\d+\.\d+)")
_LEADING_VERSION = re.compile(r"^v?(\d+\.\d+\.\d+)")
# Build variants of one Ray release: -gpu, -cpu, -cu121, -cuda12.1, -py311, -py3.12, -aarch64 …
_VARIANT = re.compile(r"-(?:gpu|cpu|cu\d+|cuda[\d.]+|py\d[\d.]*|aarch64|arm64|x86_64|amd64)$")


def strip_variants(tag: str) -> str:
    """``nightly-py311-gpu`` -> ``nightly``: the build variants of one Ray release name one build."""
    while (stripped := _VARIANT.sub("", tag)) != tag:
        tag = stripped
    return tag


def is_ray_image(image: str) -> bool:
    return parse_image(image).repository.rsplit("/", 1)[-1] in RAY_REPOSITORIES


def ray_version_of_image(image: str) -> str | None:
    """The Ray build an image tag names, or None when it names none.

    Ray's images (``rayproject/ray:2.52.0-py311-gpu`` -> ``2.52.0``; ``rayproject/ray:nightly-gpu``
    -> ``nightly``) and any image whose tag says ``ray2.55.1`` (``…:py3.12-ray2.55.1-cuda13.0``).
    Other images' version numbers are not Ray's (``verl:ngc-th2.6.0`` is PyTorch 2.6)."""
    tag = parse_image(image).tag
    if not tag:
        return None
    if match := _RAY_IN_TAG.search(tag):
        return match.group(1)
    if not is_ray_image(image):
        return None
    if match := _LEADING_VERSION.match(tag):
        return match.group(1)
    return strip_variants(tag)


def is_release_version(version: str | None) -> bool:
    """``2.52.0`` is a release; ``nightly`` or a commit tag is not comparable to spec.rayVersion."""
    return bool(version and _LEADING_VERSION.match(version))


def ray_container(tpl: PodTemplate) -> tuple[dict[str, Any], str] | None:
    """The Ray container of a head or worker pod: KubeRay runs Ray in the first container."""
    containers = as_list(tpl.spec.get("containers"))
    if containers and isinstance(containers[0], dict):
        return containers[0], tpl.at("containers[0]")
    return None


# The well-known names are re-exported for policies written against this module (``rayfleet.wellknown`` owns them).
__all__ = [
    "BLOB_DRIVER",
    "GPU_RESOURCE",
    "GUID",
    "RAY_REPOSITORIES",
    "WI_CLIENT_ID",
    "WI_TOKEN_EXPIRATION",
    "WI_USE_LABEL",
    "BlobVolumeConfig",
    "ContainerSite",
    "ImageRef",
    "as_dict",
    "as_list",
    "blob_configs",
    "container_images",
    "container_label",
    "every_container",
    "has_allow_other",
    "inline_blob_configs",
    "inline_csi_volumes",
    "is_blobfuse",
    "is_ray_image",
    "is_release_version",
    "is_set",
    "mount_option_flags",
    "parse_image",
    "ray_container",
    "ray_start_params",
    "ray_templates",
    "ray_version_of_image",
    "resource_value",
    "sets_service_account",
    "strip_variants",
    "where",
    "without_workload_identity",
]
