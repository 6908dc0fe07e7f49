"""The one policy runner (``rayfleet.runner``): which policies take a subject, how a violation
becomes a finding (every field a user reads), and how the fleet file's waivers are applied."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rayfleet.findings import ObjectRef, Severity, SourceLocation, Violation
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import objects_from_text
from rayfleet.policies import ALL_POLICIES
from rayfleet.policies.base import FleetView, Policy, Reads, ReleaseObjects, Scope
from rayfleet.runner import Waivers, check, finish, run, select, to_finding
from rayfleet.subjects import AksCluster, FindingContext
from rayfleet.values import ValuesStack, load_values_file

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ray\ndata:\n  owner: platform-team-1\n"
REF = ObjectRef("v1", "ConfigMap", "ray", "c")


def policy(pid: str, *violations: Violation, scope: Scope = Scope.RELEASE, needs_fleet: bool = False,
           severity: Severity = Severity.ERROR) -> Policy:
    return Policy(id=pid, title="t", severity=severity, scope=scope, rationale="r", remediation=f"fix {pid}",
                  check=lambda subject: iter(violations), needs_fleet=needs_fleet)


def release(tmp_path: Path, values: str | None = None) -> ReleaseObjects:
    stack = None
    if values is not None:
        path = tmp_path / "eastus2.yaml"
        path.write_text(values)
        stack = ValuesStack([load_values_file(path, display="values/eastus2.yaml")])
    objects = objects_from_text(CM, "rendered.yaml")
    return ReleaseObjects(objects=objects, settings=PolicySettings.from_dict({}), kube_version="1.33", values=stack)


def test_select_by_scope_and_by_subject_type_in_catalogue_order() -> None:
    live = select(ALL_POLICIES, scopes=[Scope.LIVE])
    assert live and all(p.scope is Scope.LIVE for p in live)
    assert [p.id for p in live] == [p.id for p in ALL_POLICIES if p.scope is Scope.LIVE]
    aks = select(ALL_POLICIES, scopes=[Scope.LIVE], subject=AksCluster)
    assert aks and set(aks) < set(live) and all(p.subject is AksCluster for p in aks)
    assert {p.id for p in aks} >= {"aks-oidc-issuer", "aks-workload-identity"}
    assert select(ALL_POLICIES) == tuple(ALL_POLICIES)
    assert select(ALL_POLICIES, scopes=[]) == ()


def test_a_finding_carries_every_field_of_its_violation(tmp_path: Path) -> None:
    rel = release(tmp_path)
    p = policy("no-secret-objects", Violation("bad owner", REF, "data.owner", value="x", region="westus3",
                                  severity=Severity.WARNING))
    [f] = check([p], rel)
    assert (f.policy, f.severity, f.message, f.remediation) == ("no-secret-objects", Severity.WARNING, "bad owner",
                                                                "fix no-secret-objects")
    assert (f.region, f.obj, f.path) == ("westus3", REF, "data.owner")
    assert f.source == SourceLocation("rendered.yaml", 1)  # the value is not in any values file: the object
    assert f.suppressed is None and f.counts


def test_the_policy_severity_applies_when_the_violation_has_none(tmp_path: Path) -> None:
    [f] = check([policy("p", Violation("m", REF), severity=Severity.INFO)], release(tmp_path))
    assert f.severity is Severity.INFO and f.region is None


def test_a_value_set_in_a_values_file_points_at_that_line(tmp_path: Path) -> None:
    rel = release(tmp_path, "ray:\n  team:\n    owner: platform-team-1\n")
    [f] = check([policy("p", Violation("m", REF, "data.owner", value="platform-team-1"))], rel)
    assert f.source == SourceLocation("values/eastus2.yaml", 3)
    # a source the policy names wins over the values trace
    given = SourceLocation("fleet.yaml", 9)
    [f] = check([policy("p", Violation("m", REF, "data.owner", value="platform-team-1", source=given))], rel)
    assert f.source == given


def test_context_fallbacks() -> None:
    default = SourceLocation("fleet.yaml", 4)
    f = to_finding(policy("p"), Violation("m"), FindingContext(region="eastus2", default_source=default))
    assert (f.region, f.source, f.template, f.obj) == ("eastus2", default, None, None)
    f = to_finding(policy("p"), Violation("m", region="westus3"), FindingContext(region="eastus2"))
    assert f.region == "westus3" and f.source is None


def test_only_policies_of_the_subjects_type_run(tmp_path: Path) -> None:
    fleet_policy = policy("fleet-p", Violation("m"), scope=Scope.FLEET)
    needs_fleet = policy("needs-fleet", Violation("m"), needs_fleet=True)
    rel = release(tmp_path)
    assert check([fleet_policy, needs_fleet], rel) == []  # a release, and no fleet file
    assert [f.policy for f in check([fleet_policy, policy("rel-p", Violation("m"))], rel)] == ["rel-p"]


FLEET = """apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {name: ray, namespace: ray}
regions:
  - {name: eastus2, location: eastus2, cluster: {name: c1, kubernetesVersion: "1.33"}, valuesFiles: [], manifests: m}
