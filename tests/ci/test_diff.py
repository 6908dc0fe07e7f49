"""``rayfleet diff``: a scratch git repository holding the example fleet and the chart is
committed, then changed (a replica count, a new region, a removed object) and compared with the
commit, through the CLI, with the user's working tree and .git left as they were."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rayfleet.diff import ABSENT, object_change
from rayfleet.findings import SourceLocation
from rayfleet.manifests import KubeObject

from ..core.helpers import run_cli, snapshot
from .cikit import copy_example_fleet

FLEET = "examples/fleet.yaml"
NEW_REGION = """
  - name: northeurope
    location: northeurope
    cluster:
      name: rayfleet-neu
      resourceGroup: rg-rayfleet-neu
      kubeContext: rayfleet-neu
      kubernetesVersion: "1.33"
      oidcIssuerUrl: https://northeurope.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/1d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b44/
    identities:
      - name: id-rayfleet-neu
        clientId: d5b7d9e1-2f4a-4b6c-9d8e-0f1a2b3c4d74
        resourceGroup: rg-rayfleet-neu
    storage: {account: rayfleetneudata, location: northeurope, resourceGroup: rg-rayfleet-neu}
    quota:
      families: {standardDDSv5Family: 50}
      regionalVCpus: 100
    valuesFiles: [values/regions/westus3.yaml]
    wave: 3
"""


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c",
                           "init.defaultBranch=main", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          timeout=60).stdout


@pytest.fixture(scope="module")
def changed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Committed example fleet, then: eastus2's CPU group maxReplicas 4 → 6, a new region
    northeurope, and westus3 without the blob-access test pod. Nothing staged."""
    root = tmp_path_factory.mktemp("diff-repo")
    copy_example_fleet(root)
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-q", "-m", "base", cwd=root)
    eastus2 = root / "examples" / "values" / "regions" / "eastus2.yaml"
    head, group, tail = eastus2.read_text().partition("    cpu:\n")
    assert "      maxReplicas: 4\n" in tail
    eastus2.write_text(head + group + tail.replace("      maxReplicas: 4\n", "      maxReplicas: 6\n", 1))
    fleet = root / FLEET
    text = fleet.read_text()
    assert text.count("\ndelivery:") == 1  # regions: is followed by delivery:
    fleet.write_text(text.replace("\ndelivery:", NEW_REGION + "\ndelivery:"))
    westus3 = root / "examples" / "values" / "regions" / "westus3.yaml"
    westus3.write_text(westus3.read_text() + "\ntests:\n  blobAccess:\n    enabled: false\n")
    return root


