"""The admission policies a release ships enforce the fleet's policy settings."""

from __future__ import annotations

from collections.abc import Iterator

from ..admission_settings import POLICY_ANNOTATION, SETTING_VALUES, setting_literals
from ..findings import Severity, Violation
from ._helpers import as_dict, as_list
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    literals = setting_literals(release.settings)
    for obj in release.of_kind("ValidatingAdmissionPolicy"):
        ours = POLICY_ANNOTATION in as_dict(obj.metadata.get("annotations"))
        if obj.group != "admissionregistration.k8s.io" or not ours:
            continue  # not one of rayfleet's
        for index, variable in enumerate(as_list(as_dict(obj.body.get("spec")).get("variables"))):
            name = as_dict(variable).get("name")
            if not isinstance(name, str) or name not in literals:
                continue
            found = variable.get("expression")
            if found != literals[name]:
                yield Violation(f"ValidatingAdmissionPolicy {obj.name!r} enforces {name} {found} but the fleet's "
                                f"policy.{name} makes {literals[name]}; set {SETTING_VALUES[name]} to the fleet's "
                                "value", obj=obj.ref, path=f"spec.variables[{index}].expression", value=found)


POLICY = Policy(
    id="admission-settings-match",
    title="The release's admission policies enforce the fleet's policy settings",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The chart's admissionPolicies component bakes the registry allowlist and the GPU taint into its "
        "ValidatingAdmissionPolicies from its own values. When those values differ from the fleet file's "
        "policy settings, the cluster enforces other rules than CI checked: a registry CI refuses is admitted, "
        "or pods CI passed are denied."
    ),
    remediation=(
        "Set admissionPolicies.allowedRegistries and admissionPolicies.gpuTaint in the fleet's shared values "
        "to the fleet file's policy.allowedRegistries and policy.gpuTaint."
    ),
    references=("https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",),
    check=check,
    needs_fleet=True,
)
