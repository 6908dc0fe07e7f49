"""Secrets hold no storage keys, SAS tokens, connection strings, client secrets or private keys."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Severity, Violation
from ..secrets import BLOB_SECRET_KEYS, child_path, decode_secret_data, detect, redact
from .base import Policy, ReleaseObjects, Scope

# The name the Blob CSI driver looks up (and writes, when storeAccountKey is on) for an account key.
_DRIVER_SECRET_NAME = re.compile(r"^azure-storage-account-.+-secret$")


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.of_kind("Secret"):
        if obj.api_version != "v1":
            continue
        if _DRIVER_SECRET_NAME.match(obj.name):
            yield Violation(f"Secret {obj.name!r} has the name the Blob CSI driver reads a storage account "
                            "key from", obj=obj.ref, path="metadata.name", value=obj.name)
        for section, encoded in (("data", True), ("stringData", False)):
            data = obj.body.get(section)
            if not isinstance(data, dict):
                continue
            for key, raw in data.items():
                path = child_path(section, str(key))
                if str(key).lower() in BLOB_SECRET_KEYS:
                    yield Violation(f"Secret {obj.name!r} holds key {key!r}, which the Blob CSI driver "
                                    "reads a credential from", obj=obj.ref, path=path)
                    continue
                text = decode_secret_data(raw) if encoded else (raw if isinstance(raw, str) else None)
                if text is None:
                    continue
                found = detect(str(key), text)
                if found is not None:
                    # The decoded value is the secret; never print more than its first characters.
                    yield Violation(f"Secret {obj.name!r} key {key!r} holds a credential: {found.label} "
                                    f"({redact(text)})", obj=obj.ref, path=path)


POLICY = Policy(
    id="no-credential-secrets",
    title="Secrets hold no Azure credentials",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "A storage account key, SAS token, connection string, client secret or private key in a Secret is "
        "a long-lived credential that outlives every pod and leaks with the chart's values. Secret data is "
        "decoded from base64 before it is checked, and the Secret keys and names the Blob CSI driver reads "
        "keys from (azurestorageaccountkey, azurestorageaccountsastoken, msisecret, "
        "azurestoragespnclientsecret, azure-storage-account-*-secret) are rejected whatever they hold."
    ),
    remediation=(
        "Delete the Secret, rotate the credential it held, and mount storage with workload identity "
        "(clientID and mountWithWorkloadIdentityToken: \"true\")."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/driver-parameters.md",
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
        "https://kubernetes.io/docs/concepts/configuration/secret/",
    ),
    check=check,
)