def _diff(root: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(root)
    result = run_cli("diff", FLEET, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _region(document: dict, name: str) -> dict:
    return next(r for r in document["regions"] if r["name"] == name)


def test_diff_against_a_commit(changed_repo: Path, monkeypatch: pytest.MonkeyPatch, crds: Path):
    before_files = snapshot(changed_repo)
    status = _git("status", "--porcelain", cwd=changed_repo)
    worktrees = _git("worktree", "list", cwd=changed_repo)
    document = _diff(changed_repo, "--base", "HEAD", "--crds", str(crds), monkeypatch=monkeypatch)

    eastus2 = _region(document, "eastus2")
    assert eastus2["status"] == "changed"
    [cluster] = eastus2["objects"]
    assert (cluster["kind"], cluster["status"]) == ("RayCluster", "changed")
    assert cluster["fields"] == [{"path": "spec.workerGroupSpecs[name=cpu].maxReplicas",
                                  "before": {"value": 4}, "after": {"value": 6}}]

    added = _region(document, "northeurope")
    assert added["status"] == "added" and added["objects"] == []

    westus3 = _region(document, "westus3")
    removed = [o for o in westus3["objects"] if o["status"] == "removed"]
    assert [(o["kind"], o["name"]) for o in removed] == [("Pod", "ray-test-blob-access")]
    # the removed pod's findings (image-pinned on its container) disappear with it
    assert {f["policy"] for f in westus3["fixedFindings"]} == {"image-pinned"}
    assert all(f["object"] == "Pod/ray/ray-test-blob-access" for f in westus3["fixedFindings"])
    assert _region(document, "swedencentral")["status"] == "unchanged"
    # findings of the new region are new
    assert added["newFindings"] and all(f["region"] == "northeurope" for f in added["newFindings"])

    # the user's tree, index and .git worktrees are as they were
    assert snapshot(changed_repo) == before_files
    assert _git("status", "--porcelain", cwd=changed_repo) == status
    assert _git("worktree", "list", cwd=changed_repo) == worktrees


def test_markdown_and_text(changed_repo: Path, monkeypatch: pytest.MonkeyPatch, crds: Path):
    monkeypatch.chdir(changed_repo)
    markdown = run_cli("diff", FLEET, "--base", "HEAD", "--crds", str(crds), "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert markdown.output.startswith("## rayfleet diff: `HEAD` → this change")
    assert "| eastus2 | changed | 0 | 0 | 1 | 0 | 0 |" in markdown.output
    assert "| northeurope | added |" in markdown.output
    assert "| `spec.workerGroupSpecs[name=cpu].maxReplicas` | `4` | `6` |" in markdown.output
    assert "- **removed** `Pod/ray/ray-test-blob-access`" in markdown.output
    assert "<summary><b>swedencentral</b>" not in markdown.output  # unchanged regions stay in the table only
    text = run_cli("diff", FLEET, "--base", "HEAD", "--crds", str(crds))
    assert "      spec.workerGroupSpecs[name=cpu].maxReplicas: 4 -> 6" in text.output
    assert "  - Pod/ray/ray-test-blob-access (removed)" in text.output


def test_base_dir_and_region_selection(changed_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       crds: Path):
    base = tmp_path / "base"
    copy_example_fleet(base)
    document = _diff(changed_repo, "--base-dir", str(base), "--region", "eastus2", "--region", "northeurope",
                     "--crds", str(crds), monkeypatch=monkeypatch)
    assert [(r["name"], r["status"]) for r in document["regions"]] == [("eastus2", "changed"),
                                                                       ("northeurope", "added")]


def test_unchanged_tree_reports_no_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crds: Path):
    copy_example_fleet(tmp_path)
    _git("init", "-q", cwd=tmp_path)
    _git("add", "-A", cwd=tmp_path)
    _git("commit", "-q", "-m", "base", cwd=tmp_path)
    document = _diff(tmp_path, "--base", "HEAD", "--crds", str(crds), monkeypatch=monkeypatch)
    assert document["changed"] is False
    assert {r["status"] for r in document["regions"]} == {"unchanged"}


@pytest.mark.parametrize("args, message", [
    (["--base", "no-such-ref"], "--base no-such-ref: not a commit in this repository"),
    ([], "give the base as --base GITREF or --base-dir DIR"),
    (["--base", "HEAD", "--base-dir", "."], "give the base as --base GITREF or --base-dir DIR"),
    (["--base-dir", "missing"], "--base-dir: folder not found"),
])
def test_bad_base_is_a_one_line_error(changed_repo: Path, monkeypatch: pytest.MonkeyPatch, args, message):
    monkeypatch.chdir(changed_repo)
    result = run_cli("diff", FLEET, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def _obj(body: dict) -> KubeObject:
    return KubeObject(body, SourceLocation("x.yaml", 1))


def test_secret_values_are_redacted():
    before = _obj({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "stringData": {"token": "first-very-secret-value"}})
    after = _obj({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                  "stringData": {"token": "second-very-secret-value"}})
    change = object_change(before, after)
    assert change is not None and [(c.before, c.after) for c in change.fields] == [("firs…", "seco…")]

    key = "A" * 86 + "=="  # shaped like a storage account key, in an env var of a pod
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "env": [{"name": "AZURE_STORAGE_KEY", "value": key}]}]}}
    plain = {**pod, "spec": {"containers": [{"name": "c", "env": []}]}}
    change = object_change(_obj(plain), _obj(pod))
    assert change is not None
    assert [(c.path, c.before, c.after) for c in change.fields] == [
        ("spec.containers[name=c].env[name=AZURE_STORAGE_KEY].name", ABSENT, "AZURE_STORAGE_KEY"),
        ("spec.containers[name=c].env[name=AZURE_STORAGE_KEY].value", ABSENT, "AAAA…")]
    assert key not in str(change)

    named = {**pod, "spec": {"containers": [{"name": "c", "env": [{"name": "AZURE_CLIENT_SECRET",
                                                                    "value": "plain-words-but-secret"}]}]}}
    change = object_change(_obj(plain), _obj(named))
    assert change is not None and [c.after for c in change.fields] == ["AZURE_CLIENT_SECRET", "plai…"]


def test_out_is_never_written_over_an_input(changed_repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(changed_repo)
    values = changed_repo / "examples" / "values" / "regions" / "eastus2.yaml"
    before = values.read_bytes()
    result = run_cli("diff", FLEET, "--base", "HEAD", "--out", str(values))
    assert result.exit_code == 2 and "input of this run" in result.output
    assert values.read_bytes() == before
