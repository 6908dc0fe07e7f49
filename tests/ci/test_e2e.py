"""The kind end-to-end files: ci/e2e/values-kind.yaml renders what run.sh expects, the e2e fleet
passes rayfleet with only its documented waivers, and run.sh's control flow (tool checks, install,
readiness wait, job check, cleanup) works, driven by stub tools since there is no Docker here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import render_fleet

from .cikit import load
from .conftest import CI, REPO

E2E = CI / "e2e"
FLEET = E2E / "fleet.yaml"
RUN_SH = E2E / "run.sh"
# The waivers ci/e2e/fleet.yaml documents, and why they are acceptable there.
DOCUMENTED_WAIVERS = {"failover-peers-exist"}  # one region: nothing to fail over to
ADMISSION_KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    """The kind region's rendered objects by kind (ServiceAccounts by ``ServiceAccount/<name>``:
    the head and the workers have one each)."""
    rendered = render_fleet(load_fleet(FLEET), ["kind"])["kind"]
    assert rendered.findings == []
    by_kind: dict[str, dict[str, Any]] = {}
    for obj in rendered.release.objects:
        if obj.kind in ADMISSION_KINDS:
            continue  # one per policy; see test_kind_installs_the_admission_policies_in_warn_mode
        key = f"ServiceAccount/{obj.name}" if obj.kind == "ServiceAccount" else obj.kind
        assert key not in by_kind, f"two {key} objects"
        by_kind[key] = obj.body
    return by_kind


def _run_sh_setting(name: str) -> str:
    match = re.search(rf'^{name}="([^"$]+)"$', RUN_SH.read_text(), re.MULTILINE)
    assert match, f"{name}= not found in run.sh"
    return match.group(1)


def test_kind_values_render_the_ray_cluster_and_identity_only(objects):
    # The operator comes with `helm dependency build` (run.sh), which the embedded engine does not need.
    assert set(objects) == {"RayCluster", "ServiceAccount/ray", "ServiceAccount/ray-worker"}


def test_kind_installs_the_admission_policies_in_warn_mode():
    rendered = render_fleet(load_fleet(FLEET), ["kind"])["kind"]
    bindings = [o.body for o in rendered.release.objects if o.kind == "ValidatingAdmissionPolicyBinding"]
    assert bindings and all(b["spec"]["validationActions"] == ["Warn", "Audit"] for b in bindings)


def test_workers_are_cpu_only_and_fit_a_kind_node(objects):
    spec = objects["RayCluster"]["spec"]
    pods = [spec["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in spec["workerGroupSpecs"]]
    for pod in pods:
        for container in pod["containers"]:
            assert "nvidia.com/gpu" not in container["resources"]["limits"]
            assert not container["image"].endswith("-gpu")
        assert "tolerations" not in pod
    (group,) = spec["workerGroupSpecs"]
    assert group["minReplicas"] >= 1  # run.sh expects the head and one worker alive
    assert group["template"]["spec"]["nodeSelector"] == {"node.kubernetes.io/instance-type": _run_sh_setting("VM_SIZE")}


def test_identity_is_annotated_with_dummy_guids(objects):
    for name in ("ray", "ray-worker"):
        annotations = objects[f"ServiceAccount/{name}"]["metadata"]["annotations"]
        assert annotations["azure.workload.identity/client-id"] == "00000000-0000-4000-8000-000000000002"
    labels = objects["RayCluster"]["spec"]["headGroupSpec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"


def test_data_volume_is_the_claim_run_sh_creates(objects):
    head = objects["RayCluster"]["spec"]["headGroupSpec"]["template"]["spec"]
    claim = next(v["persistentVolumeClaim"]["claimName"] for v in head["volumes"] if "persistentVolumeClaim" in v)
    text = RUN_SH.read_text()
    manifest = text[text.index("<<YAML\n") + 7:text.index("\nYAML\n")].replace("$NAMESPACE", "ray")
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(manifest)}
    assert documents["PersistentVolumeClaim"]["metadata"]["name"] == claim
    assert documents["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]
    assert documents["PersistentVolume"]["spec"]["claimRef"] == {"namespace": "ray", "name": claim}


def test_kind_values_turn_off_what_needs_azure():
    values = load(E2E / "values-kind.yaml")
    assert values["blob-storage"]["enabled"] is False
    assert values["tests"]["blobAccess"]["enabled"] is False
    assert values["kuberay-operator"]["enabled"] is True


def test_e2e_fleet_passes_with_only_its_documented_waivers(crds, monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["validate", "ci/e2e/fleet.yaml", "--crds", str(crds), "--fail-on", "warning",
                                       "--report", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)["findings"]
    assert {f["policy"] for f in findings if f["suppressed"]} == DOCUMENTED_WAIVERS
    assert {w["policy"] for w in load(FLEET)["waivers"]} == DOCUMENTED_WAIVERS


# --- run.sh ----------------------------------------------------------------------------------

STUB = textwrap.dedent("""\
    #!/bin/sh
    # A stand-in for docker, kind, kubectl and helm: log the call, answer what run.sh asks.
    tool=$(basename "$0")
    echo "$tool $*" >> "$STUB_LOG"
    case "$tool $*" in
      "docker info") exit "${STUB_DOCKER_INFO:-0}" ;;
      "kind get clusters") printf '%s\\n' $STUB_CLUSTERS ;;
      kubectl*" apply -f -") cat >> "$STUB_LOG.applied" ;;
      kubectl*"get rayclusters"*) printf 'ray-ray-cluster' ;;
      kubectl*"get pods"*) printf 'ray-ray-cluster-head-x7k2p' ;;
      kubectl*" exec "*) printf '%s\\n' "$STUB_JOB_OUTPUT" ;;
    esac
    exit 0
    """)
JOB_OUTPUT = textwrap.dedent("""\
    Job submission server address: http://127.0.0.1:8265
    rayfleet-e2e resources: {'CPU': 2.0, 'memory': 3221225472.0, 'node:10.244.0.7': 1.0}
    rayfleet-e2e alive nodes: 2
    ------------------------------------------
    Job 'raysubmit_Qp3v' succeeded
    ------------------------------------------""")


def _tool_dir(tmp_path: Path, tools: tuple[str, ...]) -> Path:
    """A folder with the stubs named ``tools`` and the few coreutils run.sh needs (no kind etc.)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for util in ("dirname", "cat", "grep", "sed", "tail", "mkdir", "tee", "basename"):
        found = shutil.which(util)
        assert found, util
        (bin_dir / util).symlink_to(found)
    for tool in tools:
        (bin_dir / tool).write_text(STUB)
        (bin_dir / tool).chmod(0o755)
    return bin_dir


