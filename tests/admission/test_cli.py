"""rayfleet policies export --format admission and rayfleet admit, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.admission.twins import TWINS
from rayfleet.cli import main

from ..policies.fixturekit import FIXTURES

REPO = Path(__file__).resolve().parents[2]
FLEET = REPO / "examples" / "fleet.yaml"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "admission"
    result = run("policies", "export", "--format", "admission", "--fleet", str(FLEET), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_export_writes_one_file_per_policy_with_its_binding(exported: Path) -> None:
    files = sorted(p.name for p in exported.glob("*.yaml"))
    assert len(files) == len(TWINS)
    docs = list(yaml.safe_load_all((exported / "ray-no-secret-objects.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    binding = docs[1]["spec"]
    assert binding["policyName"] == "ray-no-secret-objects"
    assert binding["matchResources"]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ray"}


@pytest.mark.parametrize("version", [f"1.{minor}" for minor in range(30, 38)])
def test_export_passes_the_kubernetes_schemas(exported: Path, version: str) -> None:
    result = run("scan", str(exported), "--kube-version", version, "--report", "json")
    assert result.exit_code == 0, result.output
    assert '"kubernetes-schema"' not in result.output


def test_export_to_stdout_and_mode_warn() -> None:
    result = run("policies", "export", "--format", "admission", "--namespace", "ml", "--mode", "Warn")
    assert result.exit_code == 0
    bindings = [d for d in yaml.safe_load_all(result.output) if d["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert len(bindings) == len(TWINS)
    assert {tuple(b["spec"]["validationActions"]) for b in bindings} == {("Warn", "Audit")}


def test_export_without_a_namespace_is_bad_input() -> None:
    result = CliRunner().invoke(main, ["policies", "export", "--format", "admission"])
    assert result.exit_code == 2
    assert "give --fleet or --namespace" in result.output


def test_export_refuses_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["policies", "export", "--format", "admission", "--namespace", "ray",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_admit_denies_a_fail_fixture_and_exits_1() -> None:
    result = run("admit", str(FIXTURES / "no-privileged-containers" / "fail.yaml"))
    assert result.exit_code == 1
    assert "rayfleet-no-privileged-containers denies DaemonSet 'node-tuner'" in result.output


def test_admit_admits_a_pass_fixture() -> None:
    result = run("admit", str(FIXTURES / "no-host-path-volumes" / "pass.yaml"), "--report", "json")
    errors = [f for f in yaml.safe_load(result.output)["findings"] if f["severity"] == "error"]
    assert errors == []
    assert result.exit_code == 0


def test_admit_with_exported_policies_and_a_namespace(exported: Path) -> None:
    fail = str(FIXTURES / "blob-token-only-auth" / "fail.yaml")
    result = run("admit", fail, "--policies", str(exported), "--report", "json")
    assert result.exit_code == 1
    policies = {f["policy"] for f in yaml.safe_load(result.output)["findings"]}
    assert "blob-token-only-auth" in policies


def test_admit_mode_warn_exits_0_unless_fail_on_warning() -> None:
    fail = str(FIXTURES / "no-privileged-containers" / "fail.yaml")
    assert run("admit", fail, "--mode", "Warn").exit_code == 0
    assert run("admit", fail, "--mode", "Warn", "--fail-on", "warning").exit_code == 1


def test_admit_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = CliRunner().invoke(main, ["admit", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    no_vap = tmp_path / "cm.yaml"
    no_vap.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = CliRunner().invoke(main, ["admit", str(no_vap), "--policies", str(no_vap)])
    assert result.exit_code == 2
    assert "holds no ValidatingAdmissionPolicy" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_policies_lists_admission_and_why_not() -> None:
    result = run("policies")
    assert "admission" in result.output
    assert "ray-image-consistent: extracts the Ray version" in result.output
    shown = run("policies", "show", "no-literal-credentials").output
    assert "Admission: not exported: searches every string" in shown
