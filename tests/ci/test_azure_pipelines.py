"""The Azure Pipelines steps template and the example pipeline: valid against the published
Azure Pipelines schema (vendored by check-jsonschema, offline), structurally sound (tasks, their
major versions and inputs, declared parameters), and the template's scripts work against the
real rayfleet CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from .cikit import break_eastus2, copy_example_fleet, expressions, load, run_bash, substitute
from .conftest import CI

TEMPLATE = CI / "azure-pipelines" / "rayfleet.yml"
EXAMPLE = CI / "azure-pipelines" / "example-pipeline.yml"


def _template() -> dict[str, Any]:
    return load(TEMPLATE)


def _step(name: str) -> dict[str, Any]:
    return next(step for step in _template()["steps"] if step.get("displayName") == name)


def _env(step: dict[str, Any], reports: Path, **parameters: Any) -> dict[str, str]:
    """The step's env after template expansion, with ``parameters`` over the declared defaults."""
    values: dict[str, Any] = {p["name"]: p.get("default", "") for p in _template()["parameters"]}
    values.update(parameters, reportsDirectory=str(reports))
    expanded = {f"parameters.{name}": str(value) for name, value in values.items() if not isinstance(value, list)}
    expanded["join(' ', parameters.regions)"] = " ".join(values["regions"])
    return {key: substitute(str(value), expanded) for key, value in step.get("env", {}).items()}


def _logging_commands(output: str) -> list[str]:
    return re.findall(r"##vso\[[^\]]+\][^\n]*", output)


def test_files_match_the_azure_pipelines_schema():
    # The published schema has patterns only the non-unicode regex engine compiles.
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.azure-pipelines",
                           "--regex-variant", "nonunicode", str(TEMPLATE), str(EXAMPLE)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_template_tasks_and_versions():
    tasks = {step["task"]: step for step in _template()["steps"] if "task" in step}
    assert set(tasks) == {"UsePythonVersion@0", "PublishTestResults@2", "PublishBuildArtifacts@1"}
    assert tasks["PublishTestResults@2"]["inputs"]["testResultsFormat"] == "JUnit"
    assert tasks["PublishTestResults@2"]["inputs"]["testResultsFiles"].endswith("/rayfleet-junit.xml")
    sarif = tasks["PublishBuildArtifacts@1"]["inputs"]
    assert sarif["ArtifactName"] == "CodeAnalysisLogs"  # the name the SARIF SAST Scans Tab reads
    assert sarif["PathtoPublish"].endswith("/rayfleet.sarif")
    for name in ("PublishTestResults@2", "PublishBuildArtifacts@1"):
        assert tasks[name]["condition"].startswith("and(succeededOrFailed(),")


def test_template_uses_only_declared_parameters():
    declared = {p["name"] for p in _template()["parameters"]}
    used = {name for expr in expressions(TEMPLATE.read_text()) for name in re.findall(r"parameters\.(\w+)", expr)}
    assert used == declared


def test_scripts_take_parameters_through_env_only():
    scripts = [step["bash"] for step in _template()["steps"] if "bash" in step]
    assert len(scripts) == 4
    assert [expressions(script) for script in scripts if expressions(script)] == []
    for script in scripts:
        assert subprocess.run(["bash", "-n", "-c", script], check=False).returncode == 0


def test_example_pipeline_uses_the_template_with_declared_parameters():
    example = load(EXAMPLE)
    steps = example["jobs"][0]["steps"]
    use = next(step for step in steps if "template" in step)
    assert (EXAMPLE.parent / use["template"]).resolve() == TEMPLATE
    assert set(use["parameters"]) <= {p["name"] for p in _template()["parameters"]}
    # rayfleet is not on PyPI yet: the example installs a git URL pinned to a commit
    assert "version" not in use["parameters"]
    assert use["parameters"]["package"].startswith("git+https://") and "@" in use["parameters"]["package"]
    assert next(p for p in _template()["parameters"] if p["name"] == "version")["default"] == ""
    assert {"fleet.yaml", "values", "charts"} <= set(example["pr"]["paths"]["include"])


def test_validate_script_passes_and_publishes(tmp_path, rayfleet_path, crds):
    copy_example_fleet(tmp_path)
    reports = tmp_path / "staging" / "rayfleet"
    step = _step("Validate the fleet")
    run = run_bash(step["bash"], cwd=tmp_path, path=rayfleet_path, options=(),
                   env=_env(step, reports, fleet="examples/fleet.yaml", crds=str(crds)))
    assert run.code == 0, run.output
    assert _logging_commands(run.output) == [
        "##vso[task.setvariable variable=rayfleetExitCode]0",
        "##vso[task.setvariable variable=rayfleetReports]true",
        f"##vso[task.uploadsummary]{reports}/rayfleet-report.md",
    ]
    assert {p.name for p in reports.iterdir()} == {"rayfleet.sarif", "rayfleet-junit.xml", "rayfleet-report.md"}


def test_findings_fail_the_last_step_after_publishing(tmp_path, rayfleet_path, crds):
    copy_example_fleet(tmp_path)
    break_eastus2(tmp_path)
    reports = tmp_path / "reports"
    step = _step("Validate the fleet")
    run = run_bash(step["bash"], cwd=tmp_path, path=rayfleet_path, options=(),
                   env=_env(step, reports, fleet="examples/fleet.yaml", crds=str(crds), regions=["eastus2"]))
    assert run.code == 0, run.output  # the publish steps still run
    assert "##vso[task.setvariable variable=rayfleetExitCode]1" in run.output
    assert "values-schema" in (reports / "rayfleet-junit.xml").read_text()

    fail = _step("Fail on findings")
    assert fail["condition"] == "and(succeeded(), ne(variables['rayfleetExitCode'], '0'))"
    env = {**_env(fail, reports), "CODE": "1"}  # $(rayfleetExitCode), a runtime macro
    failed = run_bash(fail["bash"], cwd=tmp_path, path=rayfleet_path, options=(), env=env)
    assert failed.code == 1
    assert _logging_commands(failed.output) == ["##vso[task.logissue type=error]rayfleet found problems at or above "
                                                "'error' (see the Tests tab and the summary)"]


def test_bad_input_fails_the_validate_step(tmp_path, rayfleet_path):
    step = _step("Validate the fleet")
    run = run_bash(step["bash"], cwd=tmp_path, path=rayfleet_path, options=(),
                   env=_env(step, tmp_path / "r", fleet="nope.yaml"))
    assert run.code == 2
    assert "##vso[task.setvariable variable=rayfleetReports]true" not in run.output
    assert "##vso[task.logissue type=error]rayfleet validate exited 2" in run.output


def test_dependency_build_script_is_the_github_actions_one():
    """Same job, same script: tests/ci/test_github.py runs it against a fake helm."""
    action = load(CI / "github" / "action.yml")
    github = next(step["run"] for step in action["runs"]["steps"] if step["name"] == "Build chart dependencies")
    assert _step("Build chart dependencies")["bash"] == "set -euo pipefail\n" + github