def _run_sh(tmp_path: Path, tools: tuple[str, ...] = ("docker", "kind", "kubectl", "helm"),
            **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "calls"
    log.touch()
    full_env = {"PATH": str(_tool_dir(tmp_path, tools)), "STUB_LOG": str(log), "STUB_JOB_OUTPUT": JOB_OUTPUT,
                "HOME": str(tmp_path), **env}
    bash = shutil.which("bash")
    assert bash
    proc = subprocess.run([bash, str(RUN_SH)], env=full_env, capture_output=True, text=True, timeout=60,
                          check=False)
    return proc, log.read_text().splitlines()


@pytest.mark.parametrize("missing", ["docker", "kind", "kubectl", "helm"])
def test_run_sh_names_the_missing_tool(tmp_path, missing):
    tools = tuple(t for t in ("docker", "kind", "kubectl", "helm") if t != missing)
    proc, calls = _run_sh(tmp_path, tools)
    assert proc.returncode == 2
    assert f"missing tool: {missing}" in proc.stderr
    assert calls == []


def test_run_sh_without_a_docker_engine(tmp_path):
    proc, calls = _run_sh(tmp_path, STUB_DOCKER_INFO="1")
    assert proc.returncode == 2
    assert "missing tool: a running docker engine" in proc.stderr
    assert calls == ["docker info"]


def test_run_sh_without_kind_on_the_real_path(tmp_path):
    """The PATH of this machine minus any folder that has kind: run.sh stops before doing anything."""
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "kind").exists())
    proc = subprocess.run(["bash", str(RUN_SH)], env={"PATH": path, "HOME": str(tmp_path)}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert re.search(r"missing tool: (kind|docker)\b", proc.stderr), proc.stderr


def test_run_sh_installs_waits_submits_and_deletes_the_cluster(tmp_path):
    proc, calls = _run_sh(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed: RayCluster ray-ray-cluster is ready and ran a job on 2 nodes" in proc.stderr
    context = "--context kind-rayfleet-e2e"
    steps = [
        "kind create cluster --name rayfleet-e2e --wait 120s",
        f"kubectl {context} label nodes --all --overwrite node.kubernetes.io/instance-type=Standard_D4ds_v5",
        "helm repo add kuberay https://ray-project.github.io/kuberay-helm/ --force-update",
        f"helm dependency build {REPO}/charts/ray-aks",
        f"helm upgrade --install ray {REPO}/charts/ray-aks --kube-context kind-rayfleet-e2e --namespace ray "
        f"--values {REPO}/ci/e2e/values-kind.yaml --wait --timeout 900s",
        f"kubectl {context} --namespace ray wait raycluster/ray-ray-cluster --for=jsonpath={{.status.state}}=ready "
        "--timeout 900s",
        f"kubectl {context} --namespace ray exec ray-ray-cluster-head-x7k2p -c ray-head -- ray job submit "
        "--address http://127.0.0.1:8265 -- python -c import ray; ray.init(); ",
        "kind delete cluster --name rayfleet-e2e",
    ]
    positions = [next(i for i, call in enumerate(calls) if call.startswith(step)) for step in steps]
    assert positions == sorted(positions)
    applied = list(yaml.safe_load_all((tmp_path / "calls.applied").read_text()))
    assert [doc["kind"] for doc in applied if doc] == ["PersistentVolume", "PersistentVolumeClaim"]


def test_run_sh_keeps_the_cluster_when_asked(tmp_path):
    proc, calls = _run_sh(tmp_path, KEEP_CLUSTER="1")
    assert proc.returncode == 0, proc.stderr
    assert not any(call.startswith("kind delete") for call in calls)
    assert "keeping kind cluster rayfleet-e2e" in proc.stderr


def test_run_sh_reuses_an_existing_cluster_and_leaves_it(tmp_path):
    proc, calls = _run_sh(tmp_path, STUB_CLUSTERS="other rayfleet-e2e")
    assert proc.returncode == 0, proc.stderr
    assert not any(call.startswith(("kind create", "kind delete")) for call in calls)


def test_run_sh_fails_when_the_job_misses_the_worker_and_still_cleans_up(tmp_path):
    proc, calls = _run_sh(tmp_path, STUB_JOB_OUTPUT=JOB_OUTPUT.replace("alive nodes: 2", "alive nodes: 1"),
                          ARTIFACTS_DIR=str(tmp_path / "artifacts"))
    assert proc.returncode == 1
    assert "expected the head and one worker alive, the job saw 1 nodes" in proc.stderr
    assert any(" describe raycluster" in call for call in calls)  # diagnostics
    assert (tmp_path / "artifacts" / "diagnostics.txt").exists()
    assert calls[-1] == "kind delete cluster --name rayfleet-e2e"
