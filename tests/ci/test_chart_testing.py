"""ci/ct.yaml (chart-testing) and the install scenarios it runs (charts/ray-aks/ci/*-values.yaml):
the config points at real charts and repositories, and every scenario passes rayfleet's release
policies (helm lint of each scenario is in tests/charts/test_chart_lint.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rayfleet import validate_fleet
from rayfleet.findings import Severity
from rayfleet.policies import Scope, get_policy

from .cikit import load
from .conftest import CI, REPO

CT = CI / "ct.yaml"
SCENARIOS = sorted((REPO / "charts" / "ray-aks" / "ci").glob("*-values.yaml"))
# chart-testing v3's configuration keys: its command-line flags (doc/ct_lint-and-install.md).
CT_KEYS = {
    "additional-commands", "all", "build-id", "chart-dirs", "chart-repos", "chart-yaml-schema", "charts",
    "check-version-increment", "debug", "exclude-deprecated", "excluded-charts", "github-groups",
    "helm-dependency-extra-args", "helm-extra-args", "helm-extra-set-args", "helm-lint-extra-args",
    "helm-repo-extra-args", "lint-conf", "namespace", "print-config", "release-label", "release-name", "remote",
    "since", "skip-clean-up", "skip-helm-dependencies", "skip-missing-values", "target-branch", "upgrade",
    "use-helmignore", "validate-chart-schema", "validate-maintainers", "validate-yaml",
}


def test_ct_config_keys_and_settings():
    config = load(CT)
    assert set(config) <= CT_KEYS
    assert config["chart-dirs"] == ["charts"]
    assert config["target-branch"] == "main"
    assert config["helm-extra-args"] == "--timeout 600s"
    assert config["check-version-increment"] is True
    assert config["validate-maintainers"] is False


def test_chart_dirs_hold_charts_and_their_remote_repositories_are_listed():
    config = load(CT)
    charts = [chart for folder in config["chart-dirs"] for chart in (REPO / folder).iterdir() if chart.is_dir()]
    assert [c.name for c in charts] == ["ray-aks"]
    repos = {entry.split("=", 1)[1] for entry in config["chart-repos"]}
    for chart in charts:
        remote = {d["repository"] for d in load(chart / "Chart.yaml")["dependencies"]
                  if d.get("repository", "").startswith("https://")}
        assert remote <= repos


def test_scenarios_exist():
    assert {path.name for path in SCENARIOS} >= {
        "01-eastus2-values.yaml", "02-static-storage-values.yaml", "03-operator-disabled-values.yaml"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_scenario_passes_the_release_policies(scenario: Path, tmp_path, crds):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({
        "apiVersion": "rayfleet.dev/v1", "chart": str(REPO / "charts" / "ray-aks"),
        "release": {"name": "ray", "namespace": "ray"},
        "regions": [{"name": "scenario", "location": "eastus2",
                     "cluster": {"name": "ct", "kubernetesVersion": "1.33"}, "valuesFiles": [str(scenario)]}],
    }))
    result = validate_fleet(str(fleet), crds=str(crds))
    assert result.regions[0].objects > 0
    # A one-region fleet made up for the test: the fleet-wide policies (failover peers...) do not apply.
    errors = [f"{f.policy}: {f.message}" for f in result.counting()
              if f.severity is Severity.ERROR and get_policy(f.policy).scope is not Scope.FLEET]
    assert errors == []
