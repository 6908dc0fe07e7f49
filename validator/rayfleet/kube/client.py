"""One Kubernetes API client per region, from the region's kube context.

Every call goes through the official ``kubernetes`` client. Answers are read as the JSON the API
server sent (``_preload_content=False``), so rayfleet sees exactly what ``kubectl get -o json``
shows and is not tripped by the generated models' client-side validation. Errors become one
``LiveCheckError`` naming the region: a rejected or expired credential (401), a forbidden read
(403), an unreachable server, a missing context. 404 on a named object means "absent" and is
returned as ``None``; 404 on a list or on ``/version`` means the cluster cannot be read (a proxy,
not an API server) and is an error too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ..errors import LiveCheckError
from ..fleet import Region
from ..text import one_line

RAY_GROUP, RAY_VERSION, RAYCLUSTERS = "ray.io", "v1", "rayclusters"
CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 30.0
# A watch's server-side timeout plus this is how long a silent watch (no headers, no events) may
# block a read before it is given up: never much past the caller's deadline.
WATCH_GRACE = 2.0


def _status_message(exc: ApiException) -> str:
    """The ``message`` of a Kubernetes Status body, or the HTTP reason."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body.strip():
        try:
            data = json.loads(body)
        except ValueError:
            return one_line(body)[:200]
        if isinstance(data, dict) and data.get("message"):
            return one_line(data["message"])[:300]
    return one_line(exc.reason or "")


