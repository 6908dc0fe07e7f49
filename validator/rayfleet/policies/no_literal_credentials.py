"""No literal credentials anywhere in the release or its values files."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, SourceLocation, Violation
from ..secrets import CREDENTIAL_NAME, decode_secret_data, detect, format_path, redact, scan
from .base import Policy, ReleaseObjects, Scope


def _is_env_value(keys: tuple[str | int, ...]) -> bool:
    # ``...env[i].value``: credential-named env variables are no-credential-env's job.
    return len(keys) >= 3 and keys[-1] == "value" and isinstance(keys[-2], int) and keys[-3] == "env"


def _describe(name: str | None) -> str:
    return f" in {name!r}" if name else ""


def _values_hits(release: ReleaseObjects) -> dict[str, tuple[SourceLocation, str, str]]:
    """Credentials in the values files as written: value -> (file and line, key path, label).
    A later file wins, as in Helm's merge."""
    hits: dict[str, tuple[SourceLocation, str, str]] = {}
    if release.values is None:
        return hits
    for values_file in release.values.files:
        for keys, _name, value, found in scan(values_file.data):
            location = SourceLocation(values_file.path, values_file.document.line_of(keys))
            hits[value] = (location, format_path(keys), found.label)
    return hits


def check(release: ReleaseObjects) -> Iterator[Violation]:
    from_values = _values_hits(release)
    reported: set[str] = set()
    for obj in release.objects:
        if obj.kind == "Secret" and obj.api_version == "v1":
            continue  # decoded and checked by no-credential-secrets
        # One walk over every string of the body: env (paired with names), args, command,
        # ConfigMap data, annotations, labels, volumeAttributes, parameters, mountOptions...
        for keys, name, value, found in scan(obj.body):
            reported.add(value)
            if found is CREDENTIAL_NAME and _is_env_value(keys):
                continue
            # Point at the values file line that set it, when a values file holds this very value
            # (values inside lists are not traced by the pipeline).
            origin = from_values.get(value)
            yield Violation(f"literal credential{_describe(name)}: {found.label} ({redact(value)})",
                            obj=obj.ref, path=format_path(keys), value=value,
                            source=origin[0] if origin else None)
        if obj.kind == "ConfigMap":
            binary = obj.body.get("binaryData")
            for key, raw in binary.items() if isinstance(binary, dict) else ():
                text = decode_secret_data(raw)
                found = detect(str(key), text) if text is not None else None
                if found is not None and text is not None:
                    yield Violation(f"literal credential in {key!r}: {found.label} ({redact(text)})",
                                    obj=obj.ref, path=format_path(("binaryData", str(key))))
    # Values files are scanned as written, so a key pasted into an override is caught even when no
    # template uses it. Values that reached a rendered object were reported there.
    for value, (location, path, label) in from_values.items():
        if value not in reported:
            yield Violation(f"values file sets a literal credential at {path}: {label} ({redact(value)})",
                            path=path, value=value, source=location)


POLICY = Policy(
    id="no-literal-credentials",
    title="No literal credentials in manifests or values files",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "A credential written into a manifest or a values file ends up in Git, in Helm's release history "
        "and in every kubectl describe. Every string of every object is checked once (env values paired "
        "with their names, args, command, ConfigMap data, annotations, labels, CSI volumeAttributes, "
        "StorageClass parameters, mountOptions), and so is every values file before rendering. Values are "
        "recognised by shape: 88-character storage account keys, connection strings with AccountKey=, "
        "SharedAccessKey= or SharedAccessSignature=, SAS query strings (sv= with sig=), Entra client "
        "secrets, PEM private keys and JWTs; and by name, for fields called like Blob CSI secret keys or "
        "client secrets. Identifiers (account names, client and tenant IDs, resource IDs, digests, "
        "public certificates) are not credentials and do not match. Messages show only the first four "
        "characters of a value."
    ),
    remediation=(
        "Remove the value, rotate the credential, and let the pod obtain a token through workload "
        "identity instead."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/workload-identity-overview",
        "https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage",
        "https://learn.microsoft.com/azure/storage/common/storage-sas-overview",
    ),
    check=check,
)
