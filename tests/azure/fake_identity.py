"""Managed identities, managed clusters and Blob storage, on top of ``fake_azure``.

``fake_azure`` gives the Entra ID token endpoint (``FakeEntra``) and ARM with its bearer-token
check, throttling and stalling (``FakeArm``). This adds, with shapes from the public REST
references:

- Entra ID as workload identity sees it: a client that is a managed identity here gets a token
  only when the assertion's (iss, sub, aud) matches one of its federated credentials, the check
  Entra ID makes; otherwise ``AADSTS70021`` ("No matching federated identity record found for
  presented assertion. Assertion Issuer: '…'. Assertion Subject: '…'. Assertion Audience: '…'.")
  or ``AADSTS700212`` for the audience. Other clients (a CI pipeline's) fall back to ``FakeEntra``.
- ARM (api-version 2023-01-31) ``GET …/userAssignedIdentities/{name}/federatedIdentityCredentials``:
  ``{"value": [{"id", "name", "type", "properties": {"issuer", "subject", "audiences"}}],
  "nextLink"}`` (paged), and ``GET /subscriptions/{sub}/providers/Microsoft.ManagedIdentity/
  userAssignedIdentities`` (``properties.clientId``).
- ARM (api-version 2024-09-01) ``GET …/managedClusters/{name}``: ``properties.oidcIssuerProfile.
  {enabled, issuerURL}``, ``properties.securityProfile.workloadIdentity.enabled``,
  ``properties.storageProfile.blobCSIDriver.enabled``.
- ARM (api-version 2024-07-15-preview) ``GET …/Microsoft.Kubernetes/connectedClusters/{name}``: an
  Arc-enabled cluster, ``properties.oidcIssuerProfile.{enabled, issuerUrl, selfHostedIssuerUrl}``
  (spelled ``issuerUrl``, unlike AKS's ``issuerURL``), ``properties.securityProfile.workloadIdentity.enabled``.
- ARM (api-version 2023-05-01) ``GET …/storageAccounts/{name}``: ``kind``, ``properties.isHnsEnabled``;
  (api-version 2022-04-01) ``GET {scope}/providers/Microsoft.Authorization/roleAssignments
  ?$filter=atScope()``: the assignments at that scope and above it (``properties.{roleDefinitionId,
  principalId, principalType, scope}``). Managed clusters carry ``identity.{type, principalId}``.
- ARM (api-version 2022-04-01) ``GET {cluster}/providers/Microsoft.Authorization/roleAssignments
  ?$filter=principalId eq '…'``: the principal's assignments at, above and below the cluster
  (``properties.{scope, principalId, roleDefinitionId, condition, conditionVersion}``), paged; and
  ``GET /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{id}``
  (``properties.{roleName, type, permissions[{actions, notActions, dataActions, notDataActions}]}``).
- Blob ``GET /{container}?restype=container&comp=list``: ``<EnumerationResults>``; errors carry
  ``x-ms-error-code`` and an XML ``<Error><Code>`` body.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.azure.fake_azure import FakeArm, FakeEntra, arm_error, entra_error, jwt
from tests.support.https_server import HttpsServer, Reply, Request

AUDIENCE = "api://AzureADTokenExchange"
_SEG = r"[^/]+"
make_jwt = jwt


def _guid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def sa_token(issuer: str, namespace: str, name: str, *, audience: str = AUDIENCE, ttl: int = 3600) -> str:
    """A projected ServiceAccount token as kubelet writes it (unsigned here)."""
    now = int(time.time())
    return jwt({"aud": [audience], "exp": now + ttl, "iat": now, "iss": issuer, "nbf": now,
                "sub": f"system:serviceaccount:{namespace}:{name}",
                "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name}}})


@dataclass
class FakeIdentity:
    subscription: str
    resource_group: str
    name: str
    client_id: str
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)  # FIC name -> properties

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{self.name}")

    def add(self, name: str, issuer: str, subject: str, audiences: list[str] | None = None) -> None:
        """Create or replace a federated credential (PUT semantics: same name replaces)."""
        self.credentials[name] = {"issuer": issuer, "subject": subject, "audiences": audiences or [AUDIENCE]}


@dataclass
class FakeConnectedCluster:
    """An Azure Arc-enabled Kubernetes cluster as ARM reports it."""

    subscription: str
    resource_group: str
    name: str
    location: str
    issuer: str | None
    oidc_enabled: bool = True
    self_hosted: bool = False  # the cluster serves its own issuer (selfHostedIssuerUrl) instead of Arc's
    workload_identity: bool = True

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.Kubernetes/connectedClusters/{self.name}")

    def body(self) -> dict[str, Any]:
        oidc: dict[str, Any] = {"enabled": self.oidc_enabled}
        if self.oidc_enabled and self.issuer:
            oidc["selfHostedIssuerUrl" if self.self_hosted else "issuerUrl"] = self.issuer
        return {
            "id": self.id, "name": self.name, "location": self.location, "kind": "ProvisionedCluster",
            "type": "Microsoft.Kubernetes/connectedClusters", "identity": {"type": "SystemAssigned"},
            "properties": {
                "provisioningState": "Succeeded", "connectivityStatus": "Connected", "agentVersion": "1.21.10",
                "kubernetesVersion": "1.32.4", "distribution": "k3s", "infrastructure": "generic",
                "totalNodeCount": 6, "totalCoreCount": 400, "oidcIssuerProfile": oidc,
                "securityProfile": {"workloadIdentity": {"enabled": self.workload_identity}},
            },
        }


@dataclass
class FakeCluster:
    subscription: str
    resource_group: str
    name: str
    location: str
    issuer: str | None
    oidc_enabled: bool = True
    workload_identity: bool = True
    blob_driver: bool = True
    user_assigned: bool = False  # a user-assigned control-plane identity instead of a system-assigned one

    @property
    def principal_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aks-control-plane/{self.resource_group}/{self.name}"))

    def identity(self) -> dict[str, Any]:
        tenant = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01"
        if self.user_assigned:
            uami = (f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}/providers/"
                    f"Microsoft.ManagedIdentity/userAssignedIdentities/{self.name}-control-plane")
            return {"type": "UserAssigned", "userAssignedIdentities": {
                uami: {"principalId": self.principal_id, "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, uami))}}}
        return {"type": "SystemAssigned", "principalId": self.principal_id, "tenantId": tenant}

    def body(self) -> dict[str, Any]:
        oidc: dict[str, Any] = {"enabled": self.oidc_enabled}
        if self.oidc_enabled and self.issuer:
            oidc["issuerURL"] = self.issuer
        return {
            "id": (f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}/providers/"
                   f"Microsoft.ContainerService/managedClusters/{self.name}"),
            "location": self.location, "name": self.name, "type": "Microsoft.ContainerService/ManagedClusters",
            "identity": self.identity(),
            "properties": {
                "provisioningState": "Succeeded", "kubernetesVersion": "1.33.2", "currentKubernetesVersion": "1.33.2",
                "dnsPrefix": self.name, "fqdn": f"{self.name}-abcd1234.hcp.{self.location}.azmk8s.io",
                "nodeResourceGroup": f"MC_{self.resource_group}_{self.name}_{self.location}",
                "enableRBAC": True,
                "oidcIssuerProfile": oidc,
                "securityProfile": {"workloadIdentity": {"enabled": self.workload_identity}},
                "storageProfile": {"blobCSIDriver": {"enabled": self.blob_driver},
                                   "diskCSIDriver": {"enabled": True, "version": "v1"},
                                   "fileCSIDriver": {"enabled": True}, "snapshotController": {"enabled": True}},
            },
        }


class WorkloadIdentityEntra(FakeEntra):
    """``FakeEntra`` that checks a managed identity's client assertion against its federated
    credentials. ``forced_error`` = (AADSTS code, description) answers every such exchange."""

    def __init__(self, server: HttpsServer, azure: FakeIdentityAzure, *, tenant: str) -> None:
        self.azure = azure
        self.forced_error: tuple[int, str] | None = None
        super().__init__(server, tenant=tenant, clients=())

    def _token(self, request: Request) -> Reply:
        form = request.form()
        client_id = form.get("client_id", "")
        identity = next((i for i in self.azure.identities if i.client_id == client_id), None)
        if identity is None or request.match["tenant"] != self.tenant or self.fail_with is not None:
            return super()._token(request)
        self.scopes.append(form.get("scope", ""))
        if self.forced_error:
            return entra_error(400, "invalid_request", *self.forced_error)
        try:
            payload = form["client_assertion"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (KeyError, IndexError, ValueError):
            return entra_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        for fic in identity.credentials.values():
            if (fic["issuer"], fic["subject"]) == (claims.get("iss"), claims.get("sub")):
                if not set(fic["audiences"]) & set(audiences):
                    return entra_error(401, "invalid_client", 700212,
                                       "No matching federated identity record found for presented assertion "
                                       f"audience '{audiences[0]}'.")
                return self._issue(client_id, form.get("scope", ""))
        return entra_error(
            400, "invalid_request", 70021,
            "No matching federated identity record found for presented assertion. "
            f"Assertion Issuer: '{claims.get('iss')}'. Assertion Subject: '{claims.get('sub')}'. "
            f"Assertion Audience: '{audiences[0]}'. "
            "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation")

    def _issue(self, client_id: str, scope: str) -> Reply:
        now = int(time.time())
        token = jwt({"aud": scope.removesuffix("/.default"), "iss": f"https://sts.windows.net/{self.tenant}/",
                     "appid": client_id, "tid": self.tenant, "iat": now, "exp": now + 3599, "jti": str(uuid.uuid4())})
        self.issued[token] = client_id
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})


class FakeIdentityAzure:
    """Entra ID + ARM (identities, clusters) + Blob on one ``HttpsServer``.

    ``ci_client`` is the client ID rayfleet itself signs in with (a plain ``FakeEntra`` client,
    Reader on every subscription created with ``subscription``). ``page_size`` forces paging.
    """

    def __init__(self, server: HttpsServer, *, tenant: str, ci_client: str | None = None, page_size: int = 2) -> None:
        self.server = server
        self.tenant = tenant
        self.identities: list[FakeIdentity] = []
        self.clusters: list[FakeCluster] = []
        self.connected_clusters: list[FakeConnectedCluster] = []
        self.role_definitions: dict[str, dict[str, Any]] = {}  # definition ID -> properties
        self.cluster_role_assignments: list[dict[str, Any]] = []  # ARM bodies, at managed clusters (grant)
        self.blob_containers: dict[str, list[str]] = {}  # container -> blob names
        self.storage_accounts: dict[tuple[str, str, str], bool] = {}  # (sub, rg lower, name) -> isHnsEnabled
        self.role_assignments: list[tuple[str, str, str]] = []  # (scope, principal ID, role definition GUID)
        self.blob_readers: set[str] = set()  # client IDs with a Storage Blob Data role
        self.entra = WorkloadIdentityEntra(server, self, tenant=tenant)
        if ci_client:
            self.entra.clients.add(ci_client)
        self.ci_client = ci_client
        self.arm = FakeArm(server, self.entra, page_size=page_size)
        self.page_size = page_size
        self.arm.get(rf"/subscriptions/(?P<sub>{_SEG})/providers/Microsoft\.ManagedIdentity/userAssignedIdentities",
                     self._list_identities)
        self.arm.get(rf"/subscriptions/(?P<sub>{_SEG})/resourceGroups/(?P<rg>{_SEG})/providers/"
                     rf"Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>{_SEG})/federatedIdentityCredentials",
                     self._list_fics)
        self.arm.get(rf"/subscriptions/(?P<sub>{_SEG})/resourceGroups/(?P<rg>{_SEG})/providers/"
                     rf"Microsoft\.ContainerService/managedClusters/(?P<name>{_SEG})",
                     self._get_cluster_of("Microsoft.ContainerService/managedClusters", lambda: self.clusters))
        self.arm.get(rf"/subscriptions/(?P<sub>{_SEG})/resourceGroups/(?P<rg>{_SEG})/providers/"
                     rf"Microsoft\.Kubernetes/connectedClusters/(?P<name>{_SEG})",
                     self._get_cluster_of("Microsoft.Kubernetes/connectedClusters", lambda: self.connected_clusters,
                                          api_version="2024-07-15-preview"))
        account = (rf"/subscriptions/(?P<sub>{_SEG})/resourceGroups/(?P<rg>{_SEG})/providers/"
                   rf"Microsoft\.Storage/storageAccounts/(?P<name>{_SEG})")
        self.arm.get(account, self._get_account)
        self.arm.get(account + r"/providers/Microsoft\.Authorization/roleAssignments", self._list_role_assignments)
        self.arm.get(rf"/subscriptions/(?P<sub>{_SEG})/resourceGroups/(?P<rg>{_SEG})/providers/"
                     rf"Microsoft\.ContainerService/managedClusters/(?P<name>{_SEG})/providers/"
                     r"Microsoft\.Authorization/roleAssignments", self._list_cluster_role_assignments)
        self.arm.get(rf"/subscriptions/(?P<sub>{_SEG})/providers/Microsoft\.Authorization/roleDefinitions/"
                     rf"(?P<id>{_SEG})", self._get_role_definition)
        server.route("GET", r"/(?P<container>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])", self._list_blobs)

    @property
    def authority(self) -> str:
        return self.server.url

    @property
    def forced_error(self) -> tuple[int, str] | None:
        return self.entra.forced_error

    @forced_error.setter
    def forced_error(self, value: tuple[int, str] | None) -> None:
        self.entra.forced_error = value

    # --- setup -----------------------------------------------------------------------------------

    def subscription(self, sub_id: str) -> None:
        self.arm.subscription(sub_id, readers=(self.ci_client,) if self.ci_client else ())

    def identity(self, subscription: str, resource_group: str, name: str, client_id: str) -> FakeIdentity:
        if subscription not in self.arm.subscriptions:
            self.subscription(subscription)
        found = FakeIdentity(subscription, resource_group, name, client_id)
        self.identities.append(found)
        return found

    def cluster(self, subscription: str, resource_group: str, name: str, location: str,
                issuer: str | None, **flags: bool) -> FakeCluster:
        if subscription not in self.arm.subscriptions:
            self.subscription(subscription)
        found = FakeCluster(subscription, resource_group, name, location, issuer, **flags)
        self.clusters.append(found)
        return found

    def connected_cluster(self, subscription: str, resource_group: str, name: str, location: str,
                          issuer: str | None, **flags: bool) -> FakeConnectedCluster:
        if subscription not in self.arm.subscriptions:
            self.subscription(subscription)
        found = FakeConnectedCluster(subscription, resource_group, name, location, issuer, **flags)
        self.connected_clusters.append(found)
        return found

    def storage_account(self, subscription: str, resource_group: str, name: str, *, hns: bool = False) -> str:
        """A storage account; returns its resource ID."""
        self.storage_accounts[(subscription, resource_group.lower(), name)] = hns
        return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Storage/" \
               f"storageAccounts/{name}"

    def assign(self, scope: str, principal_id: str, role: str) -> None:
        self.role_assignments.append((scope, principal_id, role))

    def role_definition(self, subscription: str, name: str, data_actions: list[str],
                        not_data_actions: list[str] | None = None) -> str:
        """A custom role; returns its ID as role assignments carry it."""
        role_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription}/{name}"))
        full = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
        self.role_definitions[full] = {
            "roleName": name, "type": "CustomRole", "description": name,
            "assignableScopes": [f"/subscriptions/{subscription}"],
            "permissions": [{"actions": [], "notActions": [], "dataActions": list(data_actions),
                             "notDataActions": list(not_data_actions or [])}]}
        return full

    def grant(self, principal_id: str, scope: str, role_definition_id: str, condition: str | None = None) -> None:
        """A role assignment of ``role_definition_id`` to ``principal_id`` at ``scope``."""
        assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        props: dict[str, Any] = {"roleDefinitionId": role_definition_id, "principalId": principal_id,
                                 "principalType": "ServicePrincipal", "scope": scope,
                                 "createdOn": "2026-09-01T10:00:00.0000000Z"}
        if condition:
            props.update(condition=condition, conditionVersion="2.0")
        self.cluster_role_assignments.append({"id": assignment_id, "type": "Microsoft.Authorization/roleAssignments",
                                      "name": assignment_id.rsplit("/", 1)[1], "properties": props})

    # --- ARM -------------------------------------------------------------------------------------

    def _denied(self, request: Request, client: str, action: str, api_version: str | None = None) -> Reply | None:
        """ARM's answer when the subscription is unknown, the client may not ``action`` or (with
        ``api_version``) the request asks for another API version; None when it may go on."""
        sub = self.arm.subscriptions.get(request.match["sub"])
        if sub is None:
            return arm_error(404, "SubscriptionNotFound",
                             f"The subscription '{request.match['sub']}' could not be found.")
        if client not in sub.readers:
            return arm_error(403, "AuthorizationFailed",
                             f"The client '{client}' with object id '{client}' does not have authorization to perform "
                             f"action '{action}' over scope '{request.path}' or the scope is invalid. If access was "
                             "recently granted, please refresh your credentials.")
        if api_version is not None and request.query.get("api-version") != [api_version]:
            return arm_error(400, "InvalidApiVersionParameter", "The api-version is invalid.")
        return None

    @staticmethod
    def _named(items: list[Any], request: Request) -> Any:
        """The item whose subscription, resource group (any case) and name the path gives."""
        m = request.match
        return next((i for i in items if (i.subscription, i.resource_group.lower(), i.name)
                     == (m["sub"], m["rg"].lower(), m["name"])), None)

    def _page(self, request: Request, items: list[Any], api_version: str) -> Reply:
        """ARM paging: ``page_size`` items and a ``nextLink`` with a ``$skipToken``."""
        start = int(request.query.get("$skipToken", ["0"])[0])
        body: dict[str, Any] = {"value": items[start:start + self.page_size]}
        if start + self.page_size < len(items):
            body["nextLink"] = (f"{self.server.url}{request.path}?api-version={api_version}"
                                f"&$skipToken={start + self.page_size}")
        return Reply(200, body)

    @staticmethod
    def _not_found(kind: str, name: str, group: str) -> Reply:
        return arm_error(404, "ResourceNotFound", f"The Resource '{kind}/{name}' under resource group '{group}' was "
                                                  "not found. For more details please go to "
                                                  "https://aka.ms/ARMResourceNotFoundFix")

    def _list_identities(self, request: Request, client: str) -> Reply:
        if (denied := self._denied(request, client, "Microsoft.ManagedIdentity/userAssignedIdentities/read")):
            return denied
        items = [{"id": i.id, "name": i.name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                  "location": "eastus2", "tags": {},
                  "properties": {"tenantId": self.tenant, "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, i.id)),
                                 "clientId": i.client_id}}
                 for i in self.identities if i.subscription == request.match["sub"]]
        return Reply(200, {"value": items})

    def _list_fics(self, request: Request, client: str) -> Reply:
        action = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
        if (denied := self._denied(request, client, action, "2023-01-31")):
            return denied
        identity = self._named(self.identities, request)
        if identity is None:
            return self._not_found("Microsoft.ManagedIdentity/userAssignedIdentities", request.match["name"],
                                   request.match["rg"])
        items = [{"id": f"{identity.id}/federatedIdentityCredentials/{name}", "name": name,
                  "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                  "properties": dict(props)} for name, props in identity.credentials.items()]
        return self._page(request, items, "2023-01-31")

    def _get_cluster_of(self, kind: str, clusters: Callable[[], list[Any]],
                        api_version: str | None = None) -> Callable[[Request, str], Reply]:
        """The GET handler of one cluster resource type (managed or Arc-connected)."""
        def handler(request: Request, client: str) -> Reply:
            if (denied := self._denied(request, client, f"{kind}/read", api_version)):
                return denied
            cluster = self._named(clusters(), request)
            if cluster is None:
                return self._not_found(kind, request.match["name"], request.match["rg"])
            return Reply(200, cluster.body())
        return handler

    def _get_account(self, request: Request, client: str) -> Reply:
        if (denied := self._denied(request, client, "Microsoft.Storage/storageAccounts/read", "2023-05-01")):
            return denied
        m = request.match
        hns = self.storage_accounts.get((m["sub"], m["rg"].lower(), m["name"]))
        if hns is None:
            return self._not_found("Microsoft.Storage/storageAccounts", m["name"], m["rg"])
        return Reply(200, {
            "id": request.path, "name": m["name"], "type": "Microsoft.Storage/storageAccounts",
            "location": "eastus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "properties": {"isHnsEnabled": hns, "allowSharedKeyAccess": False, "minimumTlsVersion": "TLS1_2",
                           "provisioningState": "Succeeded", "accessTier": "Hot",
                           "primaryEndpoints": {"blob": f"https://{m['name']}.blob.core.windows.net/",
                                                **({"dfs": f"https://{m['name']}.dfs.core.windows.net/"}
                                                   if hns else {})}}})

    def _list_role_assignments(self, request: Request, client: str) -> Reply:
        if (denied := self._denied(request, client, "Microsoft.Authorization/roleAssignments/read")):
            return denied
        if request.query.get("$filter") != ["atScope()"] or request.query.get("api-version") != ["2022-04-01"]:
            return arm_error(400, "BadRequest", "this fake answers $filter=atScope() with api-version 2022-04-01")
        scope = request.path.split("/providers/Microsoft.Authorization/")[0]
        items = [{"id": f"{s}/providers/Microsoft.Authorization/roleAssignments/{_guid(s + p + r)}",
                  "name": _guid(s + p + r),
                  "type": "Microsoft.Authorization/roleAssignments",
                  "properties": {"roleDefinitionId": f"/subscriptions/{request.match['sub']}/providers/"
                                                     f"Microsoft.Authorization/roleDefinitions/{r}",
                                 "principalId": p, "principalType": "ServicePrincipal", "scope": s}}
                 for s, p, r in self.role_assignments
                 if scope.lower() == s.lower() or scope.lower().startswith(s.lower().rstrip("/") + "/")]
        return Reply(200, {"value": items})
    def _list_cluster_role_assignments(self, request: Request, client: str) -> Reply:
        if (denied := self._denied(request, client, "Microsoft.Authorization/roleAssignments/read", "2022-04-01")):
            return denied
        scope = request.path.rsplit("/providers/Microsoft.Authorization/roleAssignments", 1)[0].lower()
        wanted = None
        for expression in request.query.get("$filter", []):
            if expression.startswith("principalId eq '"):
                wanted = expression[len("principalId eq '"):].rstrip("'").lower()
            else:
                return arm_error(400, "UnsupportedQuery", f"The filter '{expression}' is not supported.")
        items = []
        for item in self.cluster_role_assignments:
            props = item["properties"]
            at = props["scope"].lower()
            related = scope == at or scope.startswith(at + "/") or at.startswith(scope + "/")
            if related and (wanted is None or props["principalId"].lower() == wanted):
                items.append(item)
        return self._page(request, items, "2022-04-01")

    def _get_role_definition(self, request: Request, client: str) -> Reply:
        if (denied := self._denied(request, client, "Microsoft.Authorization/roleDefinitions/read")):
            return denied
        props = self.role_definitions.get(request.path)
        if props is None:
            return arm_error(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
                                                                f"'{request.match['id']}' does not exist.")
        return Reply(200, {"id": request.path, "type": "Microsoft.Authorization/roleDefinitions",
                           "name": request.match["id"], "properties": props})

    # --- Blob ------------------------------------------------------------------------------------

    @staticmethod
    def _blob_error(status: int, code: str, message: str) -> Reply:
        body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                f"<Message>{message}\nRequestId:{uuid.uuid4()}</Message></Error>")
        return Reply(status, body, {"Content-Type": "application/xml", "x-ms-error-code": code})

    def _list_blobs(self, request: Request) -> Reply:
        if request.query.get("restype") != ["container"] or request.query.get("comp") != ["list"]:
            return self._blob_error(400, "InvalidQueryParameterValue",
                                    "Value for one of the query parameters specified in the request URI is invalid.")
        if not request.headers.get("x-ms-version"):
            return self._blob_error(400, "MissingRequiredHeader",
                                    "An HTTP header that's mandatory for this request is not specified.")
        auth = request.headers.get("authorization", "")
        client = self.entra.issued.get(auth[7:]) if auth.startswith("Bearer ") else None
        if client is None:
            return self._blob_error(401, "InvalidAuthenticationInfo", "Server failed to authenticate the request.")
        container = request.match["container"]
        if container not in self.blob_containers:
            return self._blob_error(404, "ContainerNotFound", "The specified container does not exist.")
        if client not in self.blob_readers:
            return self._blob_error(403, "AuthorizationPermissionMismatch",
                                    "This request is not authorized to perform this operation using this permission.")
        limit = int(request.query.get("maxresults", ["5000"])[0])
        blobs = "".join(f"<Blob><Name>{name}</Name><Properties><BlobType>BlockBlob</BlobType></Properties></Blob>"
                        for name in self.blob_containers[container][:limit])
        body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="{self.server.url}/" '
                f'ContainerName="{container}"><MaxResults>{limit}</MaxResults><Blobs>{blobs}</Blobs>'
                "<NextMarker /></EnumerationResults>")
        return Reply(200, body, {"Content-Type": "application/xml"})