class KubeApi:
    """The few reads (and one watch) rayfleet makes against one region's cluster, and the one
    write of its own: the KubeRay CRDs, applied server-side before a rollout's Helm step."""

    def __init__(self, region: str, api_client: client.ApiClient, *, context: str | None = None) -> None:
        self.region = region
        self.api_client = api_client
        self.context = context
        self.server = api_client.configuration.host
        self._watch_client: client.ApiClient | None = None
        self.request_timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)  # (connect, read) seconds

    @classmethod
    def connect(cls, region: Region, kubeconfig: str | Path | None = None) -> KubeApi:
        """A client for ``region.cluster.kube_context`` from ``kubeconfig`` (default: $KUBECONFIG
        or ~/.kube/config). The fleet file must name the context: rayfleet never falls back to
        the current context, which may be another region's cluster."""
        context = region.cluster.kube_context
        if not context:
            raise LiveCheckError(region.name, "the fleet file names no cluster.kubeContext for this region")
        return cls.connect_context(region.name, context, kubeconfig)

    @classmethod
    def connect_context(cls, label: str, context: str, kubeconfig: str | Path | None = None) -> KubeApi:
        """A client for a named kube context; errors name ``label`` (a region, or the hub)."""
        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=str(kubeconfig) if kubeconfig else None, context=context,
                                    client_configuration=configuration, persist_config=False)
        except ConfigException as exc:
            raise LiveCheckError(label, f"kube context {context!r}: {one_line(exc)}") from None
        except OSError as exc:
            raise LiveCheckError(label, f"kubeconfig {exc.filename or kubeconfig}: "
                                        f"{exc.strerror or exc}") from None
        configuration.retries = 1
        return cls(label, client.ApiClient(configuration), context=context)

    def close(self) -> None:
        self.api_client.close()
        if self._watch_client is not None:
            self._watch_client.close()

    def __enter__(self) -> KubeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- errors -----------------------------------------------------------------------------

    def _where(self) -> str:
        return f"kube context {self.context!r} ({self.server})" if self.context else self.server

    def error(self, exc: BaseException, what: str, verb: str = "read") -> LiveCheckError:
        """The one-line error for a failed call: what failed, where, and what to do."""
        doing = {"read": "reading", "write": "writing"}.get(verb, verb)
        if isinstance(exc, ApiException) and exc.status:
            if exc.status == 401:
                return LiveCheckError(self.region, f"{self._where()} rejected the credentials (401 Unauthorized) "
                                                   f"{doing} {what}: the token expired or is invalid; refresh "
                                                   "them (az aks get-credentials, kubelogin)", status=401)
            if exc.status == 403:
                action = what if what.startswith("server-side apply") else f"{verb} {what}"
                return LiveCheckError(self.region, f"{self._where()}: forbidden to {action}: "
                                                   f"{_status_message(exc)}", status=403)
            return LiveCheckError(self.region, f"{self._where()}: {doing} {what} failed: {exc.status} "
                                               f"{_status_message(exc)}", status=exc.status)
        reason = exc.reason if isinstance(exc, ApiException) else exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            reason = exc.reason
        return LiveCheckError(self.region, f"cannot reach the API server of {self._where()}: "
                                           f"{one_line(reason)[:300]}")

    def call(self, what: str, method: Callable[..., Any], *args: Any, verb: str = "read",
             **kwargs: Any) -> dict[str, Any] | None:
        """One request (a GET unless ``verb`` says otherwise, or the CRD apply): the JSON object, or
        None on 404."""
        try:
            response = method(*args, _preload_content=False, _request_timeout=self.request_timeout, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise self.error(exc, what, verb) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self.error(exc, what, verb) from None
        try:
            data = json.loads(response.data or b"null")
        except ValueError:
            raise LiveCheckError(self.region, f"{self._where()}: {what}: the answer is not JSON") from None
        finally:
            response.release_conn()
        if not isinstance(data, dict):
            raise LiveCheckError(self.region, f"{self._where()}: {what}: the answer is not an object")
        return data

    def _required(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """A GET that an API server always answers: a 404 means this is not one we can read."""
        data = self.call(what, method, *args, **kwargs)
        if data is None:
            raise LiveCheckError(self.region, f"cluster unreadable: {self._where()} answered 404 Not Found "
                                              f"reading {what} (not a Kubernetes API server, or a proxy hiding it)")
        return data

    def _list(self, what: str, method: Callable[..., Any], *args: Any, missing_is_error: bool = True,
              **kwargs: Any) -> list[dict[str, Any]]:
        """Every item, page by page. A built-in list (nodes, webhooks) always exists: a 404 there is
        an unreadable cluster. ``missing_is_error=False``: a 404 is an empty list (a custom resource
        whose CRD is not installed)."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            extra = {"_continue": token} if token else {}
            if missing_is_error:
                page = self._required(what, method, *args, limit=500, **extra, **kwargs)
            else:
                page = self.call(what, method, *args, limit=500, **extra, **kwargs) or {}
            items.extend(i for i in page.get("items") or [] if isinstance(i, dict))
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def list(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a list call, page by page; [] when the API answers 404 (not served)."""
        return self._list(what, method, *args, missing_is_error=False, **kwargs)

    # --- reads ------------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return self._required("the server version (/version)", client.VersionApi(self.api_client).get_code)

    def crd(self, name: str) -> dict[str, Any] | None:
        api = client.ApiextensionsV1Api(self.api_client)
        return self.call(f"CustomResourceDefinition {name}", api.read_custom_resource_definition, name)

    def csi_driver(self, name: str) -> dict[str, Any] | None:
        return self.call(f"CSIDriver {name}", client.StorageV1Api(self.api_client).read_csi_driver, name)

    def mutating_webhook_configurations(self) -> list[dict[str, Any]]:
        api = client.AdmissionregistrationV1Api(self.api_client)
        return self._list("MutatingWebhookConfigurations", api.list_mutating_webhook_configuration)

    def nodes(self) -> list[dict[str, Any]]:
        return self._list("nodes", client.CoreV1Api(self.api_client).list_node)

    def daemon_sets(self) -> list[dict[str, Any]]:
        """Every DaemonSet of the cluster (the Blob CSI node plugin, the NVIDIA device plugin)."""
        return self._list("DaemonSets", client.AppsV1Api(self.api_client).list_daemon_set_for_all_namespaces)

    def apply_crd(self, crd: dict[str, Any], field_manager: str) -> dict[str, Any]:
        """Server-side apply of one CustomResourceDefinition (``kubectl apply --server-side
        --force-conflicts``): the API server merges it, so the KubeRay CRDs (about 1 MB each, over
        the 256 KiB last-applied annotation client-side apply needs) go through, and fields another
        manager (Helm's first install) owned move to ``field_manager``."""
        name = str((crd.get("metadata") or {}).get("name", ""))
        body = {k: v for k, v in crd.items() if k != "status"}
        api = client.ApiextensionsV1Api(self.api_client)
        applied = self.call(f"server-side apply of CustomResourceDefinition {name}",
                            api.patch_custom_resource_definition, name, body, field_manager=field_manager,
                            force=True, _content_type="application/apply-patch+yaml")
        if applied is None:
            raise LiveCheckError(self.region, f"{self._where()}: server-side apply of CustomResourceDefinition "
                                              f"{name} answered 404")
        return applied

    def namespace(self, name: str) -> dict[str, Any] | None:
        return self.call(f"namespace {name}", client.CoreV1Api(self.api_client).read_namespace, name)

    def helmrelease(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Flux HelmRelease (helm.toolkit.fluxcd.io/v2), or None."""
        api = client.CustomObjectsApi(self.api_client)
        return self.call(f"HelmRelease {namespace}/{name}", api.get_namespaced_custom_object,
                         "helm.toolkit.fluxcd.io", "v2", namespace, "helmreleases", name)

    def raycluster(self, namespace: str, name: str) -> tuple[dict[str, Any] | None, str | None]:
        """The RayCluster (or None) and the list's resourceVersion to watch from."""
        api = client.CustomObjectsApi(self.api_client)
        page = self.call(f"RayCluster {namespace}/{name}", api.list_namespaced_custom_object, RAY_GROUP,
                         RAY_VERSION, namespace, RAYCLUSTERS, field_selector=f"metadata.name={name}") or {}
        items = [i for i in page.get("items") or [] if isinstance(i, dict)]
        found = next((i for i in items if (i.get("metadata") or {}).get("name") == name), None)
        return found, (page.get("metadata") or {}).get("resourceVersion")

    def watch_raycluster(self, namespace: str, name: str, resource_version: str | None,
                         seconds: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event type, RayCluster) from a watch that the server ends after ``seconds``. A server
        that stays silent instead ends it too, ``WATCH_GRACE`` later (the read timeout), as the
        server's own end would: the caller's deadline decides, not the network."""
        api = client.CustomObjectsApi(self._watcher())
        watcher = watch.Watch()
        seconds = max(1, seconds)
        kwargs: dict[str, Any] = {"field_selector": f"metadata.name={name}", "timeout_seconds": seconds,
                                  "_request_timeout": (CONNECT_TIMEOUT, seconds + WATCH_GRACE)}
        if resource_version:
            kwargs["resource_version"] = resource_version
        try:
            for event in watcher.stream(api.list_namespaced_custom_object, RAY_GROUP, RAY_VERSION, namespace,
                                        RAYCLUSTERS, **kwargs):
                obj = event.get("raw_object")
                if isinstance(obj, dict):
                    yield str(event.get("type")), obj
        except ApiException as exc:
            if exc.status in (404, 410):  # gone: the caller lists again
                return
            raise self.error(exc, f"a watch on RayCluster {namespace}/{name}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
            if isinstance(reason, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                return  # silent: the same as the server ending the watch
            raise self.error(exc, f"a watch on RayCluster {namespace}/{name}") from None
        finally:
            watcher.stop()

    def _watcher(self) -> client.ApiClient:
        """A client for watches that does not retry: a retried silent watch would wait twice."""
        if self._watch_client is None:
            configuration = copy.deepcopy(self.api_client.configuration)
            configuration.retries = 0
            self._watch_client = client.ApiClient(configuration)
        return self._watch_client
