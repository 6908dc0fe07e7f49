"""The pyhelm3 deploy step against a stand-in ``helm`` executable (no helm on the test machines):
it answers ``version`` and ``upgrade --install ... --output json`` as helm does, so rayfleet's
parsing of helm's JSON, its errors and its non-JSON output all run. Nothing is patched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.cli.rollout import rollout
from rayfleet.helm_args import DEFAULT_TIMEOUT
from rayfleet.rollout import PyHelm3Deployer, plan_region

from tests.kube.conftest import REPO, example, releases  # noqa: F401  (fixtures)

STAND_IN = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "version":
    sys.stdout.write({version!r})
    sys.exit(0)
mode = {mode!r}
if mode == "json":
    sys.stdout.write('WARNING: kubeconfig is group-readable\\n')
    sys.stdout.write(json.dumps({{"name": "ray", "version": 7, "info": {{"status": "deployed",
                      "description": "Upgrade   complete\\n"}}}}))
elif mode == "plain":
    sys.stdout.write("Release upgraded\\n")
else:
    sys.stderr.write("Error: UPGRADE FAILED: context deadline exceeded\\n" + "x" * 600)
    sys.exit(1)
"""


def stand_in(tmp_path: Path, mode: str, version: str = "v3.16.2") -> tuple[str, Path]:
    log = tmp_path / f"helm-{mode}.jsonl"
    helm = tmp_path / f"helm-{mode}"
    helm.write_text(STAND_IN.format(python=sys.executable, log=str(log), mode=mode, version=version))
    helm.chmod(0o755)
    return str(helm), log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_helm_json_output_is_parsed(example, releases, tmp_path):  # noqa: F811
    helm, log = stand_in(tmp_path, "json")
    deployer = PyHelm3Deployer(helm, kubeconfig=str(tmp_path / "kc"))
    assert deployer.helm4 is False and deployer.version.major == 3
    plan = plan_region(example, example.region("eastus2"), releases["eastus2"], timeout=5)
    outcome = deployer.upgrade_install(plan)
    assert (outcome.ok, outcome.revision, outcome.status, outcome.message) == (True, 7, "deployed",
                                                                              "Upgrade complete")
    assert outcome.command[0] == helm and outcome.command == plan.command(helm=helm, helm4=False)
    call = _calls(log)[-1]
    assert call[:3] == ["upgrade", "--install", "ray"]
    assert call[call.index("--output") + 1] == "json" and call[call.index("--timeout") + 1] == "5s"
    assert call[call.index("--kube-context") + 1] == "rayfleet-eus2"
    assert call[call.index("--kubeconfig") + 1] == str(tmp_path / "kc")


def test_helm_output_that_is_not_json_still_succeeds(example, releases, tmp_path):  # noqa: F811
    helm, _ = stand_in(tmp_path, "plain")
    outcome = PyHelm3Deployer(helm).upgrade_install(plan_region(example, example.region("eastus2"),
                                                                releases["eastus2"]))
    assert outcome.ok and outcome.message == "helm succeeded (its output was not JSON)"
    assert outcome.revision is None and outcome.status is None


def test_helm_failure_is_one_line_of_at_most_500_characters(example, releases, tmp_path):  # noqa: F811
    helm, _ = stand_in(tmp_path, "fail")
    outcome = PyHelm3Deployer(helm).upgrade_install(plan_region(example, example.region("westus3"),
                                                                releases["westus3"]))
    assert not outcome.ok and outcome.message.startswith("Error: UPGRADE FAILED: context deadline exceeded x")
    assert len(outcome.message) == 500 and "\n" not in outcome.message


def test_helm_4_is_recognised(tmp_path):
    helm, _ = stand_in(tmp_path, "json", version="v4.0.1")
    assert PyHelm3Deployer(helm).helm4 is True


def test_a_binary_that_is_not_helm_is_a_clear_error(tmp_path):
    from rayfleet.errors import EngineError

    helm, _ = stand_in(tmp_path, "json", version="not a version")
    with pytest.raises(EngineError, match="cannot read the Helm version"):
        PyHelm3Deployer(helm)


def test_default_timeout_is_600_seconds(example, releases):  # noqa: F811
    assert DEFAULT_TIMEOUT == 600
    plan = plan_region(example, example.region("eastus2"), releases["eastus2"])
    args = plan.helm_args(helm4=False)
    assert args[args.index("--timeout") + 1] == "600s" and "--wait" in args and "--atomic" in args
    result = CliRunner().invoke(rollout, [str(REPO / "examples" / "fleet.yaml"), "--dry-run", "--no-color"])
    assert result.exit_code == 0, result.output
    helm_lines = [line for line in result.stdout.splitlines() if line.startswith("helm upgrade")]
    assert len(helm_lines) == 4 and all("--timeout 600s" in line for line in helm_lines)
