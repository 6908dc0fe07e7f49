"""Credential detectors, in one place: by shape (what a value looks like) and by name (what it is
called). The secret policies and the corpus test (``tests/policies/secret_corpus.yaml``) use them.

Shapes are Azure-first: storage account keys, connection strings, SAS query strings, Entra client
secrets; plus PEM private keys and JWTs. Names are the environment variables azure-identity and
the Blob CSI driver read credentials from, and the Secret keys the driver consumes.

Everything is compiled once at import; each detector starts with a cheap substring test so the
common case (a short, harmless string) costs a few comparisons.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Detection:
    """What a value was recognised as: a stable class (the corpus label) and words for people."""

    kind: str
    label: str


STORAGE_ACCOUNT_KEY = Detection("storage-account-key", "Azure storage account key")
CONNECTION_STRING = Detection("connection-string", "connection string with a key or signature")
SAS_TOKEN = Detection("sas-token", "SAS token")
CLIENT_SECRET = Detection("client-secret", "Entra ID client secret")
PRIVATE_KEY = Detection("private-key", "PEM private key")
JWT = Detection("jwt", "JSON Web Token")
CREDENTIAL_NAME = Detection("credential-name", "value of a credential-named field")

# A storage account key is 64 random bytes: exactly 88 base64 characters ending in "==". A
# Subresource Integrity digest (sha512-<88 chars>) has the same shape and is not a secret.
_ACCOUNT_KEY = re.compile(r"(?<![A-Za-z0-9+/])(?<!sha512-)[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")
# Connection strings (storage, Service Bus, Event Hubs, IoT Hub): a key or a signature inside.
_CONNECTION_STRING = re.compile(
    r"(?i)(?:^|[;\s\"'])(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*[^;\s\"'<>${}]{8,}")
# A SAS is a query string with a service version and a signature; either alone is harmless.
_SAS_VERSION = re.compile(r"(?:^|[?&;\s])sv=\d{4}-\d{2}-\d{2}")
_SAS_SIGNATURE = re.compile(r"(?:^|[?&;\s])sig=[A-Za-z0-9%+/=_-]{16,}")
# Entra client secrets: 3 chars, a digit, "Q~", then 31-34 chars (40 in total today).
_CLIENT_SECRET = re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])")
# Any private key block; public certificates ("BEGIN CERTIFICATE") do not match.
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# A JWT's header and payload are base64url JSON objects, so both start with "eyJ" ('{"').
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")


def detect_value(value: str) -> Detection | None:
    """The credential a string holds, by shape alone, or None."""
    if len(value) < 20:  # the shortest shape (a JWT or a SAS) is longer than this
        return None
    if "PRIVATE KEY" in value and _PRIVATE_KEY.search(value):
        return PRIVATE_KEY
    if "=" in value:
        lowered = value.lower()
        if ("accountkey" in lowered or "sharedaccess" in lowered) and _CONNECTION_STRING.search(value):
            return CONNECTION_STRING
        if "sig=" in value and "sv=" in value and _SAS_SIGNATURE.search(value) and _SAS_VERSION.search(value):
            return SAS_TOKEN
        if "==" in value and _ACCOUNT_KEY.search(value):
            return STORAGE_ACCOUNT_KEY
    if "Q~" in value and _CLIENT_SECRET.search(value):
        return CLIENT_SECRET
    if "eyJ" in value and _JWT.search(value):
        return JWT
    return None


# --- names ----------------------------------------------------------------------------------

# Environment variables that hold (or point at) a long-lived credential. EnvironmentCredential is
# first in DefaultAzureCredential, so any of these also silently overrides workload identity.
CREDENTIAL_ENV_NAMES = frozenset({
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_SPN_CLIENT_SECRET",
})
# Secret keys the Blob CSI driver reads a credential from.
BLOB_SECRET_KEYS = frozenset({
    "azurestorageaccountkey",
    "azurestorageaccountsastoken",
    "msisecret",
    "azurestoragespnclientsecret",
})
# Env variables the workload identity webhook injects: identifiers, never secrets.
WORKLOAD_IDENTITY_ENV_NAMES = frozenset({
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
})


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Map keys compared without case or separators (`clientSecret`, `client-secret`, `AZURE_CLIENT_SECRET`).
_CREDENTIAL_KEYS = frozenset(
    {_normalise(n) for n in CREDENTIAL_ENV_NAMES if not n.endswith("_PATH")}
    | BLOB_SECRET_KEYS
    | {"clientsecret", "accountkey", "storageaccountkey", "storagekey", "sastoken", "storagesastoken",
       "connectionstring", "storageconnectionstring", "certificatepassword"}
)
# Values a credential-named field may hold without holding a credential.
_PLACEHOLDER = re.compile(r"^(?:|true|false|null|none|changeme|<[^>]*>|\$\{[^}]*\}|\{\{.*\}\}|\*+)$", re.I)


def is_credential_env_name(name: str) -> bool:
    return name.upper() in CREDENTIAL_ENV_NAMES


def is_credential_key(name: str) -> bool:
    """Whether a map key or env name says its value is a credential (`azurestorageaccountkey`)."""
    return _normalise(name) in _CREDENTIAL_KEYS


def detect(name: str | None, value: str) -> Detection | None:
    """Shape first; else a non-placeholder value under a credential name."""
    found = detect_value(value)
    if found is not None:
        return found
    if name and is_credential_key(name) and not _PLACEHOLDER.match(value.strip()):
        return CREDENTIAL_NAME
    return None


def redact(value: object) -> str:
    """A value safe to print: its first four characters and an ellipsis."""
    text = str(value)
    return f"{text[:4]}…"


# Free text (an error message, Helm's stderr) may quote a credential anywhere in it: each shape is
# found again there and cut down to what ``redact`` shows. A group named "keep" stays as written.
_PEM_BLOCK = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[^-]*-----|$)", re.S)
_IN_TEXT = (
    re.compile(r"(?i)(?P<keep>(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*)[^;\s\"'<>${}]{8,}"),
    re.compile(r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(?P<keep>\b(?:token|access_token|refresh_token|id_token|client_assertion)[\"']?\s*[:=]\s*[\"']?)"
               r"[A-Za-z0-9._~+/-]{20,}"),
    _ACCOUNT_KEY,
    _CLIENT_SECRET,
    _JWT,
)
_SAS_SIG_IN_TEXT = re.compile(r"(?P<keep>(?:^|[?&;\s\"'])sig=)[A-Za-z0-9%+/=_-]{16,}")
# `clientSecret: value`, `AZURE_CLIENT_SECRET=value`: a credential-named key with a value after it
_NAME_THEN_SEPARATOR = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)[\"']?\s*[:=]\s*(?P<open>[\"']?)")
_VALUE = re.compile(r"[^\s\"',;]+")


def _shorten(match: re.Match[str]) -> str:
    keep = match.groupdict().get("keep") or ""
    return keep + redact(match.group(0)[len(keep):])


# Names whose values output never quotes, though the policies do not call them Azure credentials
# (a chart's own `redisPassword:` or `apiToken:`): redaction errs towards hiding. `secret` and
# `token` alone, since `existingSecret` or `secretName` name a Secret rather than hold one.
_REDACTED_SUFFIXES = ("password", "passwd", "apikey", "apitoken", "accesstoken", "privatekey")
_REDACTED_NAMES = frozenset({"secret", "token"})


def _names_a_secret(name: str) -> bool:
    normalised = _normalise(name)
    return (normalised in _CREDENTIAL_KEYS or normalised in _REDACTED_NAMES
            or normalised.endswith(_REDACTED_SUFFIXES))


def _redact_named_values(text: str) -> str:
    pieces: list[str] = []
    done = 0
    for match in _NAME_THEN_SEPARATOR.finditer(text):
        if match.start() < done or not _names_a_secret(match.group("name")):
            continue
        value = _VALUE.match(text, match.end())
        if value is None:
            continue
        raw = value.group(0)
        bare = raw.rstrip("})]")
        if _PLACEHOLDER.match(raw) or _PLACEHOLDER.match(bare) or bare.endswith("…"):
            continue
        # unquoted, it may be prose ("'clientSecret': value of ..."): a credential has 8+ characters
        # and something besides letters
        if not match.group("open") and (len(bare) < 8 or bare.isalpha()):
            continue
        pieces += [text[done:match.end()], redact(bare), raw[len(bare):]]
        done = value.end()
    return "".join(pieces) + text[done:] if pieces else text


def redact_text(text: str) -> str:
    """``text`` with every credential it quotes cut down as ``redact`` does: the one redaction
    applied to findings, error messages and Helm's output before anyone sees them. The shapes are
    the detectors' own; a SAS signature counts only beside a service version, as in ``detect``."""
    if "PRIVATE KEY" in text:
        text = _PEM_BLOCK.sub(lambda m: redact(m.group(0)), text)
    for pattern in _IN_TEXT:
        text = pattern.sub(_shorten, text)
    if "sig=" in text and _SAS_VERSION.search(text):
        text = _SAS_SIG_IN_TEXT.sub(_shorten, text)
    if ":" in text or "=" in text:
        text = _redact_named_values(text)
    return text


