"""SARIF 2.1.0 for GitHub code scanning: one rule per policy, results with repo-relative URIs and
line regions, waived findings carried as suppressions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..findings import Finding, Severity
from ..result import Result

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO_URI = "https://pypi.org/project/rayfleet/"


def _rule(policy: Any) -> dict[str, Any]:
    help_text = f"{policy.rationale}\n\nRemediation: {policy.remediation}"
    refs = "".join(f"\n- {ref}" for ref in policy.references)
    rule: dict[str, Any] = {
        "id": policy.id,
        "name": "".join(part.capitalize() for part in policy.id.split("-")),
        "shortDescription": {"text": policy.title},
        "fullDescription": {"text": policy.rationale},
        "help": {"text": help_text, "markdown": f"{policy.rationale}\n\n**Remediation:** {policy.remediation}"
                 + (f"\n\n**References:**{refs}" if refs else "")},
        "defaultConfiguration": {"level": LEVELS[policy.severity]},
        "properties": {"tags": ["rayfleet", policy.scope.value], "scope": policy.scope.value},
    }
    if policy.references:
        rule["helpUri"] = policy.references[0]
    return rule


def _fingerprint(finding: Finding) -> str:
    key = "|".join([finding.policy, finding.region or "", str(finding.obj or ""), finding.path, finding.message])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    message = finding.message
    if finding.region:
        message = f"[{finding.region}] {message}"
    if finding.obj:
        message += f" ({finding.obj}{' ' + finding.path if finding.path else ''})"
    entry: dict[str, Any] = {
        "ruleId": finding.policy,
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "partialFingerprints": {"rayfleet/v1": _fingerprint(finding)},
        "properties": {"region": finding.region, "path": finding.path},
    }
    if finding.policy in rule_index:
        entry["ruleIndex"] = rule_index[finding.policy]
    file = finding.source.file if finding.source else finding.template
    if file and not file.startswith("<"):
        physical: dict[str, Any] = {"artifactLocation": {"uri": file.replace("\\", "/"), "uriBaseId": "%SRCROOT%"}}
        if finding.source and finding.source.line:
            physical["region"] = {"startLine": finding.source.line}
        location: dict[str, Any] = {"physicalLocation": physical}
        if finding.obj:
            location["logicalLocations"] = [{
                "fullyQualifiedName": "/".join(p for p in (finding.region, str(finding.obj)) if p),
                "kind": "object"}]
        entry["locations"] = [location]
    if finding.suppressed is not None:
        entry["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": f"{finding.suppressed.reason} (owner {finding.suppressed.owner}, "
                             f"expires {finding.suppressed.expires})"}]
    return entry


def render(result: Result) -> str:
    rules = [_rule(p) for p in result.policies]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rayfleet", "version": result.tool_version, "informationUri": INFO_URI,
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The folder rayfleet ran in."}}},
            "results": [_result(f, rule_index) for f in result.sorted_findings()],
            "properties": {"command": result.command},
        }],
    }
    return json.dumps(document, indent=2) + "\n"
