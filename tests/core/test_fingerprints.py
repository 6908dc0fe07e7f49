"""A finding's fingerprint is what code scanning tracks an alert by across runs: its inputs and its
value are pinned here, so a change that would reopen every alert of every user is noticed."""

from __future__ import annotations

import pytest
from rayfleet.findings import Finding, ObjectRef, Severity
from rayfleet.fingerprints import fingerprints, stable_key

RAY = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray")


def finding(policy: str = "image-pinned", **kw) -> Finding:
    return Finding(policy, Severity.ERROR, kw.pop("message", "m"), "r", **kw)


@pytest.mark.parametrize(("f", "key"), [
    (finding(region="eastus2", obj=RAY, path="spec.headGroupSpec"),
     ("image-pinned", "eastus2", "ray.io/RayCluster/ray/ray", "spec.headGroupSpec")),
    (finding(obj=ObjectRef("v1", "ServiceAccount", "ray", "sa")), ("image-pinned", "", "/ServiceAccount/ray/sa", "")),
    (finding(obj=ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRole", None, "cr")),
     ("image-pinned", "", "rbac.authorization.k8s.io/ClusterRole//cr", "")),
    (finding("no-secret-objects"), ("no-secret-objects", "", "", "")),
])
def test_the_stable_key_names_group_kind_namespace_and_name(f: Finding, key: tuple) -> None:
    assert stable_key(f) == key


def test_an_api_version_change_keeps_the_key() -> None:
    moved = finding(obj=ObjectRef("ray.io/v1alpha1", "RayCluster", "ray", "ray"))
    assert stable_key(moved) == stable_key(finding(obj=RAY))


def test_fingerprints_are_pinned() -> None:
    f = finding(region="eastus2", obj=RAY, path="spec.headGroupSpec")
    assert fingerprints([f, f, finding("no-secret-objects")]) == [
        "57b22f2eb5f7e2ff1bb5a21e75336458",  # rank 0
        "f04587eb63f5763997ef800a5aa5f789",  # the same key again: rank 1
        "5082cdfee034d128aa9d0593d9e18a53",
    ]
    # the message and severity are not part of it
    assert fingerprints([finding(region="eastus2", obj=RAY, path="spec.headGroupSpec", message="other")]) == [
        "57b22f2eb5f7e2ff1bb5a21e75336458"]
