"""What policies look at and what they return is immutable.

One release (``ReleaseObjects``), one fleet view, one finding is handed to every policy in turn, kept
in caches (``functools.cache`` on fleet and region facts) and compared and hashed when waivers and
fingerprints are matched: a policy that could change its input would change what the next policy
sees. So every dataclass in the modules below is frozen, bar the ones named here with why.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest

MODULES = (
    "rayfleet.secrets", "rayfleet.fleet", "rayfleet.fleet_scheduling", "rayfleet.kueue",
    "rayfleet.schemas_check", "rayfleet.runner", "rayfleet.subjects", "rayfleet.findings",
    "rayfleet.policies.base", "rayfleet.policies._helpers",
    "rayfleet.policies._region_facts", "rayfleet.policies.blobfuse_cache_fits_node",
)
# Mutable on purpose: the identity plan appends each credential to the identity it belongs to.
MUTABLE = {"rayfleet.subjects.ManagedIdentityRef"}


def _dataclasses(module_name: str) -> list[type]:
    module = importlib.import_module(module_name)
    return [cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if dataclasses.is_dataclass(cls) and cls.__module__ == module_name]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_dataclass_is_frozen(module_name: str) -> None:
    classes = _dataclasses(module_name)
    assert classes, f"{module_name} defines no dataclass: drop it from MODULES"
    thawed = [f"{module_name}.{c.__name__}" for c in classes
              if not c.__dataclass_params__.frozen and f"{module_name}.{c.__name__}" not in MUTABLE]
    assert thawed == []


def test_the_mutable_exceptions_still_exist_and_are_mutable() -> None:
    for name in MUTABLE:
        module_name, _, cls_name = name.rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name)
        assert dataclasses.is_dataclass(cls) and not cls.__dataclass_params__.frozen


def test_a_policy_cannot_change_the_release_or_a_finding() -> None:
    from rayfleet.findings import Finding, Severity
    from rayfleet.fleet import PolicySettings
    from rayfleet.manifests import objects_from_text
    from rayfleet.policies.base import ReleaseObjects

    objects = objects_from_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", "c.yaml")
    release = ReleaseObjects(objects=objects, settings=PolicySettings.from_dict({}), kube_version="1.33")
    with pytest.raises(dataclasses.FrozenInstanceError):
        release.kube_version = "1.30"  # type: ignore[misc]
    finding = Finding(policy="p", severity=Severity.ERROR, message="m", remediation="r")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message = "changed"  # type: ignore[misc]
    assert hash(finding) == hash(Finding(policy="p", severity=Severity.ERROR, message="m", remediation="r"))
