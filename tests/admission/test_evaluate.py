"""The offline evaluator follows the API server's order: match, namespace, matchConditions,
variables, validations; errors count as violations (failurePolicy Fail)."""

from __future__ import annotations

import pytest
from rayfleet.admission.build import AdmissionOptions, admission_objects
from rayfleet.admission.evaluate import admit, as_finding, pair_policies
from rayfleet.admission.twins import twins_of
from rayfleet.errors import InputError
from rayfleet.findings import Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text

POLICY = {
    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "p", "annotations": {"rayfleet.io/policy": "demo"}},
    "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}]},
        "matchConditions": [{"name": "labelled", "expression": "has(object.metadata.labels)"}],
        "variables": [{"name": "keys", "expression": "has(object.data) ? object.data : {}"}],
        "validations": [{"expression": "!('password' in variables.keys)", "message": "no password key"},
                        {"expression": "size(variables.keys) < 3", "message": "too many keys"}],
    },
}


def binding(actions: list[str], namespace: str = "ray") -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "p"},
            "spec": {"policyName": "p", "validationActions": actions, "matchResources": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}}


def config_map(data: str, labels: str | None = "{a: b}", namespace: str = "ray", kind: str = "ConfigMap") -> list:
    labelled = f", labels: {labels}" if labels else ""
    text = f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: cm, namespace: {namespace}{labelled}}}\ndata: {data}\n"
    return objects_from_text(text, "cm.yaml")


def messages(objects, actions=("Deny",), namespace="ray", **kwargs) -> list[str]:
    policies = pair_policies([POLICY, binding(list(actions), namespace)])
    return [d.message for d in admit(objects, policies, **kwargs)]


def test_a_false_validation_is_a_violation_with_its_message() -> None:
    assert messages(config_map("{password: x}")) == ["no password key"]
    assert messages(config_map("{a: '1', b: '2', c: '3'}")) == ["too many keys"]
    assert messages(config_map("{a: '1'}")) == []


def test_kind_namespace_and_match_conditions_narrow_the_policy() -> None:
    assert messages(config_map("{password: x}", kind="Secret")) == []
    assert messages(config_map("{password: x}", namespace="other")) == []
    assert messages(config_map("{password: x}", namespace="other"), all_namespaces=True) == ["no password key"]
    assert messages(config_map("{password: x}", labels=None)) == []


def test_an_evaluation_error_denies() -> None:
    broken = {**POLICY, "spec": {**POLICY["spec"], "validations": [{"expression": "object.missing.field == 1",
                                                                     "message": "m"}]}}
    denials = admit(config_map("{a: '1'}"), pair_policies([broken, binding(["Deny"])]))
    assert len(denials) == 1 and "could not be evaluated" in denials[0].message


def test_warn_binding_makes_a_warning_finding() -> None:
    denial = admit(config_map("{password: x}"), pair_policies([POLICY, binding(["Warn", "Audit"])]))[0]
    finding = as_finding(denial)
    assert finding.severity is Severity.WARNING and finding.policy == "demo"
    assert "p warns about ConfigMap 'cm'" in finding.message


def test_a_binding_to_an_unknown_policy_is_bad_input() -> None:
    with pytest.raises(InputError, match="names no ValidatingAdmissionPolicy"):
        pair_policies([{**binding(["Deny"]), "spec": {"policyName": "other"}}])


def test_owned_pods_are_left_to_their_template() -> None:
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ray%s}\n"
           "spec: {containers: [{name: c, image: 'x:1', securityContext: {privileged: true}}]}\n")
    policies = pair_policies(admission_objects(PolicySettings(), AdmissionOptions("ray"),
                                               twins_of("no-privileged-containers")))
    bare = objects_from_text(pod % "", "p.yaml")
    owned = objects_from_text(pod % ", ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: r, uid: u}]",
                              "p.yaml")
    assert len(admit(bare, policies)) == 1
    assert admit(owned, policies) == []
