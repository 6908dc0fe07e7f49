"""Workload identity token expiration is within 3600-86400 seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ..secrets import child_path
from ..wellknown import WI_TOKEN_EXPIRATION
from ._helpers import as_dict, where
from .base import Policy, ReleaseObjects, Scope

_MIN, _MAX = 3600, 86400


def _problem(value: Any) -> str | None:
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return f"{value!r} is not a number of seconds"
    if not _MIN <= seconds <= _MAX:
        return f"{seconds} is outside {_MIN}-{_MAX} seconds"
    return None


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for account in release.of_kind("ServiceAccount"):
        value = as_dict(account.metadata.get("annotations")).get(WI_TOKEN_EXPIRATION)
        problem = _problem(value) if value is not None else None
        if problem:
            yield Violation(f"ServiceAccount {account.name!r} token expiration {problem}", obj=account.ref,
                            path=child_path("metadata.annotations", WI_TOKEN_EXPIRATION), value=value)
    for tpl in release.pod_templates():
        value = as_dict(tpl.metadata.get("annotations")).get(WI_TOKEN_EXPIRATION)
        problem = _problem(value) if value is not None else None
        if problem:
            base = f"{tpl.path}.metadata.annotations" if tpl.path else "metadata.annotations"
            yield Violation(f"{where(tpl)} token expiration {problem}", obj=tpl.obj.ref,
                            path=child_path(base, WI_TOKEN_EXPIRATION), value=value)


POLICY = Policy(
    id="workload-identity-token-expiration",
    title="Workload identity token expiration is between 3600 and 86400 seconds",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The webhook rejects a service-account-token-expiration outside 3600-86400 seconds at admission, "
        "so pods would not start; the pod annotation takes precedence over the ServiceAccount's."
    ),
    remediation=(
        "Set azure.workload.identity/service-account-token-expiration to a value from 3600 to 86400, or "
        "remove it (default 3600)."
    ),
    references=(
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
    ),
    check=check,
)
