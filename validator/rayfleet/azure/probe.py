"""Workload identity, step by step, from inside a pod (``rayfleet identity probe``).

Each step says what it found and, when it fails, the likely cause:
1. environment: the variables the workload identity webhook injects;
2. token file: the projected ServiceAccount token, decoded (not verified) to show iss/sub/aud;
3. token exchange: ``WorkloadIdentityCredential`` for Storage, the AADSTS code explained;
4. blob list (optional): one List Blobs call on a container with the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import RayfleetError
from ..text import one_line
from ..wellknown import TOKEN_AUDIENCE

STORAGE_SCOPE = "https://storage.azure.com/.default"
STORAGE_API_VERSION = "2023-11-03"
REQUIRED_ENV = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")
AUTHORITY_ENV = "AZURE_AUTHORITY_HOST"
_BLOB_SUFFIX = {  # authority host -> blob endpoint suffix of that cloud
    "login.microsoftonline.us": "blob.core.usgovcloudapi.net",
    "login.chinacloudapi.cn": "blob.core.chinacloudapi.cn",
}
_AADSTS = re.compile(r"AADSTS(\d+)")


@dataclass
class ProbeStep:
    name: str
    status: str  # "ok", "fail" or "skip"
    detail: str
    cause: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "fail"


@dataclass
class ProbeResult:
    steps: list[ProbeStep] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)  # iss, sub, aud, exp of the SA token

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, NOT verified (only to show what the token says). ValueError if not a JWT."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError(f"not a JWT (expected 3 dot-separated parts, found {len(parts)})")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a JWT (payload is not base64url JSON: {exc})") from None
    if not isinstance(claims, dict):
        raise ValueError("not a JWT (payload is not a JSON object)")
    return claims


def explain_entra_error(message: str, claims: Mapping[str, Any]) -> str:
    """The likely cause of a failed token exchange, from the AADSTS code in Entra ID's message."""
    issuer, subject = claims.get("iss", "?"), claims.get("sub", "?")
    audience = claims.get("aud", "?")
    compare = (f"this token's issuer is {issuer!r} and subject {subject!r}: the managed identity needs a "
               "federated credential with exactly these (issuer trailing slash and case included)")
    codes = [int(c) for c in _AADSTS.findall(message)]
    code = codes[0] if codes else None
    if code in (70021, 700211, 700213, 7002137, 7002138):
        what = {700211: "issuer", 700213: "subject", 7002137: "subject", 7002138: "subject"}.get(code,
                                                                                                  "issuer or subject")
        return (f"no federated credential on the identity matches the token's {what} (or a new credential "
                f"has not propagated yet, which takes up to a few minutes); {compare}. "
                "See `rayfleet identity plan` and `rayfleet identity check --live`")
    if code == 700212:
        return (f"audience mismatch: the token's audience is {audience!r}, the federated credential's must "
                f"be {TOKEN_AUDIENCE!r} (an AKS identity binding token, api://AKSIdentityBinding, cannot be "
                "used with a federated credential)")
    if code == 90061:
        return (f"Entra ID could not fetch the OIDC discovery document or keys of the issuer {issuer!r}: "
                "is the cluster's OIDC issuer enabled? (`az aks update --enable-oidc-issuer` reconciles it)")
    if code in (700016, 700236):
        return "the client ID is not a managed identity or app in this tenant (check AZURE_CLIENT_ID/AZURE_TENANT_ID)"
    if code in (90002, 900023):
        return "the tenant ID is wrong (AZURE_TENANT_ID, from the ServiceAccount's tenant-id annotation or the webhook)"
    if code == 50005:
        return "a Conditional Access policy blocks the token request"
    if code is not None:
        return f"Entra ID refused the exchange (AADSTS{code}); see https://login.microsoftonline.com/error?code={code}"
    return "Entra ID refused the exchange; see the message"


def _missing_env_cause(missing: list[str]) -> str:
    if missing == ["AZURE_CLIENT_ID"]:
        return ("the pod's ServiceAccount has no azure.workload.identity/client-id annotation (the webhook "
                "sets AZURE_CLIENT_ID from it), or the pod started before it was added: restart the pod")
    return ("the workload identity webhook did not mutate this pod: the pod template lacks the label "
            "azure.workload.identity/use: \"true\", its ServiceAccount lacks the azure.workload.identity/client-id "
            "annotation, workload identity is not enabled on the cluster, or the pod is in kube-system")


