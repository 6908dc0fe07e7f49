"""The published hooks through ``pre-commit try-repo`` on a scratch repository, with partial
commits: only some files staged, others changed but not staged.

try-repo takes a hook repository and runs its hooks (as listed in its .pre-commit-hooks.yaml) on
the staged files. The hook repository here is a scratch git repository holding this checkout's
.pre-commit-hooks.yaml with two changes a user's config would make: ``language: system`` (run the
``rayfleet`` on PATH instead of pip-installing this repository into a virtualenv: no network, a few
seconds) and the ``args`` (and, for a chart kept elsewhere, ``files``) that docs/ci.md shows.
Everything else (entry, pass_filenames, require_serial, types, files) is the published hook's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .cikit import copy_example_fleet, load
from .conftest import REPO
from .test_pre_commit import _git, _pre_commit, _status

FLEET = "examples/fleet.yaml"


def _hooks_repo(target: Path, overrides: dict[str, dict[str, Any]]) -> Path:
    hooks = [{**hook, "language": "system", **overrides.get(hook["id"], {})}
             for hook in load(REPO / ".pre-commit-hooks.yaml")]
    target.mkdir()
    (target / ".pre-commit-hooks.yaml").write_text(yaml.safe_dump(hooks, sort_keys=False))
    _git("init", "-q", cwd=target)
    _git("add", "-A", cwd=target)
    _git("commit", "-q", "-m", "hooks", cwd=target)
    return target


def _try_repo(hooks: Path, hook_id: str, *, cwd: Path, path: str, home: Path):
    return _pre_commit("try-repo", str(hooks), hook_id, cwd=cwd, path=path, home=home)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, crds: Path, rayfleet_path: str) -> Path:
    """A user's repository: the example fleet, the chart, eastus2 rendered under rendered/."""
    root = tmp_path_factory.mktemp("user-repo")
    copy_example_fleet(root)
    subprocess.run(["rayfleet", "render", FLEET, "--region", "eastus2", "--out", "rendered/eastus2"], cwd=root,
                   env={**os.environ, "PATH": rayfleet_path}, check=True, capture_output=True, timeout=120)
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-q", "-m", "fleet", cwd=root)
    return root


@pytest.fixture
def repo(scratch: Path) -> Path:
    yield scratch
    _git("reset", "-q", "--hard", cwd=scratch)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory, crds: Path) -> Path:
    return _hooks_repo(tmp_path_factory.mktemp("hooks") / "rayfleet", {
        "rayfleet-validate": {"args": [FLEET, "--crds", str(crds)]},
        "rayfleet-scan": {"args": ["rendered/eastus2", "--crds", str(crds), "--fleet", FLEET]},
    })


RAYCLUSTER = "rendered/eastus2/ray--raycluster--ray-ray-cluster.yaml"
SERVICE_ACCOUNT = "rendered/eastus2/ray--serviceaccount--ray.yaml"


def test_scan_on_a_partial_commit_sees_the_whole_release(repo, hooks, rayfleet_path, tmp_path, crds):
    """Only the RayCluster is staged: its ServiceAccount is in another file, committed earlier."""
    cluster = repo / RAYCLUSTER
    cluster.write_text(cluster.read_text().replace("maxReplicas: 8", "maxReplicas: 7", 1))
    assert "maxReplicas: 7" in cluster.read_text()
    _git("add", RAYCLUSTER, cwd=repo)
    # an unstaged change the commit will not hold: pre-commit stashes it, the hook must not see it
    account = repo / SERVICE_ACCOUNT
    broken = account.read_text() + 'automountServiceAccountToken: "yes"\n'
    account.write_text(broken)

    run = _try_repo(hooks, "rayfleet-scan", cwd=repo, path=rayfleet_path, home=tmp_path)
    assert run.code == 0, run.output
    assert _status(run.output, "rayfleet scan") == "Passed"
    assert account.read_text() == broken  # pre-commit put the unstaged change back

    # what the hook used to do (the staged file names only) gives the false error
    only_staged = subprocess.run(["rayfleet", "scan", RAYCLUSTER, "--fleet", FLEET, "--crds", str(crds)], cwd=repo,
                                 env={**os.environ, "PATH": rayfleet_path}, capture_output=True, text=True,
                                 timeout=120, check=False)
    assert only_staged.returncode == 1 and "workload-identity-service-account" in only_staged.stdout


