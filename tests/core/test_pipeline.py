"""The pipeline end to end on real charts: render with Helm's engine, object schemas, waivers,
and where each finding points."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rayfleet.errors import EngineError
from rayfleet.findings import Severity
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import helm_command, render_fleet, validate_fleet
from rayfleet.report.text import format_result

from .helpers import copy_example

PIPELINE_IDS = ["render-error", "values-schema", "kubernetes-schema", "custom-resource-schema",
                "kuberay-crds-unavailable", "unknown-kind", "waiver-expired", "waiver-expiring", "waiver-unmatched"]


@pytest.fixture(scope="module")
def example_result(request):
    crds = Path(request.config.rootpath).parent / "shared" / "crds" / "kuberay"
    return validate_fleet(Path(request.config.rootpath) / "examples" / "fleet.yaml", crds=crds,
                          today=date(2026, 11, 26))


def test_example_fleet_renders_every_region_with_no_errors(example_result):
    assert [r.name for r in example_result.regions] == ["eastus2", "swedencentral", "westus3", "manager"]
    assert all(r.rendered and r.objects >= 4 for r in example_result.regions)
    errors = [f for f in example_result.counting() if f.severity is Severity.ERROR]
    assert errors == [], errors


def test_every_rendered_object_keeps_its_template(example_result):
    releases = example_result.releases
    for name, release in releases.items():
        kinds = {o.kind for o in release.objects}
        if name == "manager":  # the MultiKueue manager runs no Ray pods: only Kueue's objects
            assert {"ClusterQueue", "MultiKueueConfig", "ClusterProfile"} <= kinds and "RayCluster" not in kinds
        else:
            assert {"RayCluster", "ServiceAccount", "StorageClass", "PersistentVolumeClaim"} <= kinds
        for obj in release.objects:
            assert obj.template and obj.template.startswith("charts/ray-aks/"), obj.template
            assert obj.template.endswith(".yaml")


def test_helm_command_lists_values_in_helms_order(example_fleet: Path):
    fleet = load_fleet(example_fleet)
    command = helm_command(fleet, fleet.region("westus3"))
    assert command[:5] == ["helm", "upgrade", "--install", "ray", str(fleet.chart)] or command[4].endswith("ray-aks")
    files = [command[i + 1] for i, arg in enumerate(command) if arg == "-f"]
    assert [Path(f).name for f in files] == ["platform.yaml", "westus3.yaml", "platform-team.yaml"]
    assert command[command.index("--kube-context") + 1] == "rayfleet-wus3"
    assert command[command.index("--namespace") + 1] == "ray"


def test_override_wins_over_region_and_shared_values(example_fleet: Path):
    renders = render_fleet(load_fleet(example_fleet), ["eastus2"])
    cluster = next(o for o in renders["eastus2"].release.objects if o.kind == "RayCluster")
    templates = renders["eastus2"].release.templates_of(cluster)
    images = {c["image"] for t in templates for c, _ in t.containers()}
    # the override's tag, in head (its CPU variant) and workers
    assert images == {"rayproject/ray:2.53.0-py311-gpu", "rayproject/ray:2.53.0-py311-cpu"}
    gpu = next(g for g in cluster.body["spec"]["workerGroupSpecs"] if g["groupName"] == "gpu")
    assert gpu["maxReplicas"] == 8


def test_without_crds_ray_objects_are_reported_not_passed(example_fleet: Path, tmp_path: Path):
    result = validate_fleet(example_fleet, regions=["eastus2"], policies=PIPELINE_IDS)
    missing = [f for f in result.findings if f.policy == "kuberay-crds-unavailable"]
    assert len(missing) == 1 and missing[0].obj.kind == "RayCluster"
    assert missing[0].severity is Severity.WARNING


def test_values_schema_failure_is_a_finding_on_the_values_file(tmp_path: Path):
    fleet = copy_example(tmp_path)
    region_file = fleet.parent / "values" / "regions" / "eastus2.yaml"
    text = region_file.read_text().replace("minReplicas: 0", 'minReplicas: "zero"', 1)
    region_file.write_text(text)
    result = validate_fleet(fleet, regions=["eastus2"], policies=PIPELINE_IDS)
    [finding] = [f for f in result.findings if f.policy == "values-schema"]
    assert finding.severity is Severity.ERROR and finding.region == "eastus2"
    assert "minReplicas" in finding.message
    assert finding.source.file.endswith("eastus2.yaml")
    expected_line = text.splitlines().index(next(line for line in text.splitlines() if '"zero"' in line)) + 1
    assert finding.source.line == expected_line
    assert not result.regions[0].rendered


def _tiny_chart(tmp_path: Path, template: str) -> Path:
    chart = tmp_path / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\n")
    (chart / "templates" / "deployment.yaml").write_text(template)
    return chart


def _tiny_fleet(tmp_path: Path, chart: Path, values: str) -> Path:
    (tmp_path / "region.yaml").write_text(values)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"""apiVersion: rayfleet.dev/v1