def _check_env(env: Mapping[str, str], result: ProbeResult) -> bool:
    missing = [name for name in REQUIRED_ENV if not env.get(name)]
    shown = ", ".join(f"{n}={env.get(n) or '(unset)'}" for n in (*REQUIRED_ENV, AUTHORITY_ENV))
    if missing:
        result.steps.append(ProbeStep("environment", "fail", f"missing {', '.join(missing)} ({shown})",
                                      _missing_env_cause(missing)))
        return False
    note = "" if env.get(AUTHORITY_ENV) else f"; {AUTHORITY_ENV} unset, using login.microsoftonline.com"
    result.steps.append(ProbeStep("environment", "ok", shown + note))
    return True


def _check_token_file(path: str, result: ProbeResult) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            token = handle.read()
    except FileNotFoundError:
        result.steps.append(ProbeStep("token file", "fail", f"{path}: not found",
                                      "the projected token volume is not mounted: the pod was created before "
                                      "the webhook could mutate it; restart it"))
        return False
    except PermissionError:
        result.steps.append(ProbeStep("token file", "fail", f"{path}: permission denied",
                                      "the container's user cannot read the token: set the pod's "
                                      "securityContext.fsGroup (e.g. 65534)"))
        return False
    except (OSError, UnicodeDecodeError) as exc:
        result.steps.append(ProbeStep("token file", "fail", f"{path}: {exc}", "the token file is unreadable"))
        return False
    try:
        claims = decode_jwt_claims(token)
    except ValueError as exc:
        result.steps.append(ProbeStep("token file", "fail", f"{path}: {exc}",
                                      "AZURE_FEDERATED_TOKEN_FILE does not point at a ServiceAccount token"))
        return False
    result.claims = {k: claims.get(k) for k in ("iss", "sub", "aud", "exp") if k in claims}
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    detail = f"{path}: JWT iss={claims.get('iss')} sub={claims.get('sub')} aud={','.join(map(str, audiences))}"
    exp = claims.get("exp")
    if isinstance(exp, int | float):
        left = int(exp - time.time())
        if left <= 0:
            result.steps.append(ProbeStep("token file", "fail", f"{detail}, expired {-left} s ago",
                                          "kubelet stopped refreshing the projected token: restart the pod"))
            return False
        detail += f", expires in {left} s"
    if TOKEN_AUDIENCE not in audiences:
        result.steps.append(ProbeStep("token file", "fail", detail,
                                      f"the token's audience is not {TOKEN_AUDIENCE}; Entra ID will refuse it "
                                      "(AADSTS700212)"))
        return False
    result.steps.append(ProbeStep("token file", "ok", detail))
    return True


def _exchange(env: Mapping[str, str], scope: str, result: ProbeResult, transport_kwargs: dict[str, Any]) -> str | None:
    """The token exchange. An answer (a token or Entra's refusal) is a step; no answer in time (a
    hanging or dropped connection) is an error: the probe cannot tell what is wrong."""
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
    from azure.identity import WorkloadIdentityCredential

    authority = env.get(AUTHORITY_ENV) or "login.microsoftonline.com"
    try:
        credential = WorkloadIdentityCredential(
            tenant_id=env["AZURE_TENANT_ID"], client_id=env["AZURE_CLIENT_ID"],
            token_file_path=env["AZURE_FEDERATED_TOKEN_FILE"], authority=authority, **transport_kwargs)
    except ValueError as exc:
        result.steps.append(ProbeStep("token exchange", "fail", str(exc), "the workload identity settings are invalid"))
        return None
    try:
        with credential:
            token = credential.get_token(scope)
    except ClientAuthenticationError as exc:
        message = one_line(exc.message or str(exc))
        unreachable = "connection" in message.lower() and "AADSTS" not in message
        if isinstance(exc.__cause__, ServiceRequestError) or unreachable:
            result.steps.append(ProbeStep("token exchange", "fail", message,
                                          f"cannot reach the authority host {authority}: check egress, DNS and "
                                          "proxy settings"))
        else:
            result.steps.append(ProbeStep("token exchange", "fail", message,
                                          explain_entra_error(message, result.claims)))
        return None
    except ServiceRequestError as exc:
        result.steps.append(ProbeStep("token exchange", "fail", one_line(str(exc)),
                                      f"cannot reach the authority host {authority}: check egress, DNS and proxy "
                                      "settings"))
        return None
    except ServiceResponseError as exc:  # includes ServiceResponseTimeoutError (read timeout)
        timeout = transport_kwargs.get("read_timeout")
        what = f"no answer within {timeout:g} s" if "timed out" in str(exc).lower() and timeout else \
            f"the connection failed mid-answer ({one_line(exc, 160)})"
        raise RayfleetError(f"identity probe: token exchange with {authority}: {what}") from None
    left = int(token.expires_on - time.time())
    result.steps.append(ProbeStep("token exchange", "ok",
                                  f"token for {scope} from {authority}, expires in {left} s"))
    return token.token


