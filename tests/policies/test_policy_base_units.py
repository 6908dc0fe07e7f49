"""rayfleet.policies.base.Policy: the subject a policy takes by default, the refusal of a check
with no subject type, and which subjects a policy applies to."""

from __future__ import annotations

import dataclasses

import pytest
from rayfleet.findings import Severity
from rayfleet.fleet import PolicySettings
from rayfleet.policies.base import FleetView, Policy, ReleaseObjects, Scope


def never(subject):
    return iter(())


def make(scope: Scope, **kw) -> Policy:
    return Policy(id="my-rule", title="t", severity=Severity.ERROR, scope=scope, rationale="r", remediation="m.",
                  **kw)


def release(fleet=None) -> ReleaseObjects:
    return ReleaseObjects(objects=(), settings=PolicySettings(), kube_version="1.33", fleet=fleet)


@pytest.mark.parametrize(("scope", "subject"), [(Scope.RELEASE, ReleaseObjects), (Scope.FLEET, FleetView),
                                                (Scope.PIPELINE, None), (Scope.LIVE, None)])
def test_default_subject_by_scope(scope, subject):
    assert make(scope).subject is subject


def test_a_named_subject_is_kept():
    assert make(Scope.RELEASE, subject=FleetView, check=never).subject is FleetView
    assert make(Scope.LIVE, subject=ReleaseObjects, check=never).subject is ReleaseObjects


@pytest.mark.parametrize("scope", [Scope.PIPELINE, Scope.LIVE])
def test_a_check_without_a_subject_type_is_refused(scope):
    with pytest.raises(TypeError, match=f"^policy my-rule: a {scope} policy must name the subject type it checks$"):
        make(scope, check=never)


def test_policy_defaults_module_name_and_immutability():
    policy = make(Scope.RELEASE, check=never)
    assert (policy.references, policy.needs_fleet, policy.reads) == ((), False, frozenset())
    assert policy.module_name == "my_rule"
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.id = "other"  # type: ignore[misc]


def test_applies_to_needs_a_check_and_a_subject_of_its_type():
    assert make(Scope.RELEASE, check=never).applies_to(release()) is True
    assert make(Scope.RELEASE).applies_to(release()) is False  # no check
    assert make(Scope.PIPELINE).applies_to(release()) is False  # no check, no subject
    assert make(Scope.FLEET, check=never).applies_to(release()) is False  # not a FleetView
    assert make(Scope.RELEASE, check=never).applies_to("objects") is False


def test_applies_to_a_needs_fleet_policy_only_with_a_fleet_file():
    needs = make(Scope.RELEASE, check=never, needs_fleet=True)
    assert needs.applies_to(release()) is False
    assert needs.applies_to(release(fleet=object())) is True
    assert make(Scope.RELEASE, check=never).applies_to(release(fleet=object())) is True
