"""ValidatingAdmissionPolicy and binding objects from the twins: one builder for the export,
``rayfleet admit`` and the chart's generated file, so the three cannot drift."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..admission_settings import POLICY_ANNOTATION, declared_settings, registry_prefixes, setting_literals
from ..findings import Severity
from ..fleet import PolicySettings
from ..policies import get_policy
from .twin import Kind, Twin
from .twins import TWINS

API_VERSION = "admissionregistration.k8s.io/v1"
MODES = ("Deny", "Warn")
SEVERITY_ANNOTATION = "rayfleet.io/severity"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace


def twin_severity(twin: Twin, declared: set[str]) -> Severity:
    if twin.warn_without and twin.warn_without not in declared:
        return Severity.WARNING
    return twin.severity or get_policy(twin.policy).severity


def validation_actions(severity: Severity, mode: str) -> list[str]:
    """error → Deny; warning (or mode Warn) → Warn and Audit."""
    return ["Deny"] if severity is Severity.ERROR and mode == "Deny" else ["Warn", "Audit"]


def resource_rules(kinds: Iterable[Kind]) -> list[dict[str, Any]]:
    rules: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for kind in kinds:
        rules.setdefault((kind.group, kind.versions), []).append(kind.resource)
    return [{"apiGroups": [group], "apiVersions": list(versions), "operations": ["CREATE", "UPDATE"],
             "resources": resources} for (group, versions), resources in rules.items()]


def message(twin: Twin, text: str) -> str:
    policy = get_policy(twin.policy)
    return f"{text} [{policy.id}]. {policy.remediation}"


def policy_spec(twin: Twin, literals: dict[str, str] | None) -> dict[str, Any]:
    """The VAP spec. With ``literals`` None, setting variables keep a ``setting`` key in place of
    their expression (the chart fills them from its values)."""
    variables = []
    for var in twin.variables:
        if var.setting is None:
            variables.append({"name": var.name, "expression": var.expression})
        elif literals is None:
            variables.append({"name": var.name, "setting": var.setting})
        else:
            variables.append({"name": var.name, "expression": literals[var.setting]})
    spec: dict[str, Any] = {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": resource_rules(twin.kinds)},
    }
    if twin.match_conditions:
        spec["matchConditions"] = [{"name": n, "expression": e} for n, e in twin.match_conditions]
    if variables:
        spec["variables"] = variables
    spec["validations"] = [{"expression": v.expression, "message": message(twin, v.message), "reason": "Invalid"}
                           for v in twin.validations]
    return spec


@dataclass(frozen=True)
class AdmissionOptions:
    """Where and how the objects apply: the release namespace, Deny or Warn, name prefix."""

    namespace: str
    mode: str = "Deny"
    prefix: str = "rayfleet"


def object_name(twin: Twin, prefix: str) -> str:
    return f"{prefix}-{twin.policy}" + (f"-{twin.suffix}" if twin.suffix else "")


def admission_objects(settings: PolicySettings, options: AdmissionOptions,
                      twins: Iterable[Twin] = TWINS) -> list[dict[str, Any]]:
    """Every twin as a ValidatingAdmissionPolicy followed by its binding."""
    literals = setting_literals(settings)
    declared = declared_settings(settings)
    out: list[dict[str, Any]] = []
    for twin in twins:
        name = object_name(twin, options.prefix)
        severity = twin_severity(twin, declared)
        annotations = {POLICY_ANNOTATION: twin.policy, SEVERITY_ANNOTATION: severity.value}
        out.append({"apiVersion": API_VERSION, "kind": "ValidatingAdmissionPolicy",
                    "metadata": {"name": name, "annotations": annotations},
                    "spec": policy_spec(twin, literals)})
        out.append({"apiVersion": API_VERSION, "kind": "ValidatingAdmissionPolicyBinding",
                    "metadata": {"name": name, "annotations": annotations},
                    "spec": {"policyName": name,
                             "validationActions": validation_actions(severity, options.mode),
                             "matchResources": {"namespaceSelector": {
                                 "matchLabels": {NAMESPACE_LABEL: options.namespace}}}}})
    return out


def chart_entries(twins: Iterable[Twin] = TWINS) -> list[dict[str, Any]]:
    """What the chart's generated file holds: each twin's spec with settings left open."""
    entries = []
    for twin in twins:
        entry: dict[str, Any] = {"name": object_name(twin, "")[1:], "policy": twin.policy,
                                 "severity": (twin.severity or get_policy(twin.policy).severity).value}
        if twin.warn_without:
            entry["warnWithout"] = twin.warn_without
        entry["spec"] = policy_spec(twin, None)
        entries.append(entry)
    return entries


__all__ = [
    "MODES",
    "AdmissionOptions",
    "admission_objects",
    "chart_entries",
    "registry_prefixes",
    "setting_literals",
    "validation_actions",
]
