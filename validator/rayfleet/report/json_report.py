"""JSON report; its shape is documented by ``schemas/report.schema.json``."""

from __future__ import annotations

import json
from typing import Any

from ..findings import Finding
from ..result import Result
from .common import summary

SCHEMA_ID = "https://rayfleet.dev/schemas/report.schema.json"


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    obj = finding.obj
    suppressed = finding.suppressed
    return {
        "policy": finding.policy,
        "severity": finding.severity.value,
        "region": finding.region,
        "object": None if obj is None else {
            "apiVersion": obj.api_version, "kind": obj.kind, "namespace": obj.namespace, "name": obj.name},
        "path": finding.path,
        "message": finding.message,
        "remediation": finding.remediation,
        "source": None if finding.source is None and finding.template is None else {
            "file": finding.source.file if finding.source else finding.template,
            "line": finding.source.line if finding.source else None,
            "template": finding.template,
        },
        "suppressed": None if suppressed is None else {
            "reason": suppressed.reason, "owner": suppressed.owner, "expires": suppressed.expires.isoformat()},
    }


def to_dict(result: Result) -> dict[str, Any]:
    counts = summary(result)
    document: dict[str, Any] = {
        "$schema": SCHEMA_ID,
        "tool": {"name": "rayfleet", "version": result.tool_version, "command": result.command},
        "summary": {
            **counts,
            "regions": len([r for r in result.regions if r.name is not None]),
            "objects": sum(r.objects for r in result.regions),
            "policies": len(result.policies),
        },
        "regions": [
            {"name": r.name, "objects": r.objects, "rendered": r.rendered, "helmCommand": r.helm_command}
            for r in result.regions
        ],
        "skippedPolicies": list(result.skipped_policies),
        "findings": [finding_to_dict(f) for f in result.sorted_findings()],
    }
    for key, value in result.extra.items():
        if isinstance(value, dict | list) and key != "renders":
            document.setdefault("data", {})[key] = value
    return document


def render(result: Result) -> str:
    return json.dumps(to_dict(result), indent=2, sort_keys=False) + "\n"