waivers:
  - policy: no-secret-objects
    scope: {kind: ConfigMap}
    reason: accepted for the test
    owner: team@example.com
    expires: "2099-01-01"
  - policy: no-host-path-volumes
    scope: {kind: Secret}
    reason: nothing matches it
    owner: team@example.com
    expires: "2099-01-01"
"""


@pytest.fixture
def fleet(tmp_path: Path):
    (tmp_path / "m").mkdir()
    (tmp_path / "fleet.yaml").write_text(FLEET)
    return load_fleet(tmp_path / "fleet.yaml")


def test_run_applies_waivers_and_reports_on_them(tmp_path: Path, fleet) -> None:
    rel = release(tmp_path)
    policies = [policy("no-secret-objects", Violation("m", REF)), policy("image-pinned", Violation("n", REF))]
    result = run("validate", policies, [rel], waivers=Waivers(fleet))
    by_policy = {f.policy: f for f in result.findings}
    waived = by_policy["no-secret-objects"].suppressed
    assert waived is not None and waived.reason == "accepted for the test"
    assert by_policy["image-pinned"].suppressed is None
    # no-host-path-volumes did not run: its waiver is not reported as matching nothing
    assert sorted(by_policy) == ["image-pinned", "no-secret-objects"]
    assert result.command == "validate" and [p.id for p in result.policies] == ["no-secret-objects", "image-pinned"]


def test_findings_given_to_run_come_first_and_unknown_ones_are_dropped(tmp_path: Path, fleet) -> None:
    rel = release(tmp_path)
    own = to_finding(policy("image-pinned"), Violation("render"), FindingContext())
    stray = to_finding(policy("not-run"), Violation("x"), FindingContext())
    result = run("validate", [policy("image-pinned", Violation("n", REF))], [rel], findings=[own, stray],
                 waivers=Waivers(fleet))
    assert [(f.policy, f.message) for f in result.findings] == [("image-pinned", "render"), ("image-pinned", "n")]
    # without waivers the run keeps everything it was given
    unwaived = run("validate", [policy("image-pinned", Violation("n", REF))], [rel], findings=[own, stray])
    assert [f.policy for f in unwaived.findings] == ["image-pinned", "not-run", "image-pinned"]


def test_a_run_that_does_not_report_on_waivers_only_applies_them(tmp_path: Path, fleet) -> None:
    rel = release(tmp_path)
    policies = [policy("no-secret-objects", Violation("m", REF)), policy("no-host-path-volumes", Violation("s", REF))]
    reporting = run("validate", policies, [rel], waivers=Waivers(fleet))
    assert "waiver-unmatched" in {f.policy for f in reporting.findings}
    quiet = run("preflight", policies, [rel], waivers=Waivers(fleet, report=False))
    assert {f.policy for f in quiet.findings} == {"no-secret-objects", "no-host-path-volumes"}
    assert finish(quiet, None) is quiet


def test_a_fleet_view_gets_fleet_policies(tmp_path: Path, fleet) -> None:
    view = FleetView(fleet, {"eastus2": release(tmp_path)})
    [f] = check([policy("fleet-p", Violation("m", region="eastus2"), scope=Scope.FLEET),
                 policy("rel-p", Violation("m"))], view)
    assert f.policy == "fleet-p" and f.region == "eastus2"


def test_select_by_the_model_a_policy_reads() -> None:
    capacity = select(ALL_POLICIES, reads=Reads.CAPACITY)
    assert capacity and all(Reads.CAPACITY in p.reads for p in capacity)
    assert [p.id for p in capacity] == [p.id for p in ALL_POLICIES if Reads.CAPACITY in p.reads]
    assert not set(capacity) & set(select(ALL_POLICIES, reads=Reads.CREDENTIAL_PLAN))


def test_a_value_set_under_two_subcharts_is_traced_through_the_objects_template(tmp_path: Path) -> None:
    """The same value under ``ray-cluster`` and ``scheduling``: the finding about an object the
    ray-cluster subchart rendered points at the ``ray-cluster`` key, not at nothing."""
    path = tmp_path / "eastus2.yaml"
    path.write_text("ray-cluster:\n  pool: h100-pool\nscheduling:\n  pool: h100-pool\n")
    stack = ValuesStack([load_values_file(path, display="values/eastus2.yaml")])
    [cm] = objects_from_text(CM, "rendered.yaml")
    template = "charts/ray-aks/charts/ray-cluster/templates/cm.yaml"
    rendered = type(cm)(cm.body, cm.origin, template)
    rel = ReleaseObjects(objects=(rendered,), settings=PolicySettings.from_dict({}), kube_version="1.33",
                         values=stack)
    [f] = check([policy("no-secret-objects", Violation("m", rendered.ref, "data.owner", value="h100-pool"))], rel)
    assert f.source == SourceLocation("values/eastus2.yaml", 2) and f.template == template


def test_waivers_settings_are_frozen(fleet) -> None:
    settings = Waivers(fleet)
    assert (settings.today, settings.regions, settings.report) == (None, None, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.report = False  # type: ignore[misc]
