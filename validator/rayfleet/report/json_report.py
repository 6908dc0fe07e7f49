"""JSON report; its shape is documented by ``schemas/report.schema.json``."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ..findings import Finding
from ..result import Result
from .capacity import capacity_to_dict
from .common import summary
from .identity import plan_to_dict
from .rbac import rbac_assignment_to_dict
from .rollout import rollout_to_dict
from .update_run import update_run_to_dict

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
    data = sections(result)
    if data:
        document["data"] = data
    return document


def sections(result: Result) -> dict[str, Any]:
    """The result's typed sections, as ``data`` in the JSON report."""
    data: dict[str, Any] = {}
    if result.capacity is not None:
        data["capacity"] = capacity_to_dict(result.capacity)
    if result.clusters is not None:
        data["clusters"] = {name: asdict(settings) for name, settings in result.clusters.items()}
    if result.storage_accounts is not None:
        data["storageAccounts"] = {key: dict(value) for key, value in result.storage_accounts.items()}
    if result.identity_plan is not None:
        data["identityPlan"] = plan_to_dict(result.identity_plan)
        if result.role_assignments is not None:
            data["identityPlan"]["roleAssignments"] = [rbac_assignment_to_dict(a) for a in result.role_assignments]
    if result.rollout is not None:
        data["rollout"] = rollout_to_dict(result.rollout)
    if result.update_run is not None:
        data["rollout"] = update_run_to_dict(result.update_run)
    if result.inputs:  # scan: the paths it read
        data["inputs"] = list(result.inputs)
    return data


def format_result(result: Result) -> str:
    return json.dumps(to_dict(result), indent=2, sort_keys=False) + "\n"
