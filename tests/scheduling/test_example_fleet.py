"""The example fleet as a MultiKueue fleet: a manager and three GPU workers, validated end to end
(also with the upstream kueue and kuberay-operator charts unpacked, as `helm dependency build`
leaves them), its identity plan, and what losing a region means."""

from __future__ import annotations

import json
import shutil
import tarfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.findings import Severity
from rayfleet.fleet import load_fleet
from rayfleet.pipeline import validate_fleet

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
EXAMPLE = REPO / "examples" / "fleet.yaml"
KUEUE_POLICIES = {"kueue-manager-quota-sum", "kueue-local-queues-match", "kueue-workers-match-fleet",
                  "kueue-flavors-match-node-pools", "kueue-worker-quota-fit", "kueue-no-kubeconfig-secret",
                  "kueue-manager-not-worker", "kueue-ray-limits"}
TODAY = date(2026, 12, 2)


def copy_fleet(tmp_path: Path, *, upstream: bool) -> Path:
    """examples/ and charts/ side by side in tmp_path (optionally with the upstream charts unpacked)."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    shutil.copytree(REPO / "charts", tmp_path / "charts", ignore=shutil.ignore_patterns("*.tgz"))
    if upstream:
        for archive in sorted((SHARED / "charts").glob("*.tgz")):
            with tarfile.open(archive) as tar:
                tar.extractall(tmp_path / "charts" / "ray-aks" / "charts", filter="data")
    return tmp_path / "examples" / "fleet.yaml"


def test_the_example_is_a_manager_and_three_workers() -> None:
    fleet = load_fleet(EXAMPLE)
    assert fleet.manager is not None and fleet.manager.name == "manager"
    assert [r.name for r in fleet.workers] == ["eastus2", "swedencentral", "westus3"]
    assert fleet.scheduling is not None and fleet.scheduling.order == ("eastus2", "swedencentral", "westus3")


@pytest.fixture(scope="module")
def upstream_result(tmp_path_factory):
    fleet = copy_fleet(tmp_path_factory.mktemp("upstream"), upstream=True)
    return validate_fleet(fleet, crds=SHARED / "crds", today=TODAY)


def test_validate_with_both_upstream_charts_passes(upstream_result) -> None:
    result = upstream_result
    assert [r.name for r in result.regions] == ["eastus2", "swedencentral", "westus3", "manager"]
    errors = [f"{f.region} {f.policy}: {f.message}" for f in result.counting() if f.severity is Severity.ERROR]
    assert errors == []
    assert {p.id for p in result.policies} >= KUEUE_POLICIES
    assert [f.message for f in result.findings if f.policy.startswith("kueue-")] == []
    # every Kueue and ClusterProfile object was checked against its CRD (none is an unknown kind)
    assert [f.message for f in result.findings if f.policy == "unknown-kind"] == []
    manager = result.releases["manager"]
    kinds = {o.kind for o in manager.objects}
    assert {"MultiKueueConfig", "MultiKueueCluster", "ClusterProfile", "AdmissionCheck", "Deployment"} <= kinds


def test_a_manager_quota_off_the_workers_sum_fails_validate(tmp_path) -> None:
    fleet = copy_fleet(tmp_path, upstream=False)
    manager_values = fleet.parent / "values" / "regions" / "manager.yaml"
    text = manager_values.read_text()
    assert "gpu: 8}" in text
    manager_values.write_text(text.replace("gpu: 8}", "gpu: 12}", 1))
    result = validate_fleet(fleet, today=TODAY)
    [finding] = [f for f in result.findings if f.policy == "kueue-manager-quota-sum"]
    assert finding.region == "manager" and finding.severity is Severity.ERROR
    assert "nvidia.com/gpu nominalQuota 12 but the workers' sum is 8 (eastus2 2, swedencentral 2, westus3 4)" \
        in finding.message
    assert result.exit_code(Severity.ERROR) == 1


def test_the_identity_plan_covers_the_manager() -> None:
    result = CliRunner().invoke(main, ["identity", "plan", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    [kueue] = [c for c in plan["credentials"] if c["region"] == "manager"]
    assert kueue["subject"] == "system:serviceaccount:ray:kueue-controller-manager"
    assert kueue["identityName"] == "id-ray-kueue-manager"
    assignments = plan["azureRbac"]["roleAssignments"]
    assert [a["worker"] for a in assignments] == ["eastus2", "swedencentral", "westus3"]
    assert {a["principalId"] for a in assignments} == {"2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34"}
    assert assignments[0]["scope"].endswith("/resourceGroups/rg-rayfleet-eus2/providers/"
                                            "Microsoft.ContainerService/managedClusters/rayfleet-eus2")


def test_losing_eastus2() -> None:
    result = CliRunner().invoke(main, ["plan", str(EXAMPLE), "--lose", "eastus2", "--format", "json",
                                       "--jobs", str(REPO / "examples" / "jobs")])
    assert result.exit_code == 0, result.output
    loss = json.loads(result.output)
    assert loss["dispatch"] == {"mode": "Incremental", "order": ["swedencentral", "westus3"]}
    gpu = next(f for f in loss["flavors"] if f["flavor"] == "gpu")
    assert (gpu["lostGpus"], gpu["managerGpus"], gpu["remainingGpus"], gpu["strandedGpus"]) == (2.0, 8.0, 6.0, 2.0)
    # 16 vCPUs / 120 GiB per GPU pod: an A100 node holds it, westus3's T4 nodes (4 vCPUs) do not
    assert [(j["job"], j["fitsOn"]) for j in loss["jobs"]] == [("ray/train-resnet", ["swedencentral"])]


def test_with_upstream_charts_every_region_passes_its_own_admission_policies(upstream_result) -> None:
    """What `helm install` would meet in each cluster: no Deny. Kueue's webhook serving-cert Secret
    ships empty, so neither no-secret-objects nor its admission twin stops the install; the two
    upstream operators' Roles only warn (rbac-broad-namespaced is a warning)."""
    from rayfleet.admission.evaluate import admit, pair_policies

    for name, release in upstream_result.releases.items():
        [cert] = [o for o in release.objects if o.kind == "Secret"]
        assert cert.name.endswith("webhook-server-cert") and not cert.body.get("data"), name
        shipped = [o.body for o in release.objects
                   if o.kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")]
        assert any(o["metadata"]["name"].endswith("no-secret-objects") for o in shipped), name
        denials = admit(release.objects, pair_policies(shipped), namespace="ray")
        assert [d.obj.name for d in denials if "Deny" in d.actions] == [], name
        assert sorted((d.obj.kind, d.obj.name, d.policy.policy_id) for d in denials) == [
            ("Role", "kuberay-operator", "rbac-broad-namespaced"),
            ("Role", "kueue-manager-secrets-role", "rbac-broad-namespaced")], name


def test_render_the_manager_shows_the_multikueue_wiring_and_no_credential(tmp_path) -> None:
    fleet = copy_fleet(tmp_path / "repo", upstream=True)
    out = tmp_path / "manager"
    result = CliRunner().invoke(main, ["render", str(fleet), "--region", "manager", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import yaml

    objects = [yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.yaml"))]
    by_kind: dict[str, list[dict]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    assert sorted(o["metadata"]["name"] for o in by_kind["MultiKueueCluster"]) == ["eastus2", "swedencentral",
                                                                                 "westus3"]
    # Each worker is reached through its ClusterProfile (kubelogin under workload identity), never a kubeconfig.
    assert all("clusterProfileRef" in o["spec"]["clusterSource"] and "kubeConfig" not in o["spec"]["clusterSource"]
               for o in by_kind["MultiKueueCluster"])
    assert len(by_kind["ClusterProfile"]) == 3 and len(by_kind["AdmissionCheck"]) == 1
    # The only Secret is Kueue's webhook serving certificate, empty until Kueue fills it.
    [secret] = by_kind["Secret"]
    assert secret["metadata"]["name"].endswith("webhook-server-cert") and not secret.get("data")
    # The Kueue controller runs under workload identity with the manager identity.
    [kueue] = [d for d in by_kind["Deployment"] if d["metadata"]["name"].endswith("kueue-controller-manager")]
    assert kueue["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    # kubelogin gets its client ID from Kueue's access-provider exec config (the upstream chart
    # cannot annotate its ServiceAccount).
    [config] = [c for c in by_kind["ConfigMap"] if c["metadata"]["name"].endswith("manager-config")]
    access = yaml.safe_load(next(iter(config["data"].values())))["multiKueue"]["clusterProfile"]["accessProviders"]
    [(provider, exec_config)] = [(p["name"], p["execConfig"]) for p in access]
    assert provider == "azure-workload-identity"  # the name `rayfleet scheduling sync` writes
    assert exec_config["args"][:3] == ["get-token", "--login", "workloadidentity"]
    assert {"name": "AZURE_CLIENT_ID", "value": "7e3f9a2b-6c4d-4e8f-a1b2-c3d4e5f60718"} in exec_config["env"]
