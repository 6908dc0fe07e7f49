"""ray-version-consistent on small fleets: exactly two versions (a pair of peers, and a region off the
common version with no peer), a head image whose tag names no Ray version, the version read from the
head image when ``rayVersion`` is absent, and every field of each finding including its value."""

from __future__ import annotations

from rayfleet.findings import ObjectRef, Severity
from rayfleet.policies import ray_version_consistent as policy

from .fleetcase import region, run_fleet


def ray(version: str | None, image: str = "rayproject/ray:2.52.0") -> str:
    declared = f"  rayVersion: '{version}'\n" if version else ""
    return ("apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: ray, namespace: ray}\nspec:\n" + declared +
            "  headGroupSpec:\n    rayStartParams: {}\n    template:\n      spec:\n"
            f"        containers: [{{name: ray-head, image: '{image}'}}]\n  workerGroupSpecs: []\n")


FILES = {"v51.yaml": ray("2.51.0"), "v52.yaml": ray("2.52.0"),
         "img53.yaml": ray(None, "rayproject/ray:2.53.0-py311"),
         # The offending version as a values file sets it: the finding points at that line.
         "v52.values.yaml": "ray-cluster:\n  rayVersion: '2.52.0'\n",
         "v53.values.yaml": "ray-cluster:\n  image: {tag: 2.53.0-py311}\n  version: '2.53.0'\n",
         "noversion.yaml": ray(None, "example.com/verl:ngc-th2.6.0")}
RAY = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray")


def fields(f) -> tuple:
    return (f.policy, f.region, f.obj, f.path, f.severity, f.message, f.source.file.rsplit("/", 1)[-1], f.source.line)


def test_two_peers_on_two_versions_is_one_error_with_every_field(tmp_path) -> None:
    findings = run_fleet(tmp_path, policy.POLICY, [
        region("westus3", "v52.yaml", failoverPeers=["eastus2"], valuesFiles=["v52.values.yaml"]),
        region("eastus2", "v51.yaml", failoverPeers=["westus3"])], FILES)
    assert [fields(f) for f in findings] == [
        ("ray-version-consistent", "westus3", RAY, "spec.rayVersion", Severity.ERROR,
         "region 'westus3' runs Ray 2.52.0 but its failover peer 'eastus2' runs Ray 2.51.0", "v52.values.yaml", 2)]


def test_a_region_off_the_common_version_without_a_differing_peer_is_a_warning(tmp_path) -> None:
    findings = run_fleet(tmp_path, policy.POLICY, [
        region("westus3", "v52.yaml"), region("eastus2", "v52.yaml"), region("japaneast", "img53.yaml",
                                                                                 valuesFiles=["v53.values.yaml"])],
        FILES)
    assert [fields(f) for f in findings] == [
        ("ray-version-consistent", "japaneast", RAY, "spec.headGroupSpec.template.spec.containers[0].image",
         Severity.WARNING, "region 'japaneast' runs Ray 2.53.0; most regions run Ray 2.52.0",
         "v53.values.yaml", 3)]


def test_one_version_everywhere_passes(tmp_path) -> None:
    assert run_fleet(tmp_path, policy.POLICY, [
        region("westus3", "v52.yaml", failoverPeers=["eastus2"]),
        region("eastus2", "v52.yaml", failoverPeers=["westus3"])], FILES) == []


def test_a_head_image_without_a_ray_version_is_not_a_version(tmp_path) -> None:
    # The tag names no Ray version and there is no rayVersion: the region has no version to compare.
    assert run_fleet(tmp_path, policy.POLICY, [
        region("westus3", "v52.yaml", failoverPeers=["eastus2"]), region("japaneast", "v52.yaml"),
        region("eastus2", "noversion.yaml", failoverPeers=["westus3"])], FILES) == []
