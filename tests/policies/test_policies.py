"""Every policy against its fixtures, and the catalogue's own rules (kube-linter style)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
import rayfleet.policies as policies_pkg
import yaml
from rayfleet.policies import ALL_POLICIES
from rayfleet.policies.base import Scope

from .fixturekit import FIXTURES, compare, fixture_dirs, missing_files, run_fixture

BY_ID = {p.id: p for p in ALL_POLICIES}
# Pipeline and live checks are tested where they are raised (the pipeline, the live-API servers).
CHECKED = [p for p in ALL_POLICIES if p.scope in (Scope.RELEASE, Scope.FLEET)]
FOLDERS = [d for d in fixture_dirs() if d.name in BY_ID]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda d: d.name)
def test_pass_fixture_does_not_fire(folder: Path) -> None:
    findings = run_fixture(BY_ID[folder.name], folder, "pass")
    assert [f"{f.obj} {f.path}: {f.message}" for f in findings] == []


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda d: d.name)
def test_fail_fixture_fires_exactly_as_expected(folder: Path) -> None:
    findings = run_fixture(BY_ID[folder.name], folder, "fail")
    assert findings, "fail fixture does not fire"
    assert {f.policy for f in findings} == {folder.name}
    expected = yaml.safe_load((folder / "expected.yaml").read_text()) or []
    missing, unexpected = compare(findings, expected)
    assert (missing, unexpected) == ([], [])


@pytest.mark.parametrize("policy", CHECKED, ids=lambda p: p.id)
def test_every_policy_has_fixtures(policy) -> None:
    folder = FIXTURES / policy.id
    assert folder.is_dir(), f"no fixture folder tests/policies/fixtures/{policy.id}/"
    assert missing_files(folder) == []


def test_every_fixture_folder_names_a_policy() -> None:
    assert [d.name for d in fixture_dirs() if d.name not in BY_ID] == []


def test_every_policy_module_is_registered() -> None:
    registered = {p.module_name for p in ALL_POLICIES}
    modules = {m.name for m in pkgutil.iter_modules(policies_pkg.__path__)
               if m.name != "base" and not m.name.startswith("_")}
    assert sorted(modules - registered) == []


def test_policy_ids_equal_module_names() -> None:
    for policy in ALL_POLICIES:
        module = importlib.import_module(f"rayfleet.policies.{policy.module_name}")
        assert module.POLICY is policy, f"{policy.id} is not defined in {policy.module_name}.py"


def test_policy_ids_are_unique() -> None:
    ids = [p.id for p in ALL_POLICIES]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.id)
def test_policy_metadata(policy) -> None:
    assert policy.title.strip()
    assert policy.rationale.strip()
    assert policy.remediation.rstrip().endswith("."), "remediation must end with '.'"
    assert all(ref.startswith("https://") for ref in policy.references)
    if policy.scope in (Scope.RELEASE, Scope.FLEET):
        assert policy.check is not None
        assert policy.references, "cite the docs the policy encodes"
