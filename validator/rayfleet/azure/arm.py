"""The Azure Resource Manager client every live check uses.

* **Credential**: ``DefaultAzureCredential`` unless one is passed in. Its chain is chosen the
  usual azure-identity way, e.g. ``AZURE_TOKEN_CREDENTIALS=WorkloadIdentityCredential`` (or
  ``prod``) in CI with workload identity federation (``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``,
  ``AZURE_FEDERATED_TOKEN_FILE``). The fleet's cloud gives the Entra ID authority unless
  ``AZURE_AUTHORITY_HOST`` is set (inside ``DefaultAzureCredential`` workload identity only reads
  that variable anyway).
* **Pipeline**: azure-core ``PipelineClient`` with a user agent, ``RetryPolicy`` (honours
  ``Retry-After`` on 429 and 5xx) and ``BearerTokenCredentialPolicy`` for the cloud's ARM
  audience (``https://management.azure.com/.default``), over ``RequestsTransport`` with one
  timeout for connect and read. TLS trust follows ``REQUESTS_CA_BUNDLE`` like every requests
  client.
* **Endpoint**: the fleet's cloud (``Fleet.arm_endpoint``) or an explicit override (``--arm-endpoint``,
  for sovereign or private endpoints and for tests). The token audience stays the cloud's.
* **Errors**: every failure becomes ``LiveCheckError(region, cause)`` with a one-line cause.
  Nothing here prints or exits.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._version import __version__
from ..errors import InputError, LiveCheckError
from ..text import one_line

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential, TokenRequestOptions

    from ..fleet import Fleet

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
MAX_PAGES = 1000
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/?#]+)", re.IGNORECASE)
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*([^'\")]+)")


class _CredentialFailure(Exception):
    """The credential could not get a token (kept apart from the pipeline's own errors)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _GuardedCredential:
    """Wraps a credential so a failure to get a token is told apart from a failure to reach ARM,
    and is not retried by the ARM pipeline (azure-identity retries its own requests)."""

    def __init__(self, inner: TokenCredential) -> None:
        self.inner = inner

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        try:
            return self.inner.get_token(*scopes, **kwargs)
        except Exception as exc:
            raise _CredentialFailure(exc) from exc

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo

        try:
            if hasattr(self.inner, "get_token_info"):
                return self.inner.get_token_info(*scopes, options=options)
            token = self.inner.get_token(*scopes)
            return AccessTokenInfo(token.token, token.expires_on)
        except Exception as exc:
            raise _CredentialFailure(exc) from exc


def default_credential(authority: str | None = None) -> TokenCredential:
    """``DefaultAzureCredential`` for the given Entra ID authority host (``login.microsoftonline.com``).

    ``AZURE_AUTHORITY_HOST`` wins when set. A bad ``AZURE_TOKEN_CREDENTIALS`` is an ``InputError``.
    """
    from azure.identity import DefaultAzureCredential

    kwargs: dict[str, Any] = {}
    if authority and not os.environ.get("AZURE_AUTHORITY_HOST"):
        kwargs["authority"] = authority
    try:
        return DefaultAzureCredential(**kwargs)
    except ValueError as exc:
        raise InputError(f"Azure credential settings: {one_line(str(exc), 400)}") from None


def subscription_of(path: str) -> str | None:
    match = _SUBSCRIPTION.search(path)
    return match.group(1) if match else None


class ArmClient:
    """GET and paged list calls to Azure Resource Manager.

    Use as a context manager (or call ``close``) so the HTTP session and a credential built here
    are closed. ``region`` on each call only names the region in a ``LiveCheckError``.
    """

    def __init__(self, endpoint: str, *, audience: str | None = None, credential: TokenCredential | None = None,
                 authority: str | None = None, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                 backoff: float = 0.8) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy, UserAgentPolicy
        from azure.core.pipeline.transport import RequestsTransport

        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.netloc:
            raise InputError(f"ARM endpoint {endpoint!r} is not an https:// URL")
        self.endpoint = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.audience = (audience or self.endpoint).rstrip("/")
        self.scope = f"{self.audience}/.default"
        self.timeout = timeout
        self.retries = retries
        self._owns_credential = credential is None
        self.credential = credential if credential is not None else default_credential(authority)
        policies = [
            UserAgentPolicy(user_agent=f"rayfleet/{__version__}"),
            RetryPolicy(retry_total=retries, retry_connect=retries, retry_read=retries, retry_status=retries,
                        retry_backoff_factor=backoff, retry_backoff_max=30),
            BearerTokenCredentialPolicy(_GuardedCredential(self.credential), self.scope),
        ]
        transport = RequestsTransport(connection_timeout=timeout, read_timeout=timeout)
        self._client = PipelineClient(base_url=self.endpoint, policies=policies, transport=transport)

    @classmethod
    def for_fleet(cls, fleet: Fleet, *, endpoint: str | None = None, credential: TokenCredential | None = None,
                  timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> ArmClient:
        """The client for the fleet's cloud; ``endpoint`` overrides the ARM URL (not the audience)."""
        return cls(endpoint or fleet.arm_endpoint, audience=fleet.arm_endpoint, credential=credential,
                   authority=fleet.authority, timeout=timeout, retries=retries)

    # --- calls -----------------------------------------------------------------------------------

    def get(self, path: str, api_version: str, *, region: str, params: dict[str, str] | None = None,
            needs: str | None = None) -> dict[str, Any]:
        """GET ``path`` (relative to the endpoint) and return the JSON body."""
        return self._get_json(self._url(path), {"api-version": api_version, **(params or {})}, region,
                              needs or _default_needs(path))

    def list_pages(self, path: str, api_version: str, *, region: str, params: dict[str, str] | None = None,
                   needs: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a pageable ARM list (``value`` of each page), following ``nextLink``."""
        needs = needs or _default_needs(path)
        url: str | None = self._url(path)
        query: dict[str, str] | None = {"api-version": api_version, **(params or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            assert url is not None
            page = self._get_json(url, query, region, needs)
            items = page.get("value", [])
            if not isinstance(items, list):
                raise LiveCheckError(region, f"ARM answered {_shown(url)} without a 'value' list")
            yield from (item for item in items if isinstance(item, dict))
            next_link = page.get("nextLink")
            if not next_link:
                return
            if not isinstance(next_link, str) or next_link in seen:
                raise LiveCheckError(region, f"ARM returned a nextLink that loops: {_shown(str(next_link))}")
            seen.add(next_link)
            self._check_same_origin(next_link, region)
            url, query = next_link, None  # a nextLink carries its own api-version and skip token
        raise LiveCheckError(region, f"ARM returned more than {MAX_PAGES} pages for {_shown(path)}")

    # --- plumbing --------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError(f"ARM path must start with '/': {path!r}")
        return self.endpoint + path

    def _check_same_origin(self, url: str, region: str) -> None:
        mine, theirs = urlsplit(self.endpoint), urlsplit(url)
        if (theirs.scheme, theirs.netloc.lower()) != (mine.scheme, mine.netloc.lower()):
            raise LiveCheckError(region, f"ARM returned a nextLink to another host ({theirs.netloc}); "
                                         "not sending the token there")

    def _get_json(self, url: str, query: dict[str, str] | None, region: str, needs: str) -> dict[str, Any]:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            ServiceRequestError,
            ServiceResponseError,
            ServiceResponseTimeoutError,
        )
        from azure.core.rest import HttpRequest

        request = HttpRequest("GET", url, params=query, headers={"Accept": "application/json"})
        try:
            response = self._client.send_request(request)
            body = response.text()
        except _CredentialFailure as exc:
            raise LiveCheckError(region, _credential_cause(exc.error, self.scope)) from None
        except ClientAuthenticationError as exc:
            raise LiveCheckError(region, f"authentication failed: {one_line(exc.message, 400)}") from None
        except ServiceResponseTimeoutError:
            raise LiveCheckError(region, f"cannot reach {self.endpoint}: no answer within {self.timeout:g} s "
                                         f"({self.retries} retries)") from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise LiveCheckError(region, f"cannot reach {self.endpoint}: {_network_reason(exc)}") from None
        status = response.status_code
        if status >= 400:
            raise LiveCheckError(region, _http_cause(status, body, needs, self.retries))
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            raise LiveCheckError(region, f"ARM answered {_shown(url)} with a body that is not JSON") from None
        if not isinstance(data, dict):
            raise LiveCheckError(region, f"ARM answered {_shown(url)} with JSON that is not an object")
        return data

    def close(self) -> None:
        self._client.close()
        if self._owns_credential and hasattr(self.credential, "close"):
            self.credential.close()

    def __enter__(self) -> ArmClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _default_needs(path: str) -> str:
    sub = subscription_of(path)
    return f"Reader on subscription {sub}" if sub else "Reader"


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or url


def _arm_error(body: str) -> tuple[str | None, str | None]:
    """(code, message) of ARM's ``{"error": {"code", "message"}}`` (or Entra's flat shape)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, one_line(body, 200) if body.strip() else None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return (str(error["code"]) if error.get("code") else None,
                    one_line(error["message"], 300) if error.get("message") else None)
        if isinstance(error, str):
            return error, one_line(str(data.get("error_description", "")), 300) or None
    return None, None


def _http_cause(status: int, body: str, needs: str, retries: int) -> str:
    code, message = _arm_error(body)
    detail = ": ".join(p for p in (code, message) if p)
    suffix = f"; {detail}" if detail else ""
    if status == 403:
        return f"permission denied: needs {needs}{suffix}"
    if status == 401:
        return f"authentication failed: ARM refused the token{suffix}"
    if status == 404:
        return f"not found{suffix}"
    if status == 429:
        return f"throttled by ARM (429) after {retries} retries{suffix}"
    return f"ARM answered {status}{suffix}"


def _credential_cause(error: BaseException, scope: str) -> str:
    from azure.core.exceptions import ClientAuthenticationError

    message = getattr(error, "message", None) or str(error) or type(error).__name__
    if isinstance(error, ClientAuthenticationError):
        return f"cannot get a token for {scope}: {one_line(message, 400)}"
    return f"cannot get a token for {scope}: {type(error).__name__}: {one_line(message, 400)}"


def _network_reason(exc: BaseException) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return ("TLS certificate not trusted (CERTIFICATE_VERIFY_FAILED); for a private CA set "
                "REQUESTS_CA_BUNDLE")
    if "timed out" in text.lower():
        return "timed out"
    match = _ERRNO.search(text)
    if match:
        return match.group(1).strip()
    return one_line(text, 200)
