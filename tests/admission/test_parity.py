"""The admission twins give the Python checks' verdicts on every policy fixture.

Verdicts are compared object by object: the set of objects the Python check flags (warning or
above) against the set the exported ValidatingAdmissionPolicy denies or warns about, evaluated
by ``rayfleet admit``'s CEL engine. A twin that is deliberately weaker is named in WEAKER with
the objects it lets through; docs/policies.md states the same difference.
"""

from __future__ import annotations

import pytest
from rayfleet.admission.twins import TWINS, why_not_exported
from rayfleet.policies import ALL_POLICIES, Scope

from ..policies.fixturekit import FIXTURES
from .paritykit import admission_verdict, python_verdict

EXPORTED = sorted({t.policy for t in TWINS})
# policy -> objects of its fail fixture the Python check flags and the twin cannot see.
WEAKER = {
    # Two PVs sharing a volumeHandle: admission sees one object at a time.
    "blob-volume-handle": {"PersistentVolume/blob-data-copy"},
    # Empty Secrets mounted by nothing: admission cannot see what mounts them, so any empty
    # Opaque Secret is admitted (filling it later is limited to a controller's certificate keys).
    "no-secret-objects": {"Secret/orphan-placeholder", "Secret/other-namespace-cert"},
    # A Secret in kueue-system: bindings select the release namespace, where the umbrella runs Kueue.
    "kueue-no-kubeconfig-secret": {"Secret/westus3-kubeconfig"},
}


@pytest.mark.parametrize("policy_id", EXPORTED)
@pytest.mark.parametrize("case", ["pass", "fail"])
def test_twin_gives_the_python_verdict(policy_id: str, case: str) -> None:
    folder = FIXTURES / policy_id
    expected = python_verdict(policy_id, folder, case)
    got, messages = admission_verdict(policy_id, folder, case)
    if case == "pass":
        assert got == set(), messages
    else:
        assert got, "admit admits the fail fixture"
        assert got == expected - WEAKER.get(policy_id, set()), messages


@pytest.mark.parametrize("policy_id", sorted(WEAKER))
def test_weaker_twins_say_so(policy_id: str) -> None:
    folder = FIXTURES / policy_id
    missed = python_verdict(policy_id, folder, "fail") - admission_verdict(policy_id, folder, "fail")[0]
    assert missed == WEAKER[policy_id]
    assert any(t.weaker for t in TWINS if t.policy == policy_id)


def test_every_release_policy_is_exported_or_says_why() -> None:
    for policy in ALL_POLICIES:
        reason = why_not_exported(policy)
        if policy.scope is Scope.RELEASE:
            assert reason != "not exported", policy.id
        assert (reason is None) == (policy.id in EXPORTED)