chart: {chart}
release: {{name: demo, namespace: demo}}
regions:
  - name: r1
    location: eastus2
    cluster: {{name: c1, kubernetesVersion: "1.33"}}
    valuesFiles: [region.yaml]
""")
    return fleet


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers: [{name: app, image: "nginx:1.27"}]
"""


def test_a_rendered_value_is_traced_to_the_values_file_and_line(tmp_path: Path):
    chart = _tiny_chart(tmp_path, DEPLOYMENT)
    fleet = _tiny_fleet(tmp_path, chart, "# comment\nreplicas: three-please\n")
    result = validate_fleet(fleet, policies=["kubernetes-schema"])
    [finding] = result.findings
    assert finding.path == "spec.replicas"
    assert finding.source.file.endswith("region.yaml") and finding.source.line == 2
    assert finding.template.endswith("templates/deployment.yaml")


def test_a_template_that_fails_to_render_is_a_finding(tmp_path: Path):
    chart = _tiny_chart(tmp_path, "{{ .Values.missing.deeper.key }}\n")
    result = validate_fleet(_tiny_fleet(tmp_path, chart, "{}\n"), policies=PIPELINE_IDS)
    [finding] = [f for f in result.findings if f.policy == "render-error"]
    assert "does not render" in finding.message and finding.region == "r1"
    assert result.exit_code(Severity.ERROR) == 1


def test_a_template_that_renders_invalid_yaml_is_a_finding(tmp_path: Path):
    chart = _tiny_chart(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: 1, a: 2}\n")
    result = validate_fleet(_tiny_fleet(tmp_path, chart, "{}\n"), policies=PIPELINE_IDS)
    [finding] = [f for f in result.findings if f.policy == "render-error"]
    assert "duplicate key" in finding.message
    assert finding.source.file.endswith("deployment.yaml")


def test_missing_helm_binary_is_a_clear_error(example_fleet: Path):
    with pytest.raises(EngineError, match="helm binary '/nonexistent/helm' not found"):
        validate_fleet(example_fleet, helm_binary="/nonexistent/helm")


def _with_waivers(tmp_path: Path, waivers: str) -> Path:
    chart = _tiny_chart(tmp_path, DEPLOYMENT)
    fleet = _tiny_fleet(tmp_path, chart, "replicas: three-please\n")
    fleet.write_text(fleet.read_text() + "waivers:\n" + waivers)
    return fleet


WAIVER = """  - policy: kubernetes-schema
    scope: {{region: {region}, kind: Deployment, name: demo}}
    reason: Replicas are templated by an operator we do not control.
    owner: team@example.com
    expires: "{expires}"
"""


