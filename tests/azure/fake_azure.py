"""A fake Entra ID token endpoint and Azure Resource Manager, answering as the real APIs do.

Built on ``tests.support.https_server.HttpsServer`` (HTTPS on 127.0.0.1, trustme CA), so the
real azure-identity credential and the real azure-core pipeline run against it unpatched.

- ``FakeEntra``: ``POST /{tenant}/oauth2/v2.0/token`` (client credentials, with a client
  assertion for workload identity) answers ``{"token_type": "Bearer", "expires_in": 3599,
  "ext_expires_in": 3599, "access_token": "<jwt-ish>"}``; failures are shaped like Entra's:
  ``{"error": "invalid_client", "error_description": "AADSTS70021: ...", "error_codes": [70021],
  ...}``.
- ``FakeArm``: checks the bearer token (401 ``InvalidAuthenticationToken`` otherwise), answers
  ``{"error": {"code", "message"}}`` on failure (403 ``AuthorizationFailed`` for a subscription
  the caller may not read), can throttle (429 with ``Retry-After``) or stall (timeouts), and
  serves the Compute usages list, paged with ``nextLink``. More ARM routes can be added with
  ``FakeArm.get(pattern, handler)``: the auth, throttling and stalling apply to them too.
- ``workload_identity_env``: the environment a CI job with workload identity federation has,
  pointed at the fake (``AZURE_AUTHORITY_HOST``) and trusting its CA.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.https_server import HttpsServer, Reply, Request

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5d3c2b1a-0f9e-4d8c-b7a6-958473625140"
ARM_SCOPE = "https://management.azure.com/.default"
_SEG = r"[^/]+"


def jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped string (header.payload.signature); nobody verifies the signature here."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def service_account_token(issuer: str = "https://oidc.example/issuer/",
                          subject: str = "system:serviceaccount:ci:rayfleet") -> str:
    now = int(time.time())
    return jwt({"iss": issuer, "sub": subject, "aud": ["api://AzureADTokenExchange"], "iat": now, "exp": now + 3600})


def entra_error(status: int, error: str, code: int, description: str) -> Reply:
    """An Entra ID token endpoint error, as login.microsoftonline.com shapes it."""
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return Reply(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
                             f"Timestamp: {now}",
        "error_codes": [code], "timestamp": now, "trace_id": trace, "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    })


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


class FakeEntra:
    """The token endpoint. ``clients`` are the client IDs it issues tokens to."""

    def __init__(self, server: HttpsServer, *, tenant: str = TENANT, clients: tuple[str, ...] = (CLIENT_ID,)) -> None:
        self.server = server
        self.tenant = tenant
        self.clients = set(clients)
        self.issued: dict[str, str] = {}  # access token -> client ID
        self.scopes: list[str] = []  # the scope of every token request
        self.fail_with: Reply | None = None  # answer every token request with this
        self.stall = 0.0  # seconds every token request waits before its answer (a hanging endpoint)
        server.route("POST", rf"/(?P<tenant>{_SEG})/oauth2/v2\.0/token", self._stalled)

    @property
    def authority(self) -> str:
        return self.server.url

    def _stalled(self, request: Request) -> Reply:
        reply = self._token(request)
        if self.stall:
            reply.delay = self.stall
        return reply

    def _token(self, request: Request) -> Reply:
        form = request.form()
        self.scopes.append(form.get("scope", ""))
        if self.fail_with is not None:
            return self.fail_with
        if request.match["tenant"] != self.tenant:
            return entra_error(400, "invalid_request", 90002,
                               f"Tenant '{request.match['tenant']}' not found. Check to make sure you have the "
                               "correct tenant ID and are signing into the correct cloud.")
        if form.get("grant_type") != "client_credentials":
            return entra_error(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: 'grant_type'.")
        client = form.get("client_id", "")
        if client not in self.clients:
            return entra_error(400, "unauthorized_client", 700016,
                               f"Application with identifier '{client}' was not found in the directory "
                               f"'{self.tenant}'.")
        if form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
                and form.get("client_assertion", "").count(".") != 2:
            return entra_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
        now = int(time.time())
        token = jwt({"aud": form.get("scope", "").removesuffix("/.default"), "iss": f"https://sts.windows.net/{self.tenant}/",
                     "appid": client, "tid": self.tenant, "iat": now, "exp": now + 3599, "jti": str(uuid.uuid4())})
        self.issued[token] = client
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})


@dataclass
class UsageLine:
    name: str
    localized: str
    current: int | str
    limit: int | str

    def body(self) -> dict[str, Any]:
        return {"unit": "Count", "currentValue": self.current, "limit": self.limit,
                "name": {"value": self.name, "localizedValue": self.localized}}


@dataclass
class Subscription:
    id: str
    readers: set[str] = field(default_factory=set)  # client IDs with Reader
    usages: dict[str, list[UsageLine]] = field(default_factory=dict)  # location -> lines

    def usage(self, location: str, name: str, current: int | str, limit: int | str,
              localized: str | None = None) -> None:
        self.usages.setdefault(location, []).append(UsageLine(name, localized or f"{name} vCPUs", current, limit))


class FakeArm:
    """ARM: bearer-token check, subscriptions with readers, Compute usages (paged)."""

    def __init__(self, server: HttpsServer, entra: FakeEntra, *, page_size: int = 3) -> None:
        self.server = server
        self.entra = entra
        self.page_size = page_size
        self.subscriptions: dict[str, Subscription] = {}
        self.throttle = 0  # answer the next N ARM calls with 429 + Retry-After
        self.retry_after = "1"
        self.stall = 0.0  # seconds to wait before every ARM answer (client timeouts)
        self.calls: list[Request] = []
        self.get(rf"/subscriptions/(?P<sub>{_SEG})/providers/Microsoft\.Compute/locations/(?P<location>{_SEG})/usages",
                 self._usages)

    def subscription(self, sub_id: str, *, readers: tuple[str, ...] = (CLIENT_ID,)) -> Subscription:
        sub = Subscription(sub_id, set(readers))
        self.subscriptions[sub_id] = sub
        return sub

    def get(self, pattern: str, handler: Callable[[Request, str], Reply]) -> None:
        """Route GET ``pattern``; ``handler(request, client_id)`` runs after auth and throttling."""

        def guarded(request: Request) -> Reply:
            self.calls.append(request)
            reply = self._guard(request)
            if reply is None:
                reply = handler(request, self.entra.issued[request.headers["authorization"][7:]])
            if self.stall:
                reply.delay = self.stall
            return reply

        self.server.route("GET", pattern, guarded)

    def _guard(self, request: Request) -> Reply | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.entra.issued:
            return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if self.throttle > 0:
            self.throttle -= 1
            return arm_error(429, "TooManyRequests", "The request is being throttled.",
                             {"Retry-After": self.retry_after})
        return None

    def _usages(self, request: Request, client: str) -> Reply:
        sub = self.subscriptions.get(request.match["sub"])
        if sub is None:
            return arm_error(404, "SubscriptionNotFound",
                             f"The subscription '{request.match['sub']}' could not be found.")
        if client not in sub.readers:
            scope = f"/subscriptions/{sub.id}"
            return arm_error(403, "AuthorizationFailed",
                             f"The client '{client}' with object id '{client}' does not have authorization to perform "
                             f"action 'Microsoft.Compute/locations/usages/read' over scope '{scope}' or the scope is "
                             "invalid. If access was recently granted, please refresh your credentials.")
        if not request.query.get("api-version"):
            return arm_error(400, "MissingApiVersionParameter",
                             "The api-version query parameter (?api-version=) is required for all requests.")
        lines = sub.usages.get(request.match["location"], [])
        start = int(request.query.get("$skiptoken", ["0"])[0])
        body: dict[str, Any] = {"value": [u.body() for u in lines[start:start + self.page_size]]}
        if start + self.page_size < len(lines):
            body["nextLink"] = (f"{self.server.url}{request.path}?api-version={request.query['api-version'][0]}"
                                f"&$skiptoken={start + self.page_size}")
        return Reply(200, body)


class FakeAzure:
    """Entra ID and ARM on one HTTPS server."""

    def __init__(self, server: HttpsServer, **kwargs: Any) -> None:
        self.server = server
        self.entra = FakeEntra(server, **kwargs)
        self.arm = FakeArm(server, self.entra)

    @property
    def url(self) -> str:
        return self.server.url


CREDENTIAL_VARS = (
    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME",
    "AZURE_PASSWORD", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_KUBERNETES_TOKEN_PROXY",
)


def workload_identity_env(monkeypatch: Any, azure: FakeAzure, token_dir: Path, *, client_id: str = CLIENT_ID,
                          tenant: str = TENANT) -> Path:
    """Set the variables of a CI job with workload identity federation; returns the token file."""
    token_file = token_dir / "federated-token"
    token_file.write_text(service_account_token())
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TENANT_ID", tenant)
    monkeypatch.setenv("AZURE_CLIENT_ID", client_id)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", azure.server.host)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", azure.server.ca_path)
    monkeypatch.setenv("SSL_CERT_FILE", azure.server.ca_path)
    return token_file
