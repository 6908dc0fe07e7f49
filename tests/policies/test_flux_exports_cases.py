"""flux-helmrelease-per-region and flux-values-parity on small committed Flux exports: a missing
export, HelmReleases of another API group, one with no namespace, and regions that did not render
or were not rendered from values files."""

from __future__ import annotations

from pathlib import Path

from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.policies.base import FleetView
from rayfleet.policies.flux_helmrelease_per_region import POLICY as PER_REGION  # flux-helmrelease-per-region
from rayfleet.policies.flux_values_parity import POLICY as PARITY  # flux-values-parity
from rayfleet.subjects import ReleaseObjects
from rayfleet.values import ValuesStack, load_values_file

FLEET = """\
apiVersion: rayfleet.dev/v1
chart: chart
release: {name: ray, namespace: ray}
delivery:
  source: {kind: OCIRepository, url: "oci://acr.azurecr.io/charts/ray-aks", ref: {tag: 0.1.0}, provider: azure}
  exports: {flux: gitops}
regions:
  - name: eastus2
    location: eastus2
    cluster: {name: aks-eastus2, kubernetesVersion: '1.33'}
    valuesFiles: []
  - name: westus3
    location: westus3
    cluster: {name: aks-westus3, kubernetesVersion: '1.33'}
    valuesFiles: []
"""


def helmrelease(name: str, namespace: str | None, api: str = "helm.toolkit.fluxcd.io/v2") -> str:
    meta = f"{{name: {name}, namespace: {namespace}}}" if namespace else f"{{name: {name}}}"
    return f"apiVersion: {api}\nkind: HelmRelease\nmetadata: {meta}\nspec: {{values: {{a: 1}}}}\n"


def fleet(tmp_path: Path, *docs: str, export: bool = True):
    (tmp_path / "chart").mkdir()
    (tmp_path / "fleet.yaml").write_text(FLEET)
    if export:
        (tmp_path / "gitops").mkdir()
        (tmp_path / "gitops" / "all.yaml").write_text("---\n".join(docs))
    return load_fleet(tmp_path / "fleet.yaml")


def messages(policy, view: FleetView):
    return [(v.message, v.path, v.region) for v in policy.check(view)]


def test_a_missing_flux_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths in messages are shown relative to the working directory
    view = FleetView(fleet(tmp_path, export=False), {})
    assert messages(PER_REGION, view) == [
        ("committed export gitops not found: run rayfleet export flux --out gitops", "delivery.exports.flux", None)]
    assert messages(PARITY, view) == []


def test_only_flux_helmreleases_count(tmp_path):
    view = FleetView(fleet(tmp_path, helmrelease("ray", "rayfleet-eastus2"),
                           helmrelease("ray", "rayfleet-westus3"),
                           helmrelease("other", "rayfleet-eastus2", api="helm.example.com/v1"),
                           "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmChart\n"
                           "metadata: {name: c, namespace: rayfleet-westus3}\n"), {})
    assert messages(PER_REGION, view) == []


def test_a_helmrelease_with_no_namespace_is_in_no_region(tmp_path):
    view = FleetView(fleet(tmp_path, helmrelease("ray", "rayfleet-eastus2"), helmrelease("ray", "rayfleet-westus3"),
                           helmrelease("stray", None), helmrelease("old", "rayfleet-centralus"),
                           helmrelease("misc", "tools")), {})
    assert messages(PER_REGION, view) == [
        ("HelmRelease stray is for namespace (none), which is not in the fleet", "", None),
        ("HelmRelease old is for region 'centralus', which is not in the fleet", "", None),
        ("HelmRelease misc is for namespace tools, which is not in the fleet", "", None)]


def test_values_parity_skips_regions_without_values(tmp_path):
    flux = fleet(tmp_path, helmrelease("ray", "rayfleet-eastus2"), helmrelease("ray", "rayfleet-westus3"))
    # eastus2 did not render; westus3 was rendered from manifests (no values stack)
    west = ReleaseObjects(objects=(), settings=PolicySettings(), kube_version="1.33")
    assert messages(PARITY, FleetView(flux, {"westus3": west})) == []


def test_values_parity_without_delivery(tmp_path):
    (tmp_path / "chart").mkdir()
    text = FLEET.replace(FLEET[FLEET.index("delivery:"):FLEET.index("regions:")], "")
    (tmp_path / "fleet.yaml").write_text(text)
    west = ReleaseObjects(objects=(), settings=PolicySettings(), kube_version="1.33")
    view = FleetView(load_fleet(tmp_path / "fleet.yaml"), {"westus3": west})
    assert messages(PARITY, view) == [] and messages(PER_REGION, view) == []


def test_values_parity_leaves_a_region_without_exactly_one_helmrelease_to_the_other_policy(tmp_path):
    flux = fleet(tmp_path, helmrelease("ray", "rayfleet-westus3"), helmrelease("again", "rayfleet-westus3"))
    (tmp_path / "v.yaml").write_text("a: 2\n")
    values = ValuesStack([load_values_file(tmp_path / "v.yaml", display="v.yaml")])
    rendered = {name: ReleaseObjects(objects=(), settings=PolicySettings(), kube_version="1.33", values=values)
                for name in ("eastus2", "westus3")}
    assert messages(PARITY, FleetView(flux, rendered)) == []  # none in eastus2, two in westus3


def test_values_parity_compares_the_one_helmrelease(tmp_path):
    flux = fleet(tmp_path, helmrelease("ray", "rayfleet-westus3"))
    (tmp_path / "v.yaml").write_text("a: 2\n")
    values = ValuesStack([load_values_file(tmp_path / "v.yaml", display="v.yaml")])
    west = ReleaseObjects(objects=(), settings=PolicySettings(), kube_version="1.33", values=values)
    assert messages(PARITY, FleetView(flux, {"westus3": west})) == [
        ("the values Flux will merge for HelmRelease ray differ from the values rayfleet validated at a",
         "spec.valuesFrom", "westus3")]
