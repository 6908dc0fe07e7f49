"""Entra ID, ARM (managed identities, managed clusters) and Blob storage, as the real APIs answer.

Built on ``tests/support/https_server.HttpsServer``: one HTTPS server on 127.0.0.1 answers all
three, because their paths never collide. Shapes follow the public REST references:

- Entra ID token endpoint ``POST /{tenant}/oauth2/v2.0/token`` (client credentials with a JWT
  assertion): ``{"token_type", "expires_in", "ext_expires_in", "access_token"}``, or on failure
  ``{"error", "error_description": "AADSTS70021: ...", "error_codes": [...], "timestamp",
  "trace_id", "correlation_id", "error_uri"}`` with status 400.
- Federated identity credentials list (api-version 2023-01-31):
  ``{"value": [{"id", "name", "type", "properties": {"issuer", "subject", "audiences"}}],
  "nextLink"}``.
- Managed cluster get (api-version 2024-09-01): ``properties.oidcIssuerProfile.{enabled,
  issuerURL}``, ``properties.securityProfile.workloadIdentity.enabled``,
  ``properties.storageProfile.blobCSIDriver.enabled``.
- ARM errors: ``{"error": {"code", "message"}}``; Blob errors: ``x-ms-error-code`` and an XML body.
- Blob List Blobs: ``<EnumerationResults>`` XML.

The fake Entra ID issues a token only when the assertion's (iss, sub, aud) matches one of the
client's federated credentials held by the fake ARM: the same check Entra ID makes. The identity
that calls ARM (a CI pipeline's) is one more ``FakeIdentity`` with its own credential.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.support.https_server import HttpsServer, Reply, Request

ARM_TOKEN_SCOPE = "https://management.azure.com/.default"
AUDIENCE = "api://AzureADTokenExchange"
_NAME = r"[^/]+"


def make_jwt(claims: dict[str, Any]) -> str:
    """An unsigned-looking JWT (header.payload.signature) with ``claims`` as payload."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'RS256', 'kid': 'test', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJl"


