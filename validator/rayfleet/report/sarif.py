"""SARIF 2.1.0 for GitHub code scanning: one rule per policy; every result has a repo-relative
location with a line (``rayfleet.locations``) and a fingerprint from its stable parts
(``rayfleet.fingerprints``); one category per region selection; waived findings carried as
suppressions."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..findings import Finding, Severity, SourceLocation
from ..fingerprints import fingerprints
from ..locations import Locator
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
    if policy.id in SECURITY_POLICIES:
        rule["properties"]["tags"].insert(0, "security")
        rule["properties"]["security-severity"] = SECURITY_SEVERITY[policy.severity]
    if policy.references:
        rule["helpUri"] = policy.references[0]
    return rule


# Policies about credentials, identity and container isolation: code scanning lists them as
# security alerts (tag "security", with a security-severity) rather than as quality warnings.
SECURITY_POLICIES = frozenset({
    "no-secret-objects", "no-credential-secrets", "no-literal-credentials", "no-credential-env",
    "blob-token-only-auth", "blobfuse-secret-mount-options", "blobfuse-allow-other",
    "workload-identity-pod-label", "workload-identity-service-account", "workload-identity-token-expiration",
    "workload-identity-env-override", "image-pinned", "image-registry-allowed", "no-privileged-containers",
    "no-privilege-escalation", "no-added-capabilities", "no-host-namespaces", "no-host-path-volumes",
    "region-identity-declared", "region-identity-match", "federated-credential-limit",
    "federated-credential-missing", "federated-credential-mismatch", "federated-credential-stale",
    "aks-oidc-issuer", "aks-workload-identity", "azure-files-account-key", "ray-privilege-escalation-unset",
    "rbac-broad-namespaced", "blob-provisioner-role", "anyscale-iam-identity", "anyscale-operator-workload-identity",
    "kueue-no-kubeconfig-secret",
})
# GitHub's bands: 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "2.0"}
CATEGORY = "rayfleet"


def category(result: Result) -> str:
    """The code scanning category of this run: ``rayfleet`` for the whole fleet, ``rayfleet/<region>``
    (regions joined by ``+``) for a selection, ``rayfleet/scan`` for scanned manifests. The GitHub
    action passes the same string to upload-sarif, so per-region jobs never replace each other."""
    if result.command == "scan":
        return f"{CATEGORY}/scan"
    fleet = _fleet(result)
    checked = sorted(result.releases)
    if fleet is None or not checked or set(checked) == {r.name for r in fleet.regions}:
        return CATEGORY
    return f"{CATEGORY}/{'+'.join(checked)}"


def _fleet(result: Result) -> Any:
    for release in result.releases.values():
        return release.fleet
    return None


def locator_for(result: Result) -> Locator:
    fleet = _fleet(result)
    if fleet is None and result.command == "scan":
        return Locator(inputs=result.inputs, stdin_name=result.stdin_name)
    if fleet is None:  # quota, identity check, preflight: their findings name the fleet file they read
        files = Counter(f.source.file for f in result.findings if f.source and not f.source.file.startswith("<"))
        return Locator(default_file=max(files, key=files.__getitem__) if files else "fleet.yaml")
    lines: dict[str, int] = {}
    if fleet.document is not None:
        for index, region in enumerate(fleet.regions):
            line = fleet.document.line_of(("regions", index, "name"))
            if line:
                lines[region.name] = line
    return Locator(fleet_file=fleet.relative(fleet.path), region_lines=lines)


def _physical(location: SourceLocation) -> dict[str, Any]:
    # Locator.locate gives every location a line (1 when it knows none), as SARIF wants.
    return {"artifactLocation": {"uri": location.file.replace("\\", "/"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": location.line}}


def _result(finding: Finding, rule_index: dict[str, int], locations: list[SourceLocation],
            fingerprint: str) -> dict[str, Any]:
    message = finding.message
    if finding.region:
        message = f"[{finding.region}] {message}"
    if finding.obj:
        message += f" ({finding.obj}{' ' + finding.path if finding.path else ''})"
    entry: dict[str, Any] = {
        "ruleId": finding.policy,
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "partialFingerprints": {"rayfleet/v2": fingerprint},
        "properties": {"region": finding.region, "path": finding.path},
    }
    if finding.policy in rule_index:
        entry["ruleIndex"] = rule_index[finding.policy]
    location: dict[str, Any] = {"physicalLocation": _physical(locations[0])}
    if finding.obj:
        location["logicalLocations"] = [{
            "fullyQualifiedName": "/".join(p for p in (finding.region, str(finding.obj)) if p), "kind": "object"}]
    entry["locations"] = [location]
    if len(locations) > 1:
        entry["relatedLocations"] = [{"id": i, "physicalLocation": _physical(loc),
                                      "message": {"text": "set here" if i == 1 else "template"}}
                                     for i, loc in enumerate(locations[1:], start=1)]
    if finding.suppressed is not None:
        entry["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": f"{finding.suppressed.reason} (owner {finding.suppressed.owner}, "
                             f"expires {finding.suppressed.expires})"}]
    return entry


def format_result(result: Result) -> str:
    rules = [_rule(p) for p in result.policies]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    findings = result.sorted_findings()
    locator = locator_for(result)
    results = [_result(f, rule_index, locator.locate(f), fp)
               for f, fp in zip(findings, fingerprints(findings), strict=True)]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rayfleet", "version": result.tool_version, "informationUri": INFO_URI,
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The folder rayfleet ran in."}}},
            "automationDetails": {"id": f"{category(result)}/"},
            "results": results,
            "properties": {"command": result.command},
        }],
    }
    return json.dumps(document, indent=2) + "\n"
