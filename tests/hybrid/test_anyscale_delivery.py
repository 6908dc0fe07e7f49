"""Delivering the Anyscale operator: plan prints its helm command, rollout runs it after the region's
release (and before the readiness wait), the dry run shows it, and export flux / fleet-manager
write its source, values ConfigMaps and HelmRelease, whose values Flux merges to exactly what
rayfleet validated. The chart is the stand-in of examples/hybrid (the real one is not
redistributable)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from rayfleet.delivery.fleet_manager import hub_export
from rayfleet.delivery.flux import differences, flux_files, flux_values
from rayfleet.delivery.writer import write_export
from rayfleet.fleet import load_fleet
from rayfleet.helm_args import upgrade_args
from rayfleet.manifests import load_manifest_paths
from rayfleet.pipeline import render_fleet
from rayfleet.plan import OperatorPlan, plan_region
from rayfleet.render import EmbeddedHelm
from rayfleet.rollout import DeployOutcome, PyHelm3Deployer, RegionStatus, execute_rollout

from tests.core.helpers import REPO, run_cli, snapshot
from tests.hybrid.test_hybrid_fleet import EXAMPLE, _edit, hybrid  # noqa: F401  (fixture)
from tests.rollout.test_helm_standin import stand_in
from tests.rollout.test_waves import Recorder, ScriptedGate

OPERATOR_COMMAND = ("helm upgrade --install anyscale-operator {chart} --namespace anyscale --create-namespace "
                    "--atomic --wait --timeout 600s -f {values} --kube-context rayfleet-sdc")


@pytest.fixture(scope="module")
def fleet():
    return load_fleet(EXAMPLE)


@pytest.fixture(scope="module")
def releases(fleet):
    return {name: render.release for name, render in render_fleet(fleet).items()}


def _operator_command(fleet) -> str:
    region = fleet.region("swedencentral")
    assert region.anyscale is not None
    return OPERATOR_COMMAND.format(chart=fleet.relative(region.anyscale.chart),
                                   values=fleet.relative(region.anyscale.values_files[0]))


# --- plan --------------------------------------------------------------------------------------------

def test_the_operator_plan_is_built_by_the_one_helm_builder(fleet):
    operator = plan_region(fleet, fleet.region("swedencentral"), timeout=42).anyscale
    assert isinstance(operator, OperatorPlan)
    assert operator.helm_args(helm4=True) == upgrade_args(
        "anyscale-operator", operator.chart, "anyscale", operator.values_files, timeout=42, helm4=True)
    assert operator.values_files == (fleet.relative(fleet.region("swedencentral").anyscale.values_files[0]),)
    assert plan_region(fleet, fleet.region("amsdc1")).anyscale is None


def test_plan_text_prints_the_operator_command_after_the_region_release(fleet):
    result = run_cli("plan", EXAMPLE, "--no-capacity")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    umbrella = next(i for i, line in enumerate(lines) if line.startswith("helm upgrade --install ray ")
                    and "rayfleet-sdc" in line)
    assert lines[umbrella + 1] == "# then the Anyscale operator anyscale-operator (chart 1.8.0)"
    assert lines[umbrella + 2] == _operator_command(fleet)
    assert lines[umbrella + 3] == "# wave 2: amsdc1"  # the Arc member declares no operator
    assert sum(1 for line in lines if "anyscale-operator --namespace" in line) == 1


def test_plan_json_has_the_operator_per_region(fleet):
    result = run_cli("plan", EXAMPLE, "--format", "json", "--no-capacity")
    assert result.exit_code == 0, result.output
    regions = {r["region"]: r for r in json.loads(result.output)["regions"]}
    operator = regions["swedencentral"]["anyscale"]
    assert operator["command"] == _operator_command(fleet)
    assert (operator["release"], operator["namespace"], operator["version"]) == ("anyscale-operator", "anyscale",
                                                                                 "1.8.0")
    assert regions["amsdc1"]["anyscale"] is None


# --- rollout -----------------------------------------------------------------------------------------

@dataclass
class Deployer:
    """Records every helm release it is asked to install; fails the ones named (region, release)."""

    fail: set[tuple[str, str]] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def upgrade_install(self, plan) -> DeployOutcome:
        self.calls.append((plan.name, plan.release))
        if (plan.name, plan.release) in self.fail:
            return DeployOutcome(False, "UPGRADE FAILED: ServiceAccount exists", command=plan.command())
        return DeployOutcome(True, "done", revision=2, status="deployed", command=plan.command())


def test_rollout_installs_the_operator_after_the_release_and_before_readiness(fleet, releases):
    deployer, gate, recorder = Deployer(), ScriptedGate(), Recorder()
    report = execute_rollout([plan_region(fleet, r, releases[r.name]) for r in fleet.regions], gate=gate,
                             deployer=deployer, observer=recorder)
    assert report.status == "succeeded"
    assert deployer.calls == [("swedencentral", "ray"), ("swedencentral", "anyscale-operator"), ("amsdc1", "ray")]
    steps = [(e[1], e[2]) for e in recorder.events if e[0] == "swedencentral"]
    assert steps == [("preflight", "started"), ("preflight", "passed"), ("crds", "started"), ("crds", "passed"),
                     ("deploy", "started"), ("deploy", "passed"), ("anyscale", "started"), ("anyscale", "passed"),
                     ("readiness", "started"), ("readiness", "passed")]
    assert [s.name for s in report.regions[1].steps] == ["preflight", "crds", "deploy", "readiness"]
    sdc = report.regions[0]
    assert sdc.anyscale is not None and sdc.anyscale.command == _operator_command(fleet).split()


def test_a_failed_operator_install_stops_the_region_and_the_rollout(fleet, releases):
    deployer, gate = Deployer(fail={("swedencentral", "anyscale-operator")}), ScriptedGate()
    report = execute_rollout([plan_region(fleet, r, releases[r.name]) for r in fleet.regions], gate=gate,
                             deployer=deployer)
    assert report.status == "failed"
    sdc, ams = report.regions
    assert sdc.status is RegionStatus.FAILED and ams.status is RegionStatus.NOT_STARTED
    assert sdc.message == ("helm upgrade --install anyscale-operator (Anyscale operator) failed: "
                           "UPGRADE FAILED: ServiceAccount exists")
    assert ("wait", "swedencentral") not in gate.log  # no readiness wait after a failed step
    assert deployer.calls == [("swedencentral", "ray"), ("swedencentral", "anyscale-operator")]


def test_rollout_runs_both_helm_commands_through_the_helm_executable(fleet, releases, tmp_path):
    helm, log = stand_in(tmp_path, "json")
    report = execute_rollout([plan_region(fleet, r, releases[r.name]) for r in fleet.regions],
                             gate=ScriptedGate(), deployer=PyHelm3Deployer(helm))
    assert report.status == "succeeded"
    calls = [json.loads(line) for line in log.read_text().splitlines() if not line.startswith('["version"')]
    assert [c[2] for c in calls] == ["ray", "anyscale-operator", "ray"]
    operator = calls[1]
    expected = _operator_command(fleet).split()[1:]
    assert operator[:operator.index("--output")] == expected[:expected.index("--kube-context")]
    assert operator[operator.index("--output") + 1] == "json"
    assert operator[operator.index("--kube-context") + 1] == "rayfleet-sdc"
    assert report.regions[0].anyscale is not None and report.regions[0].anyscale.revision == 7


def test_dry_run_prints_the_operator_command_and_reports_it(fleet, tmp_path):
    report_path = tmp_path / "rollout.json"
    result = run_cli("rollout", EXAMPLE, "--dry-run", "--no-color", "--report", f"json={report_path}")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("# wave 1")
    assert lines[start + 1].startswith("helm upgrade --install ray ") and "rayfleet-sdc" in lines[start + 1]
    assert lines[start + 2] == _operator_command(fleet)
    assert lines[start + 3] == "# wave 2"
    data = json.loads(report_path.read_text())["data"]["rollout"]
    sdc, ams = data["regions"]
    assert " ".join(sdc["anyscale"]["command"]) == _operator_command(fleet) and ams["anyscale"] is None
    assert sdc["anyscale"]["revision"] is None  # a dry run installs nothing


# --- export flux and fleet-manager -----------------------------------------------------------------

def _exported(fleet, out: Path) -> list[dict]:
    write_export(out, "flux", flux_files(fleet))
    return [o.body for o in load_manifest_paths([str(out)])]


def test_export_flux_writes_the_operator_source_values_and_helmrelease(fleet, tmp_path):
    objects = _exported(fleet, tmp_path / "flux")
    sdc = [o for o in objects if o["metadata"].get("namespace") == "rayfleet-swedencentral"]
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in sdc)
    assert ("HelmRepository", "anyscale-operator") in kinds and ("HelmRelease", "anyscale-operator") in kinds
    assert ("ConfigMap", "anyscale-operator-values-01-swedencentral") in kinds
    (source,) = [o for o in sdc if o["kind"] == "HelmRepository"]
    assert source["spec"] == {"interval": "10m", "url": "https://anyscale.github.io/helm-charts"}
    (release,) = [o for o in sdc if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "anyscale-operator"]
    spec = release["spec"]
    assert spec["chart"]["spec"]["chart"] == "anyscale-operator" and spec["chart"]["spec"]["version"] == "1.8.0"
    assert spec["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "anyscale-operator"}
    assert (spec["releaseName"], spec["targetNamespace"], spec["storageNamespace"]) == ("anyscale-operator",
                                                                                        "anyscale", "anyscale")
    assert spec["dependsOn"] == [{"name": "ray"}]  # after the region's release, as rollout does
    assert "values" not in spec and all(r["kind"] == "ConfigMap" for r in spec["valuesFrom"])
    assert not any(o["kind"] == "Secret" for o in objects)
    ams = [o for o in objects if o["metadata"].get("namespace") == "rayfleet-amsdc1"]
    assert [o["metadata"]["name"] for o in ams if o["kind"] == "HelmRelease"] == ["ray"]


def test_flux_merges_and_renders_the_operator_exactly_as_validated(fleet, tmp_path):
    objects = _exported(fleet, tmp_path / "flux")
    ours = render_fleet(fleet)["swedencentral"].release.anyscale
    assert ours is not None and ours.objects
    namespace = "rayfleet-swedencentral"
    (release,) = [o for o in objects if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "anyscale-operator"]
    merged = flux_values(release, [o for o in objects if o["metadata"].get("namespace") == namespace])
    assert merged == ours.values.merged and differences(ours.values.merged, merged) == []
    spec = release["spec"]
    region = fleet.region("swedencentral")
    assert region.anyscale is not None
    theirs = EmbeddedHelm().render(region.anyscale.chart, [], merged, release=spec["releaseName"],
                                   namespace=spec["targetNamespace"], kube_version=region.cluster.kubernetes_version)
    flux_objects = [d for _, text in sorted(theirs.manifests.items()) for d in yaml.safe_load_all(text) if d]

    def key(o):
        return o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]

    assert sorted(flux_objects, key=key) == sorted((o.body for o in ours.objects), key=key)
    assert len(flux_objects) >= 2


def test_export_flux_with_an_oci_source(hybrid, tmp_path):  # noqa: F811
    _edit(hybrid, "source: {url: https://anyscale.github.io/helm-charts, chart: anyscale-operator}",
          "source: {url: oci://rayfleetacr.azurecr.io/charts/anyscale-operator, provider: azure}")
    objects = _exported(load_fleet(hybrid), tmp_path / "flux")
    (source,) = [o for o in objects if o["kind"] == "OCIRepository" and o["metadata"]["name"] == "anyscale-operator"]
    assert source["spec"]["url"] == "oci://rayfleetacr.azurecr.io/charts/anyscale-operator"
    assert source["spec"]["ref"] == {"tag": "1.8.0"} and source["spec"]["provider"] == "azure"
    (release,) = [o for o in objects if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "anyscale-operator"]
    assert release["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "anyscale-operator"}
    assert "chart" not in release["spec"]


@pytest.mark.parametrize("oci", [False, True])
def test_the_operator_objects_validate_against_flux_crds(hybrid, tmp_path, shared_dir, oci):  # noqa: F811
    from rayfleet.pipeline import scan_manifests

    if oci:
        _edit(hybrid, "source: {url: https://anyscale.github.io/helm-charts, chart: anyscale-operator}",
              "source: {url: oci://rayfleetacr.azurecr.io/charts/anyscale-operator}")
    out = tmp_path / "flux"
    write_export(out, "flux", flux_files(load_fleet(hybrid)))
    result = scan_manifests([str(out / "clusters" / "swedencentral")], crds=shared_dir / "crds")
    assert [f"{f.policy} {f.obj}: {f.message}" for f in result.findings] == []
    kinds = {o.kind for o in load_manifest_paths([str(out / "clusters" / "swedencentral")])}
    assert ("OCIRepository" if oci else "HelmRepository") in kinds and "HelmRelease" in kinds
    # a broken operator HelmRelease is caught by the same CRDs (the check is real)
    broken = out / "clusters" / "swedencentral" / "anyscale-helmrelease.yaml"
    broken.write_text(broken.read_text().replace("dependsOn:\n  - name: ray", "dependsOn:\n  - nom: ray"))
    result = scan_manifests([str(broken)], crds=shared_dir / "crds")
    assert result.findings


def test_export_fleet_manager_places_the_operator_with_its_region(fleet):
    hub = hub_export(fleet)
    files = hub.files()
    assert "regions/swedencentral/anyscale-helmrelease.yaml" in files
    assert "regions/swedencentral/anyscale-source.yaml" in files
    assert not any(name.startswith("regions/amsdc1/anyscale") for name in files)
    # the operator's objects sit in the region's namespace, which the placement selects and the
    # region's override keeps on its own member
    selected = {s["name"] for s in hub.placement["spec"]["resourceSelectors"]}
    assert "rayfleet-swedencentral" in selected
    (override,) = [o for o in hub.overrides if o["metadata"]["name"].endswith("-swedencentral")]
    assert override["spec"]["clusterResourceSelectors"][0]["name"] == "rayfleet-swedencentral"
    operator = [o for o in hub.objects() if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "anyscale-operator"]
    assert [o["metadata"]["namespace"] for o in operator] == ["rayfleet-swedencentral"]


def test_export_cli_writes_the_operator(tmp_path):
    result = run_cli("export", "flux", EXAMPLE, "--out", tmp_path / "flux")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "flux" / "clusters" / "swedencentral" / "anyscale-helmrelease.yaml").is_file()
    result = run_cli("export", "fleet-manager", EXAMPLE, "--out", tmp_path / "hub")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hub" / "regions" / "swedencentral" / "anyscale-helmrelease.yaml").is_file()


# --- a committed export that drifted ---------------------------------------------------------------

def _commit_export(hybrid: Path) -> Path:  # noqa: F811
    out = hybrid.parent / "gitops"
    assert run_cli("export", "flux", hybrid, "--out", out).exit_code == 0
    _edit(hybrid, "delivery:\n", "delivery:\n  exports: {flux: gitops}\n")
    return out / "clusters" / "swedencentral"


def test_validate_catches_stale_operator_values_in_the_committed_export(hybrid, crds_dir):  # noqa: F811
    folder = _commit_export(hybrid)
    assert run_cli("validate", hybrid, "--crds", crds_dir).exit_code == 0
    _edit(folder / "anyscale-operator-values-01-swedencentral.yaml", "audience: api://", "audience: api://stale-")
    result = run_cli("validate", hybrid, "--crds", crds_dir, "--report", "json")
    assert result.exit_code == 1
    parity = [f for f in json.loads(result.output)["findings"] if f["policy"] == "flux-values-parity"]
    assert [(f["region"], f["object"]["name"]) for f in parity] == [("swedencentral", "anyscale-operator")]
    assert parity[0]["message"].endswith("differ from the values rayfleet validated at global.auth.audience")


def test_validate_catches_a_missing_operator_helmrelease(hybrid, crds_dir):  # noqa: F811
    folder = _commit_export(hybrid)
    (folder / "anyscale-helmrelease.yaml").unlink()
    result = run_cli("validate", hybrid, "--crds", crds_dir, "--report", "json")
    assert result.exit_code == 1
    found = [f for f in json.loads(result.output)["findings"] if f["policy"] == "flux-helmrelease-per-region"]
    assert [f["message"] for f in found] == [
        "region 'swedencentral' runs the Anyscale operator but namespace rayfleet-swedencentral has no HelmRelease "
        "anyscale-operator"]


# --- bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "command", "needles"), [
    ("      version: 1.8.0\n", "", "plan",
     ("'version' is a required property", "regions[0].anyscale")),
    ("version: 1.8.0", "version: 1.8.x", "export-flux",
     ("'1.8.x' is not a pinned chart version: give the exact version", "regions[0].anyscale.version")),
    ("version: 1.8.0", "version: '>=1.8.0'", "rollout",
     ("'>=1.8.0' is not a pinned chart version", "regions[0].anyscale.version")),
    ("source: {url: https://anyscale.github.io/helm-charts, chart: anyscale-operator}",
     "source: {url: 'oci://rayfleetacr.azurecr.io/charts/anyscale-operator:1.8.0'}", "export-flux",
     ("is not a chart source", "no tag", "regions[0].anyscale.source")),
    ("source: {url: https://anyscale.github.io/helm-charts, chart: anyscale-operator}",
     "source: {url: https://anyscale.github.io/helm-charts}", "plan",
     ("is not a chart source: {url: https://REPO, chart: NAME}", "regions[0].anyscale.source")),
    ("      source: {url: https://anyscale.github.io/helm-charts, chart: anyscale-operator}\n", "", "export-flux",
     ("anyscale.source is not set: Flux needs the repository", "regions[0].anyscale.source")),
    ("chart: anyscale-operator}", "chart: anyscale-operator-legacy}", "export-fleet-manager",
     ("is named anyscale-operator, its source publishes anyscale-operator-legacy", "regions[0].anyscale.source")),
    ("release: {name: anyscale-operator, namespace: anyscale}", "release: {name: ray, namespace: ray}",
     "rollout", ("has the region's release name 'ray': Helm and Flux would take them for one release",
                 "regions[0].anyscale.release.name")),
    ("release: {name: anyscale-operator, namespace: anyscale}", "release: {name: ray, namespace: anyscale}",
     "export-flux", ("has the region's release name 'ray'", "regions[0].anyscale.release.name")),
])
def test_bad_operator_declarations_exit_2(hybrid, tmp_path, old, new, command, needles):  # noqa: F811
    _edit(hybrid, old, new)
    before = snapshot(hybrid.parent)
    args = {"plan": ["plan", hybrid], "rollout": ["rollout", hybrid, "--dry-run"],
            "export-flux": ["export", "flux", hybrid, "--out", tmp_path / "out"],
            "export-fleet-manager": ["export", "fleet-manager", hybrid, "--out", tmp_path / "out"]}[command]
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert snapshot(hybrid.parent) == before and not (tmp_path / "out").exists()
    assert "Traceback" not in result.output


def test_the_fleet_schema_says_where_the_chart_comes_from():
    schema = json.loads((REPO / "schemas" / "fleet.schema.json").read_text())
    operator = schema["definitions"]["anyscale"]["properties"]
    assert {"chart", "version", "source"} <= set(operator)
    urls = [branch["properties"]["url"]["pattern"] for branch in operator["source"]["oneOf"]]
    assert any(p.startswith("^https://") for p in urls) and any(p.startswith("^oci://") for p in urls)
