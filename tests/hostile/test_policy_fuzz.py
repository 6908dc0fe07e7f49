"""Every policy tolerates any JSON type in any field: it yields findings or nothing, never raises
(issue #12, item 4). Objects come from the policy fixtures, mutated with a fixed seed; the whole
test runs a fixed number of rounds (its time is measured by pytest --durations, not asserted)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.manifests import KubeObject, load_manifest_paths, objects_from_text
from rayfleet.policies import ALL_POLICIES
from rayfleet.policies.base import FleetView, ReleaseObjects, Scope
from rayfleet.runner import check
from rayfleet.values import ValuesFile, ValuesStack, load_values_file

from ..policies.fixturekit import fixture_dirs, is_fleet_fixture, settings_from
from .mutate import mutate

SEED = 20261202
ROUNDS = 40  # mutated copies of every fixture
RELEASE_POLICIES = [p for p in ALL_POLICIES if p.scope is Scope.RELEASE and p.check is not None]
FLEET_POLICIES = [p for p in ALL_POLICIES if p.scope is Scope.FLEET and p.check is not None]


def _mutated(objects: list[KubeObject], rng: random.Random) -> list[KubeObject]:
    return [KubeObject(mutate(o.body, rng, rng.randint(1, 4)), o.origin, o.template) for o in objects]


def _release_cases() -> list[tuple[str, Path]]:
    cases = []
    for folder in fixture_dirs():
        if is_fleet_fixture(folder):
            continue
        for case in ("pass", "fail"):
            if (folder / f"{case}.yaml").exists():
                cases.append((f"{folder.name}/{case}", folder))
    return cases


def _fleet_cases() -> list[tuple[str, Path]]:
    return [(f"{f.name}/{case}", f / case / "fleet.yaml") for f in fixture_dirs() if is_fleet_fixture(f)
            for case in ("pass", "fail") if (f / case / "fleet.yaml").exists()]


def test_every_policy_is_covered_by_the_fuzz():
    assert RELEASE_POLICIES and FLEET_POLICIES
    assert len(_release_cases()) > 20 and _fleet_cases()


def test_release_policies_survive_mutated_objects():
    rng = random.Random(SEED)
    runs = 0
    for name, folder in _release_cases():
        case = name.rsplit("/", 1)[1]
        manifest = folder / f"{case}.yaml"
        objects = objects_from_text(manifest.read_text(), str(manifest))
        values_path = folder / f"{case}.values.yaml"
        values_file = load_values_file(values_path) if values_path.exists() else None
        for round_ in range(ROUNDS):
            mutated = _mutated(objects, rng)
            values = None
            if values_file is not None:  # values a file set reach policies too (no-literal-credentials)
                values = ValuesStack([ValuesFile(values_file.path, mutate(values_file.data, rng),
                                                 values_file.document)])
            release = ReleaseObjects(mutated, settings_from(folder), "1.33", values=values)
            for policy in RELEASE_POLICIES:
                try:
                    list(check([policy], release))
                except Exception as exc:
                    bodies = "\n".join(repr(o.body) for o in mutated)
                    pytest.fail(f"{policy.id} raised {type(exc).__name__}: {exc} on {name} round {round_}:\n"
                                f"{bodies[:3000]}")
            runs += 1
    assert runs == len(_release_cases()) * ROUNDS


def test_fleet_and_release_policies_survive_mutated_regions():
    rng = random.Random(SEED + 1)
    for name, fleet_path in _fleet_cases():
        fleet = load_fleet(fleet_path)
        originals = {r.name: load_manifest_paths([str(r.manifests)]) if r.manifests else [] for r in fleet.regions}
        for round_ in range(ROUNDS):
            releases = {
                region.name: ReleaseObjects(_mutated(originals[region.name], rng), fleet.settings,
                                     region.cluster.kube_minor, region=region, fleet=fleet)
                for region in fleet.regions
            }
            try:
                for release in releases.values():
                    check(RELEASE_POLICIES, release)
                check(FLEET_POLICIES, FleetView(fleet, releases))
            except Exception as exc:
                pytest.fail(f"{type(exc).__name__}: {exc} on {name} round {round_}")


WI_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {azure.workload.identity/use: "true"}
spec:
  serviceAccountName: sa
  containers:
    - name: c
      image: busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111
      env:
        - name: [AZURE_CLIENT_ID]
          value: x
        - name: {AZURE_TENANT_ID: 1}
        - 7
        - name: AZURE_CLIENT_ID
          value: y
      resources: {requests: {cpu: .nan, nvidia.com/gpu: .inf}}
"""


def test_scan_of_an_env_name_that_is_a_list():
    from ..core.helpers import run_cli

    result = run_cli("scan", "-", "--report", "json", input=WI_POD)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    # the well-formed entry is still judged; the malformed ones are the schema's to report
    assert "sets AZURE_CLIENT_ID" in result.output
    assert "kubernetes-schema" in result.output
