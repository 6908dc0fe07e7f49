"""rayfleet export flux | fleet-manager: the objects, their CRDs, determinism, and safe writing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.cli.export import export
from rayfleet.cli.rollout import rollout
from rayfleet.delivery.fleet_manager import hub_export
from rayfleet.delivery.flux import region_exports
from rayfleet.delivery.writer import MARKER
from rayfleet.errors import InputError
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import scan_manifests

from tests.conftest import REPO

FLEET = REPO / "examples" / "fleet.yaml"


def _export(kind: str, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(export, [kind, str(FLEET), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _objects(folder: Path) -> list[dict]:
    return [d for p in sorted(folder.rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    _export("flux", root / "flux")
    _export("fleet-manager", root / "hub")
    return root


def test_every_exported_object_validates_against_the_shared_crds(exported, shared_dir):
    result = scan_manifests([str(exported / "flux"), str(exported / "hub")], crds=shared_dir / "crds")
    assert [f"{f.policy} {f.obj}: {f.message}" for f in result.findings] == []
    kinds = {(o["apiVersion"], o["kind"]) for o in _objects(exported)}
    assert kinds == {("v1", "Namespace"), ("v1", "ConfigMap"), ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
                     ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
                     ("placement.kubernetes-fleet.io/v1beta1", "ClusterResourcePlacement"),
                     ("placement.kubernetes-fleet.io/v1beta1", "ClusterResourceOverride"),
                     ("placement.kubernetes-fleet.io/v1beta1", "ClusterStagedUpdateStrategy")}


def test_the_crds_are_really_checked(exported, shared_dir, tmp_path):
    # the same objects, each broken in a way only its CRD knows: every one is caught
    broken = _objects(exported)
    for obj in broken:
        spec = obj.get("spec") or {}
        if obj["kind"] == "HelmRelease":
            spec["install"]["crds"] = "Always"
        elif obj["kind"] == "ClusterStagedUpdateStrategy":
            spec["stages"][0]["name"] = "wave-1"
        elif obj["kind"] == "ClusterResourcePlacement":
            spec["strategy"]["type"] = "Staged"
        elif obj["kind"] == "OCIRepository":
            spec["provider"] = "vault"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump_all(broken))
    result = scan_manifests([str(tmp_path / "broken.yaml")], crds=shared_dir / "crds")
    caught = {(f.obj.kind, f.path) for f in result.findings if f.policy == "custom-resource-schema"}
    assert ("HelmRelease", "spec.install.crds") in caught
    assert ("ClusterStagedUpdateStrategy", "spec.stages[0].name") in caught
    assert ("ClusterResourcePlacement", "spec.strategy.type") in caught
    assert ("OCIRepository", "spec.provider") in caught


def test_scan_takes_several_crd_folders_through_their_parent(exported, shared_dir):
    # without the Flux and Fleet CRDs the kinds are unknown; the parent folder holds them all
    only_kuberay = scan_manifests([str(exported / "flux")], crds=shared_dir / "crds" / "kuberay")
    assert {f.policy for f in only_kuberay.findings} == {"unknown-kind"}
    assert scan_manifests([str(exported / "flux")], crds=shared_dir / "crds").findings == []


def test_flux_layout_one_folder_per_cluster(exported):
    flux = exported / "flux"
    assert sorted(p.name for p in (flux / "clusters").iterdir()) == ["eastus2", "manager", "swedencentral", "westus3"]
    assert sorted(p.name for p in (flux / "clusters" / "eastus2").iterdir()) == [
        "helmrelease.yaml", "namespace.yaml", "ray-values-01-platform.yaml", "ray-values-02-eastus2.yaml",
        "ray-values-03-platform-team.yaml", "source.yaml"]
    kind, *listed = (flux / MARKER).read_text().splitlines()
    assert kind == "kind: flux"  # then every file written, so a re-export can tell them from a stranger's
    assert listed == sorted(p.relative_to(flux).as_posix() for p in flux.rglob("*") if p.is_file() and p.name != MARKER)


def test_helmrelease_layers_remediation_and_crd_policy(exported):
    release = yaml.safe_load((exported / "flux" / "clusters" / "westus3" / "helmrelease.yaml").read_text())
    spec = release["spec"]
    assert release["metadata"]["namespace"] == "rayfleet-westus3"
    assert [v["name"] for v in spec["valuesFrom"]] == [
        "ray-values-01-platform", "ray-values-02-westus3", "ray-values-03-platform-team"]
    assert spec["install"]["crds"] == "Create" and spec["upgrade"]["crds"] == "CreateReplace"
    assert spec["install"]["remediation"]["retries"] == 3
    assert spec["upgrade"]["remediation"] == {"retries": 3, "remediateLastFailure": True, "strategy": "rollback"}
    # the Helm release is where `rayfleet rollout` (helm) puts it, so the engines can be switched
    assert (spec["releaseName"], spec["targetNamespace"], spec["storageNamespace"]) == ("ray", "ray", "ray")
    assert spec["chartRef"] == {"kind": "OCIRepository", "name": "ray"}
    layer = yaml.safe_load((exported / "flux" / "clusters" / "westus3" / "ray-values-02-westus3.yaml").read_text())
    assert layer["data"]["values.yaml"] == (REPO / "examples" / "values" / "regions" / "westus3.yaml").read_text()
    assert layer["metadata"]["annotations"]["rayfleet.dev/values-file"] == "values/regions/westus3.yaml"


def test_exports_are_byte_identical(exported, tmp_path):
    _export("flux", tmp_path / "again")
    _export("fleet-manager", tmp_path / "hub-again")
    assert _tree(tmp_path / "again") == _tree(exported / "flux")
    assert _tree(tmp_path / "hub-again") == _tree(exported / "hub")
    # and an export over an earlier one replaces it with the same bytes
    _export("flux", tmp_path / "again")
    assert _tree(tmp_path / "again") == _tree(exported / "flux")


def fleet_copy(tmp_path: Path, change) -> Path:
    """The example fleet, changed by ``change(data)``, written to tmp_path with absolute paths."""
    data = yaml.safe_load(FLEET.read_text())
    data["chart"] = str(REPO / "charts" / "ray-aks")
    change(data)
    for key in ("valuesFiles", "overrides"):
        data[key] = [str(REPO / "examples" / p) for p in data[key]]
    for region in data["regions"]:
        region["valuesFiles"] = [str(REPO / "examples" / p) for p in region["valuesFiles"]]
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("source, chart", [
    ({"kind": "GitRepository", "url": "https://github.com/example/platform", "ref": {"branch": "main"},
      "path": "charts/ray-aks"},
     {"spec": {"chart": "./charts/ray-aks", "reconcileStrategy": "Revision", "interval": "10m",
               "sourceRef": {"kind": "GitRepository", "name": "ray"}}}),
    ({"kind": "HelmRepository", "url": "oci://rayfleetacr.azurecr.io/charts", "chart": "ray-aks",
      "version": "0.1.0", "provider": "azure"},
     {"spec": {"chart": "ray-aks", "version": "0.1.0", "interval": "10m",
               "sourceRef": {"kind": "HelmRepository", "name": "ray"}}}),
])
def test_git_and_helm_repository_sources(tmp_path, shared_dir, source, chart):
    fleet = load_fleet(fleet_copy(tmp_path, lambda data: data["delivery"].update(source=source)))
    first = region_exports(fleet)[0]
    assert first.helmrelease["spec"]["chart"] == chart
    assert first.source["kind"] == source["kind"]
    out = tmp_path / "out"
    result = CliRunner().invoke(export, ["flux", str(fleet.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert scan_manifests([str(out)], crds=shared_dir / "crds").findings == []


def test_no_secret_anywhere(exported, tmp_path):
    text = "\n".join(p.read_text() for p in sorted(exported.rglob("*.yaml")))
    assert "secretRef" not in text and "kind: Secret" not in text
    # and the fleet schema refuses a source that names one
    data = yaml.safe_load(FLEET.read_text())
    data["delivery"]["source"]["secretRef"] = {"name": "acr-pull"}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="delivery"):
        load_fleet(path)


def test_refuses_a_folder_that_is_not_an_export(tmp_path):
    out = tmp_path / "home"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = CliRunner().invoke(export, ["flux", str(FLEET), "--out", str(out)])
    assert result.exit_code == 2 and "was not written by `rayfleet export flux`" in result.output
    assert _tree(out) == {"notes.txt": b"mine"}
    # nor one that holds the other kind of export
    _export("fleet-manager", tmp_path / "hub")
    result = CliRunner().invoke(export, ["flux", str(FLEET), "--out", str(tmp_path / "hub")])
    assert result.exit_code == 2 and "different rayfleet export" in result.output


def test_never_writes_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "out"
    link.symlink_to(target)
    result = CliRunner().invoke(export, ["flux", str(FLEET), "--out", str(link)])
    assert result.exit_code == 2 and "symlink" in result.output
    assert list(target.iterdir()) == []
    # a marker that is a symlink does not make a folder an export
    out = tmp_path / "fake"
    out.mkdir()
    (out / MARKER).symlink_to(tmp_path / "elsewhere")
    result = CliRunner().invoke(export, ["flux", str(FLEET), "--out", str(out)])
    assert result.exit_code == 2


def test_a_reexport_removes_stale_files_and_leaves_no_temporary_folders(tmp_path):
    out = tmp_path / "flux"
    _export("flux", out)
    stale = out / "clusters" / "oldregion"
    stale.mkdir()
    (stale / "helmrelease.yaml").write_text("stale")
    with (out / MARKER).open("a") as marker:  # as an earlier export with that region would have listed it
        marker.write("clusters/oldregion/helmrelease.yaml\n")
    _export("flux", out, "--region", "eastus2")
    assert sorted(p.name for p in (out / "clusters").iterdir()) == ["eastus2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flux"]
    assert all(not p.is_symlink() for p in out.rglob("*"))
    assert oct(os.stat(out).st_mode & 0o777) == "0o755"


@pytest.mark.parametrize("stranger", ["clusters/eastus2/notes.txt", "clusters/mine/", "link"])
def test_an_earlier_export_with_anything_unlisted_is_refused_and_left_alone(tmp_path, stranger):
    out = tmp_path / "flux"
    _export("flux", out)
    path = out / stranger
    if stranger.endswith("/"):
        path.mkdir()
    elif stranger == "link":
        path.symlink_to(tmp_path)
    else:
        path.write_text("mine")
    before = _tree(out)
    result = CliRunner().invoke(export, ["flux", str(FLEET), "--out", str(out)])
    assert result.exit_code == 2 and "which `rayfleet export flux` did not write" in result.output
    assert _tree(out) == before and path.exists()


def test_fleet_manager_objects(exported):
    fleet = load_fleet(FLEET)
    hub = hub_export(fleet)
    placement = hub.placement["spec"]
    assert placement["strategy"] == {"type": "External"}
    assert [s["name"] for s in placement["resourceSelectors"]] == [
        "rayfleet-eastus2", "rayfleet-swedencentral", "rayfleet-westus3", "rayfleet-manager"]
    stages = hub.strategy["spec"]["stages"]
    # The MultiKueue manager goes last (wave 3), after the workers it dispatches to.
    assert [(s["name"], s["labelSelector"]["matchExpressions"][0]["values"]) for s in stages] == [
        ("wave1", ["rayfleet-eus2"]), ("wave2", ["rayfleet-sdc", "rayfleet-wus3"]), ("wave3", ["aks-ray-manager"])]
    assert all(s["afterStageTasks"] == [{"type": "Approval"}] for s in stages)
    override = hub.overrides[1]
    assert override["spec"]["clusterResourceSelectors"][0]["name"] == "rayfleet-swedencentral"
    terms = override["spec"]["policy"]["overrideRules"][0]["clusterSelector"]["clusterSelectorTerms"]
    assert [t["labelSelector"]["matchExpressions"][0]["values"] for t in terms] == [["rayfleet-sdc"],
                                                                                   ["swedencentral"]]
    assert override["spec"]["policy"]["overrideRules"][0]["overrideType"] == "Delete"
    # the hub carries exactly the Flux export's objects for each region
    for region in ("eastus2", "westus3"):
        flux = _tree(exported / "flux" / "clusters" / region)
        hub_files = _tree(exported / "hub" / "regions" / region)
        assert {k: v for k, v in hub_files.items() if k != "override.yaml"} == flux


def test_shared_member_names_are_refused(tmp_path):
    path = fleet_copy(tmp_path, lambda data: data["regions"][2].update(fleetMember="rayfleet-sdc"))
    result = CliRunner().invoke(export, ["fleet-manager", str(path), "--out", str(tmp_path / "hub")])
    assert result.exit_code == 2
    assert "name the same Fleet Manager member 'rayfleet-sdc'" in result.output
    assert "regions[2].fleetMember" in result.output
    assert not (tmp_path / "hub").exists()


def test_export_without_delivery_is_bad_input(tmp_path):
    path = fleet_copy(tmp_path, lambda data: data.pop("delivery"))
    result = CliRunner().invoke(export, ["flux", str(path), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "no delivery: block" in result.output and "Traceback" not in result.output


def test_rollout_fleet_manager_dry_run_prints_stages_and_objects():
    result = CliRunner().invoke(rollout, [str(FLEET), "--engine", "fleet-manager", "--dry-run", "--no-color"])
    assert result.exit_code == 0, result.output
    assert "# stage wave1 (canary): eastus2" in result.output
    assert "# stage wave2: swedencentral, westus3" in result.output
    assert "approve ClusterApprovalRequest rayfleet-latest-after-wave2" in result.output
    documents = [d for d in yaml.safe_load_all(result.output.split("read at run time):\n", 1)[1].split("\neastus2")[0])
                 if d]
    assert documents[0]["kind"] == "ClusterStagedUpdateRun"
    assert documents[0]["spec"] == {"placementName": "rayfleet", "stagedRolloutStrategyName": "rayfleet-waves",
                                    "state": "Run"}


def test_a_values_file_helm_cannot_read_is_refused(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("- a list, not a mapping\n")
    path = fleet_copy(tmp_path, lambda data: data["regions"][0]["valuesFiles"].append(str(broken)))
    out = tmp_path / "out"
    result = CliRunner().invoke(export, ["flux", str(path), "--out", str(out)])
    assert result.exit_code == 2 and "broken.yaml" in result.output and "mapping" in result.output
    assert not out.exists()