def decode_secret_data(value: object) -> str | None:
    """A Secret ``data`` value decoded to text, or None when it is not base64 of UTF-8 text."""
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- walking ---------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def child_path(path: str, key: str | int) -> str:
    """JSON path of a child: ``a.b``, ``a[0]``, ``a["x.io/y"]`` (keys with dots or slashes)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{quoted}"]'


def format_path(keys: tuple[str | int, ...], prefix: str = "") -> str:
    path = prefix
    for key in keys:
        path = child_path(path, key)
    return path


def walk_strings(node: Any, keys: tuple[str | int, ...] = (),
                 name: str | None = None) -> Iterator[tuple[tuple[str | int, ...], str | None, str]]:
    """Every string in a YAML tree as (key path, name, value), each visited once.

    ``name`` is the mapping key of the value; for ``{name: X, value: V}`` items (env variables and
    the like) the value's name is X, so a credential name and its value stay paired. The key path
    is a tuple (``format_path`` makes it a JSON path, ``LoadedDocument.line_of`` a line).
    """
    if isinstance(node, str):
        yield keys, name, node
    elif isinstance(node, dict):
        paired = node.get("name") if isinstance(node.get("name"), str) and "value" in node else None
        for k, v in node.items():
            ks = str(k)
            yield from walk_strings(v, (*keys, ks), paired if paired is not None and ks == "value" else ks)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_strings(v, (*keys, i), name)


def scan(node: Any) -> Iterator[tuple[tuple[str | int, ...], str | None, str, Detection]]:
    """Every credential in a YAML tree: (key path, name, value, detection)."""
    for keys, name, value in walk_strings(node):
        found = detect(name, value)
        if found is not None:
            yield keys, name, value, found