def sa_token(issuer: str, namespace: str, name: str, *, audience: str = AUDIENCE, ttl: int = 3600) -> str:
    now = int(time.time())
    return make_jwt({"aud": [audience], "exp": now + ttl, "iat": now, "iss": issuer, "nbf": now,
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
        self.credentials[name] = {"issuer": issuer, "subject": subject, "audiences": audiences or [AUDIENCE]}


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

    def body(self) -> dict[str, Any]:
        oidc: dict[str, Any] = {"enabled": self.oidc_enabled}
        if self.oidc_enabled and self.issuer:
            oidc["issuerURL"] = self.issuer
        return {
            "id": (f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}/providers/"
                   f"Microsoft.ContainerService/managedClusters/{self.name}"),
            "location": self.location, "name": self.name, "type": "Microsoft.ContainerService/ManagedClusters",
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


class FakeAzure:
    """Entra ID + ARM + Blob on one ``HttpsServer``. ``page_size`` forces FIC list paging."""

    def __init__(self, server: HttpsServer, *, tenant: str = "0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01",
                 page_size: int = 2) -> None:
        self.server = server
        self.tenant = tenant
        self.page_size = page_size
        self.identities: list[FakeIdentity] = []
        self.clusters: list[FakeCluster] = []
        self.blob_containers: dict[str, list[str]] = {}  # container -> blob names
        self.blob_readers: set[str] = set()  # client IDs with a data role
        self.forced_error: tuple[int, str] | None = None  # (AADSTS code, description) for every exchange
        self.issued: dict[str, str] = {}  # access token -> client ID
        server.route("POST", rf"/(?P<tenant>{_NAME})/oauth2/v2\.0/token", self._token)
        server.route("GET", rf"/subscriptions/(?P<sub>{_NAME})/resourceGroups/(?P<rg>{_NAME})/providers/"
                            rf"Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>{_NAME})/"
                            r"federatedIdentityCredentials", self._list_fics)
        server.route("GET", rf"/subscriptions/(?P<sub>{_NAME})/providers/Microsoft\.ManagedIdentity/"
                            r"userAssignedIdentities", self._list_identities)
        server.route("GET", rf"/subscriptions/(?P<sub>{_NAME})/resourceGroups/(?P<rg>{_NAME})/providers/"
                            rf"Microsoft\.ContainerService/managedClusters/(?P<name>{_NAME})", self._get_cluster)
        server.route("GET", r"/(?P<container>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])", self._list_blobs)

    @property
    def authority(self) -> str:
        return self.server.url

    # --- setup -----------------------------------------------------------------------------------

    def identity(self, subscription: str, resource_group: str, name: str, client_id: str) -> FakeIdentity:
        found = FakeIdentity(subscription, resource_group, name, client_id)
        self.identities.append(found)
        return found

    def cluster(self, subscription: str, resource_group: str, name: str, location: str,
                issuer: str | None, **flags: bool) -> FakeCluster:
        found = FakeCluster(subscription, resource_group, name, location, issuer, **flags)
        self.clusters.append(found)
        return found

    # --- Entra ID --------------------------------------------------------------------------------

    def _entra_error(self, code: int, description: str, *, error: str = "invalid_request",
                     status: int = 400) -> Reply:
        now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        return Reply(status, {
            "error": error,
            "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\n"
                                 f"Correlation ID: {correlation}\r\nTimestamp: {now}",
            "error_codes": [code], "timestamp": now, "trace_id": trace, "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        })

    def _issue(self, client_id: str) -> Reply:
        token = f"access-{uuid.uuid4()}"
        self.issued[token] = client_id
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": token})

    def _token(self, request: Request) -> Reply:
        form = request.form()
        if request.match["tenant"] != self.tenant:
            return self._entra_error(90002, f"Tenant '{request.match['tenant']}' not found.")
        client_id = form.get("client_id", "")
        if form.get("grant_type") != "client_credentials" or \
                form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return self._entra_error(900144, "The request body must contain the following parameter: 'grant_type'.")
        if self.forced_error:
            return self._entra_error(*self.forced_error)
        try:
            payload = form["client_assertion"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (KeyError, IndexError, ValueError):
            return self._entra_error(50027, "JWT token is invalid or malformed.")
        identity = next((i for i in self.identities if i.client_id == client_id), None)
        if identity is None:
            return self._entra_error(700016, f"Application with identifier '{client_id}' was not found in the "
                                             f"directory '{self.tenant}'.", error="unauthorized_client")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        for fic in identity.credentials.values():
            if fic["issuer"] == claims.get("iss") and fic["subject"] == claims.get("sub"):
                if not set(fic["audiences"]) & set(audiences):
                    return self._entra_error(700212, "No matching federated identity record found for presented "
                                                     f"assertion audience '{audiences[0]}'.", error="invalid_client",
                                             status=401)
                return self._issue(client_id)
        return self._entra_error(
            70021, "No matching federated identity record found for presented assertion. "
                   f"Assertion Issuer: '{claims.get('iss')}'. Assertion Subject: '{claims.get('sub')}'. "
                   f"Assertion Audience: '{audiences[0]}'. "
                   "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation")

    # --- ARM -------------------------------------------------------------------------------------

    def _arm_auth(self, request: Request) -> Reply | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.issued:
            return Reply(401, {"error": {"code": "AuthenticationFailed",
                                         "message": "Authentication failed. The 'Authorization' header is missing."}})
        return None

    @staticmethod
    def _not_found(kind: str, name: str, group: str) -> Reply:
        return Reply(404, {"error": {"code": "ResourceNotFound",
                                     "message": f"The Resource '{kind}/{name}' under resource group '{group}' "
                                                "was not found. For more details please go to "
                                                "https://aka.ms/ARMResourceNotFoundFix"}})

    def _list_fics(self, request: Request) -> Reply:
        if (denied := self._arm_auth(request)) is not None:
            return denied
        if request.query.get("api-version") != ["2023-01-31"]:
            return Reply(400, {"error": {"code": "InvalidApiVersionParameter", "message": "bad api-version"}})
        m = request.match
        identity = next((i for i in self.identities if (i.subscription, i.resource_group.lower(), i.name)
                         == (m["sub"], m["rg"].lower(), m["name"])), None)
        if identity is None:
            return self._not_found("Microsoft.ManagedIdentity/userAssignedIdentities", m["name"], m["rg"])
        items = [{"id": f"{identity.id}/federatedIdentityCredentials/{name}", "name": name,
                  "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                  "properties": dict(props)} for name, props in identity.credentials.items()]
        start = int(request.query.get("$skipToken", ["0"])[0])
        page = items[start:start + self.page_size]
        body: dict[str, Any] = {"value": page}
        if start + self.page_size < len(items):
            body["nextLink"] = (f"{self.server.url}{request.path}?api-version=2023-01-31"
                                f"&$skipToken={start + self.page_size}")
        return Reply(200, body)

    def _list_identities(self, request: Request) -> Reply:
        if (denied := self._arm_auth(request)) is not None:
            return denied
        items = [{"id": i.id, "name": i.name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                  "location": "eastus2", "tags": {},
                  "properties": {"tenantId": self.tenant, "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, i.id)),
                                 "clientId": i.client_id}}
                 for i in self.identities if i.subscription == request.match["sub"]]
        return Reply(200, {"value": items})

    def _get_cluster(self, request: Request) -> Reply:
        if (denied := self._arm_auth(request)) is not None:
            return denied
        m = request.match
        cluster = next((c for c in self.clusters if (c.subscription, c.resource_group.lower(), c.name)
                        == (m["sub"], m["rg"].lower(), m["name"])), None)
        if cluster is None:
            return self._not_found("Microsoft.ContainerService/managedClusters", m["name"], m["rg"])
        return Reply(200, cluster.body())

    # --- Blob ------------------------------------------------------------------------------------

    def _blob_error(self, status: int, code: str, message: str) -> Reply:
        body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                f"<Message>{message}\nRequestId:{uuid.uuid4()}</Message></Error>")
        return Reply(status, body, {"Content-Type": "application/xml", "x-ms-error-code": code})

    def _list_blobs(self, request: Request) -> Reply:
        if request.query.get("restype") != ["container"] or request.query.get("comp") != ["list"]:
            return self._blob_error(400, "InvalidQueryParameterValue", "Value for one of the query parameters "
                                                                        "specified in the request URI is invalid.")
        if not request.headers.get("x-ms-version"):
            return self._blob_error(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this "
                                                                   "request is not specified.")
        auth = request.headers.get("authorization", "")
        client = self.issued.get(auth[7:]) if auth.startswith("Bearer ") else None
        if client is None:
            return self._blob_error(401, "InvalidAuthenticationInfo", "Server failed to authenticate the request.")
        container = request.match["container"]
        if container not in self.blob_containers:
            return self._blob_error(404, "ContainerNotFound", "The specified container does not exist.")
        if client not in self.blob_readers:
            return self._blob_error(403, "AuthorizationPermissionMismatch", "This request is not authorized to "
                                                                             "perform this operation using this "
                                                                             "permission.")
        limit = int(request.query.get("maxresults", ["5000"])[0])
        blobs = "".join(f"<Blob><Name>{name}</Name><Properties><BlobType>BlockBlob</BlobType></Properties></Blob>"
                        for name in self.blob_containers[container][:limit])
        body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="{self.server.url}/" '
                f'ContainerName="{container}"><MaxResults>{limit}</MaxResults><Blobs>{blobs}</Blobs>'
                "<NextMarker /></EnumerationResults>")
        return Reply(200, body, {"Content-Type": "application/xml"})