def blob_list_url(account: str, container: str, *, blob_endpoint: str | None = None,
                  authority: str | None = None) -> str:
    """The List Blobs URL of one container (one result), on the account's blob endpoint."""
    if blob_endpoint:
        base = blob_endpoint.rstrip("/")
    else:
        host = urlsplit(authority if authority and "//" in authority else f"https://{authority or ''}").hostname
        base = f"https://{account}.{_BLOB_SUFFIX.get(host or '', 'blob.core.windows.net')}"
    return f"{base}/{quote(container)}?restype=container&comp=list&maxresults=1"


def _blob_list(url: str, token: str, result: ProbeResult, transport_kwargs: dict[str, Any]) -> None:
    from azure.core import PipelineClient
    from azure.core.exceptions import AzureError
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest

    retries = transport_kwargs.get("retry_total", 2)
    transport = RequestsTransport(**{k: v for k, v in transport_kwargs.items() if k != "retry_total"})
    client = PipelineClient(url, policies=[RetryPolicy(retry_total=retries)], transport=transport)
    request = HttpRequest("GET", url, headers={"Authorization": f"Bearer {token}",
                                               "x-ms-version": STORAGE_API_VERSION})
    try:
        with client:
            response = client.send_request(request)
            body = response.text()
    except AzureError as exc:
        result.steps.append(ProbeStep("blob list", "fail", f"GET {_without_query(url)}: {one_line(str(exc))}",
                                      "cannot reach the storage account: check its network rules (firewall, "
                                      "private endpoint, DNS) and the cluster's egress"))
        return
    if response.status_code == 200:
        blobs = len(re.findall(r"<Blob>", body))
        result.steps.append(ProbeStep("blob list", "ok", f"GET {_without_query(url)}: 200, listed {blobs} blob(s)"))
        return
    code = response.headers.get("x-ms-error-code") or _xml_code(body) or ""
    causes = {
        "AuthorizationPermissionMismatch": "the managed identity has no data role on the account: grant it "
                                           "Storage Blob Data Contributor (or Reader) on the account or container",
        "AuthorizationFailure": "the account's network rules refuse this client (firewall or private endpoint)",
        "ContainerNotFound": "the container does not exist (check --container)",
        "InvalidAuthenticationInfo": "the token is not valid for Storage (scope https://storage.azure.com/.default)",
        "KeyBasedAuthenticationNotPermitted": "the account refuses this authentication method",
    }
    cause = causes.get(code, "the storage account refused the request")
    result.steps.append(ProbeStep("blob list", "fail",
                                  f"GET {_without_query(url)}: {response.status_code} {code}".rstrip(), cause))


def run_probe(env: Mapping[str, str], *, account: str | None = None, container: str | None = None,
              blob_endpoint: str | None = None, scope: str = STORAGE_SCOPE, retries: int = 2,
              connection_verify: str | bool | None = None, timeout: float = 20.0) -> ProbeResult:
    """Run every step; a failed step skips the ones that depend on it.

    ``env`` is normally ``os.environ``. ``connection_verify`` (a CA bundle path) and ``retries`` are
    for tests and unusual networks; the default trusts the system CAs (and ``REQUESTS_CA_BUNDLE``).
    """
    transport_kwargs: dict[str, Any] = {"retry_total": retries, "connection_timeout": timeout,
                                        "read_timeout": timeout}
    if connection_verify is not None:
        transport_kwargs["connection_verify"] = connection_verify
    result = ProbeResult()
    wants_blob = bool(account and container) or bool(blob_endpoint and container)
    if not _check_env(env, result):
        _skip(result, "token file", "token exchange", *(["blob list"] if wants_blob else []))
        return result
    if not _check_token_file(env["AZURE_FEDERATED_TOKEN_FILE"], result):
        _skip(result, "token exchange", *(["blob list"] if wants_blob else []))
        return result
    token = _exchange(env, scope, result, transport_kwargs)
    if not wants_blob:
        result.steps.append(ProbeStep("blob list", "skip", "not requested (--account and --container)"))
        return result
    if token is None:
        _skip(result, "blob list")
        return result
    url = blob_list_url(account or "", container or "", blob_endpoint=blob_endpoint,
                        authority=env.get(AUTHORITY_ENV))
    _blob_list(url, token, result, transport_kwargs)
    return result


def _skip(result: ProbeResult, *names: str) -> None:
    for name in names:
        result.steps.append(ProbeStep(name, "skip", "skipped: an earlier step failed"))


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def _xml_code(body: str) -> str | None:
    match = re.search(r"<Code>([^<]+)</Code>", body)
    return match.group(1) if match else None