def test_waiver_suppresses_and_reports_keep_the_reason(tmp_path: Path):
    fleet = _with_waivers(tmp_path, WAIVER.format(region="r1", expires="2027-06-30"))
    result = validate_fleet(fleet, policies=PIPELINE_IDS, today=date(2026, 11, 26))
    [waived] = [f for f in result.findings if f.policy == "kubernetes-schema"]
    assert waived.suppressed is not None and "operator we do not control" in waived.suppressed.reason
    assert result.exit_code(Severity.ERROR) == 0
    assert not [f for f in result.findings if f.policy.startswith("waiver-")]


def test_expired_waiver_is_an_error_and_suppresses_nothing(tmp_path: Path):
    fleet = _with_waivers(tmp_path, WAIVER.format(region="r1", expires="2026-11-01"))
    result = validate_fleet(fleet, policies=PIPELINE_IDS, today=date(2026, 11, 26))
    assert [f.policy for f in result.counting() if f.severity is Severity.ERROR] == ["kubernetes-schema",
                                                                                     "waiver-expired"] or \
        sorted(f.policy for f in result.counting() if f.severity is Severity.ERROR) == ["kubernetes-schema",
                                                                                        "waiver-expired"]
    [expired] = [f for f in result.findings if f.policy == "waiver-expired"]
    assert "2026-11-01" in expired.message and expired.source.file.endswith("fleet.yaml") and expired.source.line


def test_waiver_expiring_within_14_days_is_a_warning(tmp_path: Path):
    fleet = _with_waivers(tmp_path, WAIVER.format(region="r1", expires="2026-12-05"))
    result = validate_fleet(fleet, policies=PIPELINE_IDS, today=date(2026, 11, 26))
    [soon] = [f for f in result.findings if f.policy == "waiver-expiring"]
    assert soon.severity is Severity.WARNING
    assert next(f for f in result.findings if f.policy == "kubernetes-schema").suppressed is not None


def test_waiver_that_matches_nothing_is_a_warning(tmp_path: Path):
    fleet = _with_waivers(tmp_path, WAIVER.format(region="elsewhere", expires="2027-06-30"))
    result = validate_fleet(fleet, policies=PIPELINE_IDS, today=date(2026, 11, 26))
    assert [f.policy for f in result.findings if f.policy.startswith("waiver")] == ["waiver-unmatched"]
    assert next(f for f in result.findings if f.policy == "kubernetes-schema").suppressed is None


def test_regions_not_selected_do_not_make_their_waivers_stale(example_fleet: Path):
    result = validate_fleet(example_fleet, regions=["eastus2"], policies=PIPELINE_IDS, today=date(2026, 11, 26))
    assert not [f for f in result.findings if f.policy == "waiver-unmatched"]


def test_pre_rendered_manifests_are_used_instead_of_the_chart(tmp_path: Path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, bogus: 1}\n")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("""apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {name: demo, namespace: demo}
regions:
  - {name: r1, location: eastus2, cluster: {name: c1, kubernetesVersion: "1.33"}, valuesFiles: [], manifests: m}
