"""``rayfleet admit``: would the API server admit these objects? ValidatingAdmissionPolicies
and their bindings evaluated offline with a real CEL engine (``common-expression-language``).

What the API server does, in order, for each binding and its policy: match the object's group,
version and resource against ``matchConstraints``; the binding's namespace selector (offline,
objects without a namespace are taken to be in the release namespace; cluster-scoped kinds
always match, as for webhooks); every ``matchCondition``; then ``variables`` and each
validation. A false validation is a violation; an error is one too, because the policies use
``failurePolicy: Fail``. Deny becomes an error finding, Warn a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cel

from ..errors import InputError
from ..findings import Finding, Severity
from ..manifests import KubeObject
from .build import NAMESPACE_LABEL, POLICY_ANNOTATION
from .kinds import BLOB, POD_OWNERS, ROLE, SECRET, SERVICEACCOUNT

_KNOWN = {(k.group, k.kind): k for k in (*POD_OWNERS, *BLOB, SECRET, SERVICEACCOUNT, ROLE)}
CLUSTER_SCOPED = {"StorageClass", "PersistentVolume", "Namespace", "CustomResourceDefinition", "ClusterRole",
                  "ClusterRoleBinding", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver"}


def resource_of(obj: KubeObject) -> str:
    known = _KNOWN.get((obj.group, obj.kind))
    return known.resource if known else obj.kind.lower() + "s"


class _Compiled:
    """CEL programs, compiled once per expression text."""

    def __init__(self) -> None:
        self._programs: dict[str, Any] = {}

    def run(self, expression: str, context: dict[str, Any]) -> Any:
        program = self._programs.get(expression)
        if program is None:
            program = self._programs[expression] = cel.compile(expression)
        return program.execute(context)


@dataclass
class AdmissionPolicy:
    """One ValidatingAdmissionPolicy with the bindings that point at it."""

    body: dict[str, Any]
    bindings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.body.get("metadata", {}).get("name", ""))

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def policy_id(self) -> str:
        annotations = self.body.get("metadata", {}).get("annotations") or {}
        return str(annotations.get(POLICY_ANNOTATION) or self.name)


def pair_policies(objects: Iterable[dict[str, Any]]) -> list[AdmissionPolicy]:
    """VAPs with their bindings; a binding naming no policy in the set is bad input."""
    policies: dict[str, AdmissionPolicy] = {}
    bindings = []
    for obj in objects:
        if obj.get("kind") == "ValidatingAdmissionPolicy":
            policy = AdmissionPolicy(obj)
            policies[policy.name] = policy
        elif obj.get("kind") == "ValidatingAdmissionPolicyBinding":
            bindings.append(obj)
    for binding in bindings:
        target = (binding.get("spec") or {}).get("policyName")
        if target not in policies:
            name = (binding.get("metadata") or {}).get("name")
            raise InputError(f"ValidatingAdmissionPolicyBinding {name!r}: spec.policyName {target!r} names no "
                             "ValidatingAdmissionPolicy among the policies given")
        policies[target].bindings.append(binding)
    return list(policies.values())


def _rule_matches(rule: dict[str, Any], obj: KubeObject, resource: str) -> bool:
    version = obj.api_version.rpartition("/")[2]

    def has(key: str, value: str) -> bool:
        values = rule.get(key) or []
        return "*" in values or value in values

    return (has("apiGroups", obj.group) and has("apiVersions", version) and has("resources", resource)
            and has("operations", "CREATE"))


def _matches_kind(spec: dict[str, Any], obj: KubeObject) -> bool:
    rules = (spec.get("matchConstraints") or {}).get("resourceRules") or []
    resource = resource_of(obj)
    return any(_rule_matches(rule, obj, resource) for rule in rules)


def _in_namespace(binding: dict[str, Any], obj: KubeObject, namespace: str | None) -> bool:
    if obj.kind in CLUSTER_SCOPED:
        return True
    selector = ((binding.get("spec") or {}).get("matchResources") or {}).get("namespaceSelector") or {}
    wanted = (selector.get("matchLabels") or {}).get(NAMESPACE_LABEL)
    actual = obj.namespace or namespace
    return wanted is None or actual is None or actual == wanted


@dataclass(frozen=True)
class Denial:
    policy: AdmissionPolicy
    binding: dict[str, Any]
    obj: KubeObject
    message: str
    actions: tuple[str, ...]


def _evaluate(policy: AdmissionPolicy, obj: KubeObject, cel_programs: _Compiled) -> list[str]:
    """The messages of the validations ``obj`` fails (empty when it passes or does not match)."""
    spec = policy.spec
    # `admit` answers for a CREATE by the user running helm (whose name it does not know).
    request = {"operation": "CREATE", "namespace": obj.namespace or "", "userInfo": {"username": "", "groups": []}}
    context: dict[str, Any] = {"object": obj.body, "oldObject": None, "request": request, "variables": {}}
    for condition in spec.get("matchConditions") or []:
        try:
            if cel_programs.run(condition["expression"], context) is not True:
                return []
        except Exception as exc:  # any CEL error: failurePolicy Fail rejects
            return [f"matchCondition {condition.get('name')!r} could not be evaluated ({_short(exc)})"]
    failed: dict[str, str] = {}
    for variable in spec.get("variables") or []:
        try:
            context["variables"][variable["name"]] = cel_programs.run(variable["expression"], context)
        except Exception as exc:
            failed[variable["name"]] = _short(exc)
            context["variables"][variable["name"]] = None
    messages = []
    for validation in spec.get("validations") or []:
        expression = validation["expression"]
        broken = [n for n in failed if f"variables.{n}" in expression]
        if broken:
            messages.append(f"variable {broken[0]!r} could not be evaluated ({failed[broken[0]]})")
            continue
        try:
            ok = cel_programs.run(expression, context)
        except Exception as exc:
            messages.append(f"validation could not be evaluated ({_short(exc)}): {validation.get('message', '')}")
            continue
        if ok is not True:
            messages.append(str(validation.get("message") or f"failed expression: {expression}"))
    return messages


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def admit(objects: Sequence[KubeObject], policies: Sequence[AdmissionPolicy],
          namespace: str | None = None, *, all_namespaces: bool = False) -> list[Denial]:
    """Every violation the API server would report for ``objects``. ``namespace``: where objects
    without one are applied; ``all_namespaces``: as if every object were in a selected namespace."""
    cel_programs = _Compiled()
    denials = []
    for obj in objects:
        for policy in policies:
            if not policy.bindings or not _matches_kind(policy.spec, obj):
                continue
            bindings = [b for b in policy.bindings if all_namespaces or _in_namespace(b, obj, namespace)]
            if not bindings:
                continue
            for text in _evaluate(policy, obj, cel_programs):
                for binding in bindings:
                    actions = tuple((binding.get("spec") or {}).get("validationActions") or ())
                    denials.append(Denial(policy, binding, obj, text, actions))
    return denials


def as_finding(denial: Denial) -> Finding:
    deny = "Deny" in denial.actions
    severity = Severity.ERROR if deny else Severity.WARNING
    verb = "denies" if deny else "warns about"
    return Finding(policy=denial.policy.policy_id, severity=severity,
                   message=f"{denial.policy.name} {verb} {denial.obj.kind} {denial.obj.name!r}: {denial.message}",
                   remediation="", obj=denial.obj.ref, source=denial.obj.origin)


__all__ = ["AdmissionPolicy", "Denial", "admit", "as_finding", "pair_policies"]