def test_scan_fails_on_a_staged_broken_manifest(repo, hooks, rayfleet_path, tmp_path):
    account = repo / SERVICE_ACCOUNT
    account.write_text(account.read_text() + 'automountServiceAccountToken: "yes"\n')
    _git("add", SERVICE_ACCOUNT, cwd=repo)
    run = _try_repo(hooks, "rayfleet-scan", cwd=repo, path=rayfleet_path, home=tmp_path)
    assert run.code == 1, run.output
    assert _status(run.output, "rayfleet scan") == "Failed"
    assert "kubernetes-schema" in run.output and SERVICE_ACCOUNT in run.output


def test_validate_on_a_partial_commit_checks_what_is_staged(repo, hooks, rayfleet_path, tmp_path):
    good = repo / "examples" / "values" / "regions" / "swedencentral.yaml"
    good.write_text(good.read_text().replace("maxReplicas: 6", "maxReplicas: 5"))
    _git("add", str(good.relative_to(repo)), cwd=repo)
    bad = repo / "examples" / "values" / "regions" / "eastus2.yaml"  # broken, not staged
    head, group, tail = bad.read_text().partition("    cpu:\n")
    bad.write_text(head + group + tail.replace("      maxReplicas: 4\n", '      maxReplicas: "lots"\n', 1))
    run = _try_repo(hooks, "rayfleet-validate", cwd=repo, path=rayfleet_path, home=tmp_path)
    assert run.code == 0, run.output
    assert _status(run.output, "rayfleet validate") == "Passed"
    _git("add", str(bad.relative_to(repo)), cwd=repo)
    run = _try_repo(hooks, "rayfleet-validate", cwd=repo, path=rayfleet_path, home=tmp_path)
    assert run.code == 1 and _status(run.output, "rayfleet validate") == "Failed", run.output
    assert "values-schema" in run.output


def test_validate_with_the_chart_kept_elsewhere(tmp_path, crds, rayfleet_path):
    """The layout docs/ci.md shows: platform/fleet.yaml, its values, and the chart under
    platform/helm/ray-aks; the hook's args name the fleet file and `files:` matches the folder."""
    root = tmp_path / "repo"
    (root / "platform" / "helm").mkdir(parents=True)
    shutil.copytree(REPO / "charts" / "ray-aks", root / "platform" / "helm" / "ray-aks",
                    ignore=shutil.ignore_patterns("*.tgz"))
    shutil.copytree(REPO / "examples" / "values", root / "platform" / "values")
    fleet = (REPO / FLEET).read_text().replace("chart: ../charts/ray-aks", "chart: helm/ray-aks")
    (root / "platform" / "fleet.yaml").write_text(fleet)
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-q", "-m", "fleet", cwd=root)
    hooks = _hooks_repo(tmp_path / "hooks", {"rayfleet-validate": {
        "args": ["platform/fleet.yaml", "--crds", str(crds)], "files": "^platform/"}})
    chart_values = root / "platform" / "helm" / "ray-aks" / "charts" / "ray-cluster" / "values.yaml"
    chart_values.write_text(chart_values.read_text().replace("  cpu: 500m\n", '  cpu: "half"\n'))
    _git("add", "-A", cwd=root)
    run = _try_repo(hooks, "rayfleet-validate", cwd=root, path=rayfleet_path, home=tmp_path)
    assert _status(run.output, "rayfleet validate") == "Failed", run.output
    assert "values-schema" in run.output
