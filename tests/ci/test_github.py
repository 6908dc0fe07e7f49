"""The GitHub composite action and the example workflows: schema-valid (check-jsonschema's
vendored GitHub schemas, offline), pinned, injection-safe, and the action's shell steps work
against the real rayfleet CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .cikit import break_eastus2, copy_example_fleet, expressions, load, run_bash, substitute
from .conftest import CI

ACTION = CI / "github" / "action.yml"
PR_WORKFLOW = CI / "github" / "workflows" / "rayfleet-pr.yml"
E2E_WORKFLOW = CI / "github" / "e2e-kind.yml"
WORKFLOWS = (PR_WORKFLOW, E2E_WORKFLOW)
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@v\d+(\.\d+)*$")


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                           *map(str, files)], capture_output=True, text=True, timeout=120, check=False)


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job["steps"]]


def _step(name: str) -> dict[str, Any]:
    return next(step for step in load(ACTION)["runs"]["steps"] if step["name"] == name)


def _action_env(step: dict[str, Any], **inputs: str) -> dict[str, str]:
    """The step's env as GitHub would set it: ``${{ inputs.x }}`` from ``inputs`` (``x`` or
    ``x_with_underscores``) or the input's default, ``${{ steps.validate.outputs.x }}`` from
    ``inputs`` too; an UPPER_CASE key replaces that env variable outright."""
    declared = load(ACTION)["inputs"]
    values = {f"inputs.{name}": str(spec.get("default", "")) for name, spec in declared.items()}
    values.update({key if "." in key else f"inputs.{key.replace('_', '-')}": value for key, value in inputs.items()
                   if not key.isupper()})
    env = {key: substitute(str(value), values) for key, value in step.get("env", {}).items()}
    return env | {key: value for key, value in inputs.items() if key.isupper()}  # constants the test overrides


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


# --- schemas and structure -------------------------------------------------------------------

def test_action_matches_the_github_actions_schema():
    proc = _check_jsonschema("vendor.github-actions", ACTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_match_the_github_workflows_schema():
    proc = _check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(PR_WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert _check_jsonschema("vendor.github-workflows", broken).returncode == 1


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major_version(path):
    uses = [step["uses"] for step in _steps(load(path)) if "uses" in step]
    assert uses
    # ./.rayfleet/ci/github: this repository's action, from a checkout pinned to a commit
    assert [u for u in uses if not PINNED_USES.match(u) and u != "./.rayfleet/ci/github"] == []


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_scripts_take_expressions_through_env_only(path):
    """``${{ }}`` inside ``run:`` is pasted into the script before bash sees it (script injection)."""
    runs = [step["run"] for step in _steps(load(path)) if "run" in step]
    assert [expressions(run) for run in runs if expressions(run)] == []


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_scripts_are_valid_bash(path):
    for step in _steps(load(path)):
        if "run" in step:
            proc = subprocess.run(["bash", "-n", "-c", step["run"]], capture_output=True, text=True, check=False)
            assert proc.returncode == 0, f"{step.get('name')}: {proc.stderr}"


def test_action_references_only_declared_inputs_and_step_ids():
    action = load(ACTION)
    text = ACTION.read_text()
    used_inputs = set(re.findall(r"\binputs\.([\w-]+)", text))
    assert used_inputs == set(action["inputs"])
    step_ids = {step["id"] for step in action["runs"]["steps"] if "id" in step}
    assert set(re.findall(r"steps\.([\w-]+)\.", text)) <= step_ids
    assert set(action["outputs"]) == {"exit-code", "sarif-file", "junit-file", "markdown-file", "category"}


def test_action_steps_in_order():
    action = load(ACTION)
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    assert [s["name"] for s in steps] == ["Set up Python", "Install rayfleet", "Build chart dependencies",
                                          "Validate the fleet", "Upload SARIF to code scanning", "Fail on findings"]
    assert steps[0]["uses"] == "actions/setup-python@v5"
    upload = steps[4]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["category"] == "${{ steps.validate.outputs.category }}"
    assert upload["if"].startswith("always()")
    assert steps[5]["if"].startswith("always()")


def test_install_is_pinned_to_a_commit_not_to_an_unpublished_release():
    """No PyPI package and no release tag exist yet: the workflow checks rayfleet out at a commit
    and uses the action from there; the action installs that same checkout by default."""
    assert load(ACTION)["inputs"]["version"]["default"] == ""
    steps = _steps(load(PR_WORKFLOW))
    checkout = next(s for s in steps if s.get("with", {}).get("path") == ".rayfleet")
    assert checkout["with"]["ref"] == "${{ env.RAYFLEET_COMMIT }}"
    assert next(s for s in steps if s.get("id") == "rayfleet")["uses"] == "./.rayfleet/ci/github"
    for path in (ACTION, PR_WORKFLOW, CI / "pre-commit" / "example-config.yaml", CI.parent / "docs" / "ci.md",
                 CI.parent / "README.md", CI / "azure-pipelines" / "rayfleet.yml",
                 CI / "azure-pipelines" / "example-pipeline.yml"):
        text = path.read_text()
        assert "rayfleet==0.1.0" not in text and "@v0.1.0" not in text and "rev: v0.1.0" not in text, path


@pytest.mark.parametrize("inputs, installed", [
    ({}, "{action}/../.."),
    ({"version": "1.2.3"}, "rayfleet==1.2.3"),
    ({"package": "git+https://example.com/rayfleet@abc", "version": "1.2.3"}, "git+https://example.com/rayfleet@abc"),
])
def test_install_step_installs_what_was_asked(tmp_path, inputs, installed):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "rayfleet"):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {tmp_path}/calls\n')
        (bin_dir / name).chmod(0o755)
    step = _step("Install rayfleet")
    values = {"github.action_path": str(tmp_path / "action")}
    env = {key: substitute(value, values) if "github.action_path" in value else value
           for key, value in _action_env({"env": {k: v for k, v in step["env"].items()
                                                  if "github.action_path" not in v}}, **inputs).items()}
    env["ACTION_ROOT"] = substitute(step["env"]["ACTION_ROOT"], values)
    run = run_bash(step["run"], cwd=tmp_path, env=env, path=f"{bin_dir}:/usr/bin:/bin")
    assert run.code == 0, run.output
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0].endswith(" " + installed.format(action=tmp_path / "action"))


def test_pr_workflow_triggers_permissions_and_comment():
    workflow = load(PR_WORKFLOW)
    on = workflow[True] if True in workflow else workflow["on"]  # PyYAML reads `on:` as True
    assert set(on) == {"pull_request"}
    assert {"fleet.yaml", "values/**", "charts/**"} <= set(on["pull_request"]["paths"])
    assert workflow["permissions"] == {"contents": "read", "security-events": "write", "pull-requests": "write"}
    steps = _steps(workflow)
    comment = next(s for s in steps if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment@"))
    action_step = next(s for s in steps if s.get("id") == "rayfleet")
    assert comment["with"]["path"] == action_step["with"]["markdown-file"]
    assert comment["if"].startswith("always()")


def test_e2e_workflow_runs_the_script():
    steps = _steps(load(E2E_WORKFLOW))
    assert any(s.get("run") == "ci/e2e/run.sh" for s in steps)
    assert any("rayfleet validate ci/e2e/fleet.yaml" in s.get("run", "") for s in steps)


# --- the action's shell steps, run for real -------------------------------------------------

@pytest.fixture
def github_files(tmp_path) -> dict[str, str]:
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.touch()
    summary.touch()
    return {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}


def _validate(tmp_path: Path, rayfleet_path: str, github_files: dict[str, str], **inputs: str):
    env = _action_env(_step("Validate the fleet"), **inputs) | github_files
    run = run_bash(_step("Validate the fleet")["run"], cwd=tmp_path, env=env, path=rayfleet_path)
    return run, _outputs(Path(github_files["GITHUB_OUTPUT"])), Path(github_files["GITHUB_STEP_SUMMARY"]).read_text()


def test_validate_step_writes_every_report_and_the_summary(tmp_path, rayfleet_path, github_files, crds):
    copy_example_fleet(tmp_path)
    run, outputs, summary = _validate(tmp_path, rayfleet_path, github_files, fleet="examples/fleet.yaml",
                                      crds=str(crds), sarif_file="reports/rayfleet.sarif")
    assert run.code == 0, run.output
    assert outputs == {"exit-code": "0", "sarif-file": "reports/rayfleet.sarif", "junit-file": "rayfleet-junit.xml",
                       "markdown-file": "rayfleet-report.md", "category": "rayfleet"}
    assert (tmp_path / "reports" / "rayfleet.sarif").read_text().lstrip().startswith("{")
    assert (tmp_path / "rayfleet-junit.xml").read_text().startswith("<?xml")
    assert summary == (tmp_path / "rayfleet-report.md").read_text()
    assert summary.startswith("## rayfleet validate: ✅ passed")
    assert "rayfleet validate" in run.output  # the text report goes to the log


def test_validate_step_records_findings_without_failing_so_the_upload_runs(tmp_path, rayfleet_path, github_files,
                                                                           crds):
    copy_example_fleet(tmp_path)
    break_eastus2(tmp_path)
    run, outputs, summary = _validate(tmp_path, rayfleet_path, github_files, fleet="examples/fleet.yaml",
                                      crds=str(crds), regions="eastus2 westus3")
    assert run.code == 0, run.output
    assert outputs["exit-code"] == "1"
    assert outputs["sarif-file"] == "rayfleet.sarif"
    assert summary.startswith("## rayfleet validate: ❌ failed")
    headings = {line.rsplit(" ", 1)[1]: line for line in summary.splitlines() if line.startswith("### ")}
    assert headings["eastus2"] == "### ❌ eastus2"
    assert not headings["westus3"].startswith("### ❌")
    assert "swedencentral" not in headings  # only the regions asked for
    assert "| ❌ error | `values-schema` |" in summary

    fail = _step("Fail on findings")
    failed = run_bash(fail["run"], cwd=tmp_path, path=rayfleet_path,
                      env=_action_env(fail, **{"steps.validate.outputs.exit-code": outputs["exit-code"]}))
    assert failed.code == 1
    assert "::error title=rayfleet::findings at or above 'error'" in failed.output


def test_validate_step_on_bad_input_leaves_no_report_paths(tmp_path, rayfleet_path, github_files):
    run, outputs, summary = _validate(tmp_path, rayfleet_path, github_files, fleet="missing.yaml")
    assert run.code == 0, run.output
    assert outputs == {"exit-code": "2", "sarif-file": "", "junit-file": "", "markdown-file": "", "category": ""}
    assert "exited 2 without writing a report" in summary
    fail = _step("Fail on findings")
    failed = run_bash(fail["run"], cwd=tmp_path, path=rayfleet_path,
                      env=_action_env(fail, **{"steps.validate.outputs.exit-code": "2"}))
    assert failed.code == 2 and "bad input or usage" in failed.output


def _fake_helm(tmp_path: Path) -> Path:
    helm = tmp_path / "bin" / "helm"
    helm.parent.mkdir()
    helm.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/helm-calls\n')
    helm.chmod(0o755)
    return helm


def test_dependency_build_adds_the_remote_repositories_then_builds(tmp_path, rayfleet_path):
    copy_example_fleet(tmp_path)
    step = _step("Build chart dependencies")
    run = run_bash(step["run"], cwd=tmp_path, path=rayfleet_path,
                   env=_action_env(step, fleet="examples/fleet.yaml", helm_binary=str(_fake_helm(tmp_path))))
    assert run.code == 0, run.output
    assert (tmp_path / "helm-calls").read_text().splitlines() == [
        "repo add rayfleet-dependency-1 https://ray-project.github.io/kuberay-helm/ --force-update",
        "dependency build charts/ray-aks",
    ]


def test_dependency_build_without_remote_dependencies(tmp_path, rayfleet_path):
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: local\nversion: 0.1.0\n")
    (tmp_path / "fleet.yaml").write_text("chart: chart\n")
    step = _step("Build chart dependencies")
    run = run_bash(step["run"], cwd=tmp_path, path=rayfleet_path,
                   env=_action_env(step, helm_binary=str(_fake_helm(tmp_path))))
    assert run.code == 0, run.output
    assert (tmp_path / "helm-calls").read_text().splitlines() == ["dependency build chart"]


def test_dependency_build_is_skipped_without_helm(tmp_path, rayfleet_path):
    step = _step("Build chart dependencies")
    path = ":".join(p for p in rayfleet_path.split(":") if not (Path(p) / "helm").exists())
    run = run_bash(step["run"], cwd=tmp_path, path=path, env=_action_env(step))
    assert run.code == 0, run.output
    assert "No helm binary" in run.output


def test_validate_step_cuts_a_long_report_to_fit_a_comment(tmp_path, rayfleet_path, github_files, crds):
    copy_example_fleet(tmp_path)
    break_eastus2(tmp_path)
    run, outputs, summary = _validate(tmp_path, rayfleet_path, github_files, fleet="examples/fleet.yaml",
                                      crds=str(crds), MARKDOWN_LIMIT="400")
    assert run.code == 0, run.output
    comment = (tmp_path / outputs["markdown-file"]).read_text()
    assert len(summary.encode()) > 400
    assert summary.startswith(comment.rsplit("\n\n… cut", 1)[0])  # whole lines of the full report
    assert comment.endswith("\n… cut to fit a comment: the full report is in the job summary and in rayfleet.sarif.\n")
    assert len(comment.encode()) < 400 + 100


def test_validate_step_reports_the_region_category_and_appends_the_diff(tmp_path, rayfleet_path, github_files,
                                                                         crds):
    copy_example_fleet(tmp_path)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=tmp_path,
                       check=True, capture_output=True)
    values = tmp_path / "examples" / "values" / "regions" / "westus3.yaml"
    values.write_text(values.read_text() + "\ntests:\n  blobAccess:\n    enabled: false\n")
    run, outputs, summary = _validate(tmp_path, rayfleet_path, github_files, fleet="examples/fleet.yaml",
                                      crds=str(crds), regions="westus3", diff_base="HEAD")
    assert run.code == 0, run.output
    assert outputs["category"] == "rayfleet/westus3"
    sarif = (tmp_path / outputs["sarif-file"]).read_text()
    assert '"id": "rayfleet/westus3/"' in sarif
    comment = (tmp_path / outputs["markdown-file"]).read_text()
    assert comment.startswith("## rayfleet validate")  # the findings summary, then the diff
    assert "## rayfleet diff: `HEAD` → this change" in comment
    assert "- **removed** `Pod/ray/ray-test-blob-access`" in comment
    assert "| westus3 | changed | 0 | 1 | 0 |" in comment
    assert "eastus2" not in comment.split("## rayfleet diff", 1)[1]  # only the selected region
    assert summary == comment  # the job summary gets the same, uncut