""")
    result = validate_fleet(fleet, policies=["kubernetes-schema"])
    [finding] = result.findings
    assert finding.obj.namespace == "demo"  # the release namespace is applied, as helm would
    assert finding.source.file.endswith("sa.yaml") and finding.source.line == 1


def test_crds_are_read_from_the_built_kuberay_operator_dependency(tmp_path: Path, crds_dir: Path):
    """After `helm dependency build`, charts/kuberay-operator-1.7.0.tgz ships the CRDs; rayfleet reads
    them from there. The archive is built here from the shared CRD copies (no network)."""
    import shutil

    import helm_python

    chart = tmp_path / "ray-aks"
    shutil.copytree(Path(__file__).resolve().parents[2] / "charts" / "ray-aks", chart)
    operator = tmp_path / "build" / "kuberay-operator"
    (operator / "crds").mkdir(parents=True)
    (operator / "Chart.yaml").write_text("apiVersion: v2\nname: kuberay-operator\nversion: 1.7.0\n")
    for crd in crds_dir.glob("*.yaml"):
        shutil.copy(crd, operator / "crds" / crd.name)
    helm_python.package(operator, destination=chart / "charts")
    assert (chart / "charts" / "kuberay-operator-1.7.0.tgz").is_file()
    fleet = copy_example(tmp_path / "f")
    fleet.write_text("\n".join(f"chart: {chart}" if line.startswith("chart:") else line
                               for line in fleet.read_text().splitlines()) + "\n")
    result = validate_fleet(fleet, regions=["eastus2"], policies=PIPELINE_IDS)
    assert not [f for f in result.findings if f.policy == "kuberay-crds-unavailable"]
    assert [f for f in result.findings if f.policy == "custom-resource-schema"] == []
    from rayfleet.pipeline import _crd_schemas

    schemas = _crd_schemas(load_fleet(fleet), None)
    assert schemas.knows("ray.io", "RayCluster") and schemas.knows("ray.io", "RayJob")


def test_waiver_naming_an_unknown_policy_is_reported(tmp_path: Path):
    fleet = _with_waivers(tmp_path, WAIVER.replace("kubernetes-schema", "no-such-policy").format(
        region="r1", expires="2027-06-30"))
    result = validate_fleet(fleet, policies=PIPELINE_IDS, today=date(2026, 11, 26))
    [unmatched] = [f for f in result.findings if f.policy == "waiver-unmatched"]
    assert "unknown policy" in unmatched.message


def test_a_disabled_components_values_are_not_held_to_its_schema(tmp_path: Path):
    # As with `helm install`: disabled subcharts are dropped before values.schema.json is checked.
    fleet = copy_example(tmp_path)
    region_file = fleet.parent / "values" / "regions" / "eastus2.yaml"
    disabled = "\nblob-storage:\n  enabled: false\n  storageAccount: NOT_VALID!\n"
    region_file.write_text(region_file.read_text() + disabled)
    result = validate_fleet(fleet, regions=["eastus2"], policies=PIPELINE_IDS)
    assert not [f for f in result.findings if f.policy == "values-schema"]
    region_file.write_text(region_file.read_text().replace("enabled: false", "enabled: true"))
    result = validate_fleet(fleet, regions=["eastus2"], policies=PIPELINE_IDS)
    [finding] = [f for f in result.findings if f.policy == "values-schema"]
    assert "storageAccount" in finding.message and finding.source.file.endswith("eastus2.yaml")


def test_validate_lists_only_the_policies_it_ran(example_result):
    from rayfleet.policies import ALL_POLICIES, Scope

    ran = {p.id for p in example_result.policies}
    live = {p.id for p in ALL_POLICIES if p.scope is Scope.LIVE}
    assert live and not (ran & live)  # live checks belong to identity check, preflight and rollout
    assert ran == {p.id for p in ALL_POLICIES} - live


def test_the_objects_column_counts_each_region_on_its_own(tmp_path: Path):
    # The example fleet's regions all render the same 84 objects (the same chart objects with other
    # values); regions that render different sets show different counts in the same table.
    for name, count in (("m1", 1), ("m2", 3)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "all.yaml").write_text("".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(count)))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("""apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {name: demo, namespace: demo}
regions:
  - {name: r1, location: eastus2, cluster: {name: c1, kubernetesVersion: "1.33"}, valuesFiles: [], manifests: m1}
  - {name: r2, location: westus3, cluster: {name: c2, kubernetesVersion: "1.33"}, valuesFiles: [], manifests: m2}
""")
    result = validate_fleet(fleet, policies=["kubernetes-schema"])
    assert [(r.name, r.objects) for r in result.regions] == [("r1", 1), ("r2", 3)]
    rows = {line.split()[0]: line.split()[1] for line in format_result(result, width=100).splitlines()
            if line.split()[:1] in (["r1"], ["r2"])}
    assert rows == {"r1": "1", "r2": "3"}
