"""The release as it ships: the example fleet with the real upstream charts in place.

``helm dependency build`` puts the pinned kuberay-operator (and kueue, once the umbrella declares
it) into ``charts/ray-aks/charts/``. Here the packaged charts from ``../shared/charts`` are unpacked
into a temporary copy of the repository's charts and examples (never into the repository), and the
example fleet must pass ``rayfleet validate`` with every upstream object checked by every policy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.pipeline import validate_fleet

from tests.support.upstream import ship

from .chartkit import fold, region_layers


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> tuple[Path, dict[str, Path]]:
    """A copy of charts/ and examples/ with the declared upstream charts unpacked."""
    root = tmp_path_factory.mktemp("shipped")
    upstream = ship(root, shared_dir)
    if "kuberay-operator" not in upstream:
        pytest.fail("../shared/charts/kuberay-operator-1.7.0.tgz is missing")
    return root, upstream


def test_example_fleet_passes_with_the_upstream_charts(shipped, shared_dir):
    root, upstream = shipped
    result = validate_fleet(root / "examples" / "fleet.yaml", crds=shared_dir / "crds" / "kuberay")
    errors = [f for f in result.findings if f.counts and f.severity.value == "error"]
    assert errors == []
    for region, release in result.releases.items():
        assert release.values is not None
        templates = {o.template or "" for o in release.objects}
        merged = release.values.merged
        for name in upstream:  # an enabled upstream chart's objects are in the release (and checked)
            enabled = (merged.get(name) or {}).get("enabled", True) is not False
            present = any(f"ray-aks/charts/{name}/templates/" in t for t in templates)
            assert present == enabled, (region, name)
        kinds = {(o.kind, o.name) for o in release.objects}
        assert ("Deployment", "kuberay-operator") in kinds and ("Role", "kuberay-operator") in kinds
    # The operator's objects went through the policies: its Role's broad grants are found (and
    # waived in the example with a reason), its image is on the allowlist.
    operator_rbac = [f for f in result.findings if f.policy == "rbac-broad-namespaced"
                     and f.obj is not None and f.obj.name == "kuberay-operator"]
    assert {f.region for f in operator_rbac} == set(result.releases) and all(not f.counts for f in operator_rbac)
    assert not [f for f in result.findings if f.policy == "image-registry-allowed"]


def test_operator_image_outside_the_allowlist_fails(shipped, shared_dir):
    root, _ = shipped
    fleet = root / "examples" / "fleet.yaml"
    original = fleet.read_text()
    try:
        assert original.count(", quay.io/kuberay,") == 1
        fleet.write_text(original.replace(", quay.io/kuberay,", ","))
        outcome = CliRunner().invoke(main, ["validate", str(fleet), "--crds", str(shared_dir / "crds" / "kuberay"),
                                            "--region", "eastus2"])
    finally:
        fleet.write_text(original)
    assert outcome.exit_code == 1
    assert "quay.io/kuberay/operator:v1.7.0" in outcome.output and "image-registry-allowed" in outcome.output


def test_cli_exit_code_is_zero(shipped, shared_dir):
    root, _ = shipped
    outcome = CliRunner().invoke(main, ["validate", str(root / "examples" / "fleet.yaml"),
                                        "--crds", str(shared_dir / "crds" / "kuberay")])
    assert outcome.exit_code == 0, outcome.output
    assert "PASSED" in outcome.output


def test_notes_print_the_operator_version_of_the_built_dependency(shipped):
    import helm_python

    root, _ = shipped
    operator = root / "charts" / "ray-aks" / "charts" / "kuberay-operator" / "Chart.yaml"
    original = operator.read_text()
    try:  # a version only the unpacked chart says: NOTES must read it, not a typed 1.7.0
        operator.write_text(original.replace("version: 1.7.0", "version: 1.7.0-rc.9"))
        chart = helm_python.Chart.load(root / "charts" / "ray-aks")
        manifests = chart.render(fold(region_layers("eastus2")), name="ray", namespace="ray")
    finally:
        operator.write_text(original)
    notes = next(text for path, text in manifests.items() if path.endswith("NOTES.txt"))
    assert "chart kuberay-operator 1.7.0-rc.9" in notes
