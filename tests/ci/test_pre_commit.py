"""The pre-commit hooks (``.pre-commit-hooks.yaml``) run by pre-commit itself in a scratch git
repository holding a copy of the example fleet and the chart.

How: the hooks are taken from ``.pre-commit-hooks.yaml`` as they are (entry, files, types,
pass_filenames) and put in a ``repo: local`` config with ``language: system``, so pre-commit runs
them with the ``rayfleet`` on PATH (this checkout) instead of building a virtualenv and
pip-installing the repository: no network, a few seconds. What ``language: python`` adds (pip
installing this repository at a tag) is covered by ``test_hooks_install_from_the_repository``,
which needs PyPI and runs only with RAYFLEET_TEST_PRECOMMIT_INSTALL=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rayfleet
import yaml

from .cikit import Run, break_eastus2, copy_example_fleet, load
from .conftest import CI, REPO

HOOKS = REPO / ".pre-commit-hooks.yaml"
EXAMPLE_CONFIG = CI / "pre-commit" / "example-config.yaml"
FLEET = "examples/fleet.yaml"


def _pre_commit(*args: str, cwd: Path, path: str, home: Path) -> Run:
    env = {
        "PATH": path, "HOME": str(home), "PRE_COMMIT_HOME": str(home / "pre-commit"), "PRE_COMMIT_COLOR": "never",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _hook_args(crds: Path) -> dict[str, list[str]]:
    return {"rayfleet-validate": [FLEET, "--crds", str(crds)],
            "rayfleet-scan": ["rendered/eastus2", "--crds", str(crds), "--fleet", FLEET]}


def _local_config(crds: Path) -> dict[str, Any]:
    """The published hooks as a ``repo: local`` config run with the rayfleet on PATH."""
    hooks = [{**hook, "language": "system", "args": _hook_args(crds)[hook["id"]]} for hook in load(HOOKS)]
    return {"repos": [{"repo": "local", "hooks": hooks}]}


@pytest.fixture(scope="module")
def fleet_repo(tmp_path_factory: pytest.TempPathFactory, crds: Path, rayfleet_path: str) -> Path:
    """A committed git repository: the example fleet, the chart, eastus2 rendered under rendered/,
    and the local hook config. Each test changes and stages files, then resets."""
    root = tmp_path_factory.mktemp("fleet-repo")
    copy_example_fleet(root)
    subprocess.run(["rayfleet", "render", FLEET, "--region", "eastus2", "--out", "rendered/eastus2"], cwd=root,
                   env={**os.environ, "PATH": rayfleet_path}, check=True, capture_output=True, timeout=120)
    (root / "README.md").write_text("# my fleet\n")
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(_local_config(crds), sort_keys=False))
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-q", "-m", "fleet", cwd=root)
    return root


@pytest.fixture
def repo(fleet_repo: Path) -> Iterator[Path]:
    yield fleet_repo
    _git("reset", "-q", "--hard", cwd=fleet_repo)


def _run_staged(repo: Path, path: str, home: Path) -> Run:
    _git("add", "-A", cwd=repo)
    return _pre_commit("run", cwd=repo, path=path, home=home)


def _status(output: str, hook_name: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith(hook_name + "."))
    return line.rsplit(".", 1)[1].split(")")[-1].strip()


def test_manifest_and_example_config_are_valid(tmp_path, rayfleet_path):
    run = _pre_commit("validate-manifest", str(HOOKS), cwd=REPO, path=rayfleet_path, home=tmp_path)
    assert run.code == 0, run.output
    run = _pre_commit("validate-config", str(EXAMPLE_CONFIG), cwd=REPO, path=rayfleet_path, home=tmp_path)
    assert run.code == 0, run.output


def test_hook_definitions():
    hooks = {hook["id"]: hook for hook in load(HOOKS)}
    assert set(hooks) == {"rayfleet-validate", "rayfleet-scan"}
    validate, scan = hooks["rayfleet-validate"], hooks["rayfleet-scan"]
    assert (validate["entry"], validate["language"], validate["pass_filenames"]) == ("rayfleet validate", "python",
                                                                                     False)
    assert (scan["entry"], scan["language"], scan["pass_filenames"], scan["types"]) == ("rayfleet scan", "python",
                                                                                       False, ["yaml"])
    # one run over the whole release, never batches of file names in parallel
    assert validate["require_serial"] is True and scan["require_serial"] is True


def test_example_config_uses_the_published_hooks_pinned_to_a_commit():
    repos = load(EXAMPLE_CONFIG)["repos"]
    # no release tag exists yet: the example pins a commit, never v<version>
    assert len(repos) == 1 and repos[0]["rev"] != f"v{rayfleet.__version__}" and "sha" in repos[0]["rev"]
    assert {hook["id"] for hook in repos[0]["hooks"]} == {hook["id"] for hook in load(HOOKS)}
    scans = [hook for hook in repos[0]["hooks"] if hook["id"] == "rayfleet-scan"]
    for hook in scans:  # each scan entry checks the folder its files: pattern matches
        assert hook["files"] == f"^{hook['args'][0]}/"


def test_a_good_values_change_passes(repo, rayfleet_path, tmp_path):
    values = repo / "examples" / "values" / "regions" / "swedencentral.yaml"
    values.write_text(values.read_text().replace("maxReplicas: 6", "maxReplicas: 5"))
    run = _run_staged(repo, rayfleet_path, tmp_path)
    assert run.code == 0, run.output
    assert _status(run.output, "rayfleet validate") == "Passed"
    assert _status(run.output, "rayfleet scan") == "Skipped"


def test_a_broken_values_change_fails_naming_the_region_and_the_policy(repo, rayfleet_path, tmp_path):
    break_eastus2(repo)
    run = _run_staged(repo, rayfleet_path, tmp_path)
    assert run.code == 1, run.output
    assert _status(run.output, "rayfleet validate") == "Failed"
    assert "- exit code: 1" in run.output
    region_block = run.output.split("\neastus2\n", 1)[1]
    assert region_block.lstrip().startswith("error   values-schema")
    assert "maxReplicas" in region_block and "examples/values/regions/eastus2.yaml" in region_block


def test_a_chart_change_runs_validate(repo, rayfleet_path, tmp_path):
    values = repo / "charts" / "ray-aks" / "charts" / "ray-cluster" / "values.yaml"
    values.write_text(values.read_text().replace("  cpu: 500m\n", '  cpu: "half"\n'))
    run = _run_staged(repo, rayfleet_path, tmp_path)
    assert _status(run.output, "rayfleet validate") == "Failed", run.output


def test_other_files_do_not_run_the_hooks(repo, rayfleet_path, tmp_path):
    (repo / "README.md").write_text("# my fleet, documented\n")
    run = _run_staged(repo, rayfleet_path, tmp_path)
    assert run.code == 0, run.output
    assert _status(run.output, "rayfleet validate") == "Skipped"
    assert _status(run.output, "rayfleet scan") == "Skipped"


def test_scan_checks_the_rendered_manifests_that_changed(repo, rayfleet_path, tmp_path):
    manifest = repo / "rendered" / "eastus2" / "ray--serviceaccount--ray.yaml"
    manifest.write_text(manifest.read_text() + 'automountServiceAccountToken: "yes"\n')
    run = _run_staged(repo, rayfleet_path, tmp_path)
    assert run.code == 1, run.output
    assert _status(run.output, "rayfleet validate") == "Skipped"
    assert _status(run.output, "rayfleet scan") == "Failed"
    assert "kubernetes-schema" in run.output and "automountServiceAccountToken" in run.output
    assert "rendered/eastus2/ray--serviceaccount--ray.yaml" in run.output


def _published_copy(target: Path) -> str:
    """This checkout (committed or not) as a git repository pre-commit can clone; its HEAD."""
    ignore = shutil.ignore_patterns(".git", ".venv", "node_modules", ".pytest_cache", ".ruff_cache", "__pycache__",
                                    "*.egg-info", "*.tgz")
    shutil.copytree(REPO, target, ignore=ignore)
    _git("init", "-q", cwd=target)
    _git("add", "-A", cwd=target)
    _git("commit", "-q", "-m", "snapshot", cwd=target)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=target, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not os.environ.get("RAYFLEET_TEST_PRECOMMIT_INSTALL"),
                    reason="pip-installs this repository from PyPI dependencies; set RAYFLEET_TEST_PRECOMMIT_INSTALL=1")
def test_hooks_install_from_the_repository(repo, crds, tmp_path):
    """A user's config as in ci/pre-commit/example-config.yaml, pointing at this checkout:
    pre-commit builds the hook's virtualenv and pip-installs rayfleet (``language: python``)."""
    rev = _published_copy(tmp_path / "rayfleet")
    hooks = [{"id": hook_id, "args": args} for hook_id, args in _hook_args(crds).items()]
    config = {"repos": [{"repo": str(tmp_path / "rayfleet"), "rev": rev, "hooks": hooks}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    break_eastus2(repo)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "rayfleet").exists())
    run = _run_staged(repo, path, tmp_path)
    assert run.code == 1, run.output
    assert _status(run.output, "rayfleet validate") == "Failed"
    assert "values-schema" in run.output and "eastus2" in run.output
