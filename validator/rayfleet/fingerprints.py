"""A finding's identity across runs: policy, region, object and field path, never the message
(messages carry quota numbers and counts that change without the problem changing)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .findings import Finding


def stable_key(finding: Finding) -> tuple[str, str, str, str]:
    """(policy, region, object identity, field path). The object is named by API group, kind,
    namespace and name: moving from ``v1beta1`` to ``v1`` is the same object."""
    obj = ""
    if finding.obj is not None:
        group = finding.obj.api_version.rpartition("/")[0]
        obj = "/".join((group, finding.obj.kind, finding.obj.namespace or "", finding.obj.name))
    return finding.policy, finding.region or "", obj, finding.path


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """One fingerprint per finding, in order. Findings with the same stable key (one policy
    reporting two things about one field) are told apart by their rank among those findings."""
    seen: dict[tuple[str, ...], int] = {}
    result: list[str] = []
    for finding in findings:
        key = stable_key(finding)
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        text = "\x1f".join((*key, str(rank)))
        result.append(hashlib.sha256(text.encode()).hexdigest()[:32])
    return result
