"""Kubernetes objects as rayfleet sees them: the body, and where it came from."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import InputError
from .findings import ObjectRef, SourceLocation
from .locations import helm_template_sources, template_for_line
from .yamlio import MAX_MANIFEST_FILE_BYTES, decode_text, iter_manifest_files, load_manifests, read_text


@dataclass(eq=False)
class KubeObject:
    """One Kubernetes object. ``origin`` is the manifest file and line, or the chart template."""

    body: dict[str, Any]
    origin: SourceLocation
    template: str | None = None

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        """``metadata.name``; for an object named by the server (``generateName``), the prefix and
        ``*`` (never an empty name in a report)."""
        name = self.metadata.get("name")
        if not name and self.generate_name:
            return f"{self.generate_name}*"
        return str(name or "")

    @property
    def generate_name(self) -> str | None:
        """``metadata.generateName`` when the object has no ``metadata.name`` (``kubectl create``)."""
        if self.metadata.get("name"):
            return None
        prefix = self.metadata.get("generateName")
        return str(prefix) if isinstance(prefix, str) and prefix else None

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return str(ns) if ns else None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @cached_property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name)


def objects_from_text(text: str, origin: str, *, template: str | None = None,
                      default_namespace: str | None = None) -> list[KubeObject]:
    """Parse a manifest stream into objects; ``List`` kinds are unpacked.

    Raises ``InputError`` for YAML errors and for documents that are not Kubernetes objects.
    """
    objects: list[KubeObject] = []
    for doc in load_manifests(text, origin):
        for body in _unpack(doc.body, origin, doc.line):
            if default_namespace and isinstance(body.get("metadata"), dict) \
                    and not body["metadata"].get("namespace") and _namespaced(body):
                body["metadata"]["namespace"] = default_namespace
            objects.append(KubeObject(body, SourceLocation(origin, doc.line), template))
    return objects


_CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CSIDriver", "ClusterRole",
    "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "APIService", "IngressClass", "RuntimeClass", "VolumeAttachment",
    "CSINode", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "FlowSchema",
    "PriorityLevelConfiguration",
    # Kueue (kueue.x-k8s.io): every kind but LocalQueue and Workload is cluster-scoped.
    "AdmissionCheck", "ClusterQueue", "Cohort", "MultiKueueCluster", "MultiKueueConfig", "ProvisioningRequestConfig",
    "ResourceFlavor", "Topology", "WorkloadPriorityClass",
}


def _namespaced(body: dict[str, Any]) -> bool:
    return body.get("kind") not in _CLUSTER_SCOPED


def is_cluster_scoped(kind: str) -> bool:
    return kind in _CLUSTER_SCOPED


def _unpack(body: Any, origin: str, line: int) -> Iterator[dict[str, Any]]:
    if not isinstance(body, dict):
        raise InputError(f"document is a {type(body).__name__}, not a Kubernetes object", file=origin, line=line)
    kind = body.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(body.get("items"), list):
        for item in body["items"]:
            yield from _unpack(item, origin, line)
        return
    missing = [k for k in ("apiVersion", "kind") if not isinstance(body.get(k), str) or not body.get(k)]
    if missing:
        raise InputError(f"document is not a Kubernetes object (no {' or '.join(missing)})", file=origin, line=line)
    meta = body.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name") or meta.get("generateName"), str):
        raise InputError(f"{body['kind']} has no metadata.name", file=origin, line=line)
    yield body


def load_manifest_paths(paths: Iterable[str], *, stdin: Any = None, stdin_name: str | None = None) -> list[KubeObject]:
    """Objects from files, folders (recursively, *.yaml|*.yml|*.json) or ``-`` for stdin (whose
    objects say they come from ``stdin_name`` when given, e.g. the chart they were rendered from)."""
    objects: list[KubeObject] = []
    for raw in paths:
        if raw == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read(MAX_MANIFEST_FILE_BYTES + 1)
            if isinstance(data, str):
                data = data.encode()
            text = decode_text(data, "<stdin>", max_bytes=MAX_MANIFEST_FILE_BYTES, label="input")
            found = objects_from_text(text, stdin_name or "<stdin>")
            if stdin_name and (Path(stdin_name) / "Chart.yaml").is_file():
                _templates_from_helm_sources(found, text, stdin_name)
            objects.extend(found)
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError("not found", file=raw)
        files = list(iter_manifest_files(path))
        if path.is_dir() and not files:
            raise InputError("folder holds no .yaml, .yml or .json files", file=raw)
        for file in files:
            text = read_text(file, max_bytes=MAX_MANIFEST_FILE_BYTES, label="manifest file")
            objects.extend(objects_from_text(text, str(file)))
    return objects


def _templates_from_helm_sources(objects: list[KubeObject], text: str, chart_dir: str) -> None:
    """``helm template CHART | rayfleet scan - --stdin-name CHART``: each object's template is
    the file its ``# Source:`` comment names, so findings point at template lines."""
    sources = helm_template_sources(text, chart_dir)
    for obj in objects:
        template = template_for_line(sources, obj.origin.line or 0) if sources else None
        if template is not None:
            obj.template = template
