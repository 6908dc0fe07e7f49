"""Kueue and MultiKueue: the manager and the GPU workers rendered with the real upstream charts.

The upstream kueue 0.19.2 and kuberay-operator 1.7.0 charts are unpacked from ../shared/charts
into a temporary copy of charts/ray-aks/charts (what `helm dependency build` gives users); every
kueue.x-k8s.io and multicluster.x-k8s.io object is checked against the CRDs in ../shared/crds with
rayfleet's own schema checker and through `scan --crds`.
"""

from __future__ import annotations

import re
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from rayfleet.capacity import lookup_vm_size, normalise_family, parse_quantity
from rayfleet.findings import SourceLocation
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import KubeObject
from rayfleet.pipeline import scan_manifests
from rayfleet.policies import get_policy
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects
from rayfleet.schemas_check import CustomResourceSchemas, ObjectSchemas, load_crds_folder

from .chartkit import EXAMPLES, MANAGER, NAMESPACE, REGIONS, REPO, UMBRELLA, Rendered, fold, region_layers, render_values

ALL = (MANAGER, *REGIONS)
CUSTOM_GROUPS = ("kueue.x-k8s.io/", "multicluster.x-k8s.io/")
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
WI_LABEL = "azure.workload.identity/use"
RESOURCES = ("cpu", "memory", "nvidia.com/gpu")


@pytest.fixture(scope="session")
def upstream_umbrella(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """A copy of the umbrella with the upstream chart archives unpacked into its charts/."""
    chart = tmp_path_factory.mktemp("upstream") / "ray-aks"
    shutil.copytree(UMBRELLA, chart, ignore=shutil.ignore_patterns("*.tgz"))
    for archive in sorted((shared_dir / "charts").glob("*.tgz")):
        with tarfile.open(archive) as tar:
            tar.extractall(chart / "charts", filter="data")
    assert (chart / "charts" / "kueue" / "Chart.yaml").is_file()
    assert (chart / "charts" / "kuberay-operator" / "Chart.yaml").is_file()
    return chart


@pytest.fixture(scope="session")
def rendered(upstream_umbrella: Path) -> Callable[[str], Rendered]:
    """``rendered(region)``: the example region with both upstream charts, rendered once."""
    cache: dict[str, Rendered] = {}

    def _render(region: str) -> Rendered:
        if region not in cache:
            cache[region] = render_values(fold(region_layers(region)), chart=upstream_umbrella)
        return cache[region]

    return _render


@pytest.fixture(scope="session")
def crd_schemas(shared_dir: Path) -> CustomResourceSchemas:
    crds = load_crds_folder(shared_dir / "crds" / "kueue") + load_crds_folder(shared_dir / "crds" / "cluster-inventory")
    return CustomResourceSchemas(crds)


def custom_objects(rendered: Rendered) -> list[dict[str, Any]]:
    return [obj for _, obj in rendered.objects if obj["apiVersion"].startswith(CUSTOM_GROUPS)]


def named(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["metadata"]["name"] == name]
    return found


def kueue_deployment(rendered: Rendered) -> dict[str, Any]:
    return named(rendered.of_kind("Deployment"), "kueue-controller-manager")


def kueue_config(rendered: Rendered) -> dict[str, Any]:
    config_map = named(rendered.of_kind("ConfigMap"), "kueue-manager-config")
    return yaml.safe_load(config_map["data"]["controller_manager_config.yaml"])


def region_values(region: str) -> dict[str, Any]:
    return fold(region_layers(region))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector matches ``labels``."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {"In": key in labels and labels[key] in values,
              "NotIn": key not in labels or labels[key] not in values,
              "Exists": key in labels,
              "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


# --- the dependency ----------------------------------------------------------------------------


def test_kueue_is_a_pinned_dependency_by_reference_and_off_by_default(chart):
    (dep,) = [d for d in chart.metadata["dependencies"] if d["name"] == "kueue"]
    assert {k: dep[k] for k in ("version", "repository", "condition")} == {
        "version": "0.19.2",
        "repository": "oci://registry.k8s.io/kueue/charts",
        "condition": "kueue.enabled",
    }
    assert chart.merge_values({})["kueue"]["enabled"] is False
    assert chart.merge_values({})["scheduling"]["enabled"] is False
    assert not (UMBRELLA / "charts" / "kueue").exists()  # never vendored


def test_kueue_config_default_is_valid_yaml_with_ray_integrations(chart):
    config = yaml.safe_load(chart.merge_values({})["kueue"]["managerConfig"]["controllerManagerConfigYaml"])
    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2" and config["kind"] == "Configuration"
    assert config["integrations"]["frameworks"] == ["ray.io/rayjob", "ray.io/raycluster", "ray.io/rayservice"]
    assert "multiKueue" not in config


# --- schemas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ALL)
def test_custom_resources_validate_against_the_crds(rendered, crd_schemas, region):
    schemas = ObjectSchemas("1.33", crd_schemas)
    objects = custom_objects(rendered(region))
    expected = {"ClusterQueue", "LocalQueue", "ResourceFlavor"}
    if region == MANAGER:
        expected |= {"AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster", "ClusterProfile"}
    assert {o["kind"] for o in objects} == expected
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0]
        assert crd_schemas.knows(group, obj["kind"]), obj["kind"]
        found = [v.violation.message for v in schemas.check(KubeObject(obj, SourceLocation("rendered")))]
        assert found == [], f"{obj['kind']} {obj['metadata']['name']}: {found}"


def test_the_schema_check_catches_a_broken_cluster_profile(rendered, crd_schemas):
    # The check above can fail: a ClusterProfile without its required clusterManager does.
    profile = dict(rendered(MANAGER).of_kind("ClusterProfile")[0])
    profile["spec"] = {"displayName": "broken"}
    found = list(ObjectSchemas("1.33", crd_schemas).check(KubeObject(profile, SourceLocation("mutated"))))
    assert [v.policy for v in found] == ["custom-resource-schema"]
    assert "clusterManager" in found[0].violation.message


@pytest.mark.parametrize("region", [MANAGER, "westus3"])
def test_scan_with_the_shared_crds_finds_no_schema_problem(rendered, shared_dir, tmp_path, region):
    """rayfleet's own scan path over the rendered release, with --crds ../shared/crds."""
    out = tmp_path / "manifests"
    out.mkdir()
    for index, (_, obj) in enumerate(rendered(region).objects):
        (out / f"{index:03d}.yaml").write_text(yaml.safe_dump(obj))
    result = scan_manifests([str(out)], crds=shared_dir / "crds",
                            policies=["kubernetes-schema", "custom-resource-schema", "unknown-kind"])
    assert [f"{f.policy}: {f.message}" for f in result.findings] == []
    checked = {f"{o['apiVersion']} {o['kind']}" for _, o in rendered(region).objects}
    assert "kueue.x-k8s.io/v1beta2 ClusterQueue" in checked


# --- the manager --------------------------------------------------------------------------------


def test_manager_wiring_from_local_queue_to_cluster_profiles(rendered):
    manager = rendered(MANAGER)
    (local_queue,) = manager.of_kind("LocalQueue")
    assert (local_queue["metadata"]["namespace"], local_queue["metadata"]["name"]) == ("ray", "gpu-batch")
    queue = named(manager.of_kind("ClusterQueue"), local_queue["spec"]["clusterQueue"])
    assert queue["metadata"]["name"] == "ray-gpu"
    [check_name] = [c["name"] for c in queue["spec"]["admissionChecksStrategy"]["admissionChecks"]]
    check = named(manager.of_kind("AdmissionCheck"), check_name)
    assert check["spec"]["controllerName"] == "kueue.x-k8s.io/multikueue"
    params = check["spec"]["parameters"]
    assert (params["apiGroup"], params["kind"]) == ("kueue.x-k8s.io", "MultiKueueConfig")
    config = named(manager.of_kind("MultiKueueConfig"), params["name"])
    assert config["spec"]["clusters"] == list(REGIONS)  # the Incremental dispatcher's preference order
    kueue_namespace = kueue_deployment(manager)["metadata"]["namespace"]
    profiles = {p["metadata"]["name"]: p for p in manager.of_kind("ClusterProfile")}
    for worker in REGIONS:
        cluster = named(manager.of_kind("MultiKueueCluster"), worker)
        assert cluster["spec"]["clusterSource"] == {"clusterProfileRef": {"name": worker}}
        profile = profiles[worker]
        # Kueue reads ClusterProfiles only from its own namespace.
        assert profile["metadata"]["namespace"] == kueue_namespace == NAMESPACE
        assert profile["metadata"]["labels"]["rayfleet.io/region"] == worker
        assert cluster["metadata"]["labels"]["rayfleet.io/region"] == worker
        assert profile["spec"]["clusterManager"] == {"name": "rayfleet"}
        assert "status" not in profile  # written by `rayfleet scheduling sync`, never by Helm
    assert set(profiles) == set(REGIONS)


def test_manager_kueue_signs_in_with_kubelogin_under_workload_identity(rendered):
    manager = rendered(MANAGER)
    values = region_values(MANAGER)
    multikueue = kueue_config(manager)["multiKueue"]
    assert multikueue["workerLostTimeout"] == "15m"
    assert multikueue["dispatcherName"] == "kueue.x-k8s.io/multikueue-dispatcher-incremental"
    (provider,) = multikueue["clusterProfile"]["accessProviders"]
    assert provider["name"] == "azure-workload-identity"
    exec_config = provider["execConfig"]
    assert exec_config["command"] == "/plugins/kubelogin"
    assert exec_config["args"] == ["get-token", "--login", "workloadidentity", "--server-id", AKS_SERVER_ID]
    assert exec_config["env"] == [{"name": "AZURE_CLIENT_ID", "value": values["global"]["azure"]["clientId"]}]
    assert exec_config["interactiveMode"] == "Never"
    assert "credentialsProviders" not in multikueue["clusterProfile"]  # the deprecated name

    deployment = kueue_deployment(manager)
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"][WI_LABEL] == "true"
    assert deployment["spec"]["selector"]["matchLabels"][WI_LABEL] == "true"  # see templates/_kueue.tpl
    assert pod["spec"]["serviceAccountName"] == "kueue-controller-manager"
    (container,) = pod["spec"]["containers"]
    assert "--feature-gates=MultiKueueClusterProfile=true" in container["args"]
    assert not [c for c in pod["spec"].get("containers", []) if "kubelogin" in c["name"]]
    assert not [e for e in container.get("env", []) if e["name"].startswith("AZURE_")]  # left to the webhook


def test_manager_image_is_the_one_the_dockerfile_builds(rendered, chart):
    dockerfile = (REPO / "images" / "kueue-kubelogin" / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, re.MULTILINE))
    (dep,) = [d for d in chart.metadata["dependencies"] if d["name"] == "kueue"]
    assert args["KUEUE_VERSION"] == f"v{dep['version']}"
    assert "COPY --from=kubelogin /usr/local/bin/kubelogin /plugins/kubelogin" in dockerfile
    image = kueue_deployment(rendered(MANAGER))["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(f":{args['KUEUE_VERSION']}-kubelogin-{args['KUBELOGIN_VERSION']}")


def test_manager_runs_no_ray_pods_and_no_worker_rbac(rendered):
    manager = rendered(MANAGER)
    assert manager.of_kind("RayCluster") == []
    assert manager.of_kind("PersistentVolumeClaim") == [] and manager.of_kind("Pod") == []
    assert not [o for o in manager.of_kind("ClusterRoleBinding") if "multikueue-manager" in o["metadata"]["name"]]
    flavors = {f["metadata"]["name"]: f["spec"] for f in manager.of_kind("ResourceFlavor")}
    # Accounting only: no node labels or tolerations; the GPU taint keeps Ray heads on `cpu`.
    assert flavors == {"gpu": {"nodeTaints": [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}]}, "cpu": {}}


# --- the workers --------------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_worker_kueue_is_plain_upstream(rendered, region):
    worker = rendered(region)
    pod = kueue_deployment(worker)["spec"]["template"]
    assert WI_LABEL not in pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "registry.k8s.io/kueue/kueue:v0.19.2"
    assert not [a for a in container["args"] if a.startswith("--feature-gates")]
    assert "multiKueue" not in kueue_config(worker)
    for kind in ("AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster", "ClusterProfile"):
        assert worker.of_kind(kind) == [], kind


@pytest.mark.parametrize("region", ALL)
def test_kueue_manages_the_queue_namespaces_it_shares(rendered, region):
    # Kueue runs in the release namespace next to the jobs; upstream's default selector excludes
    # Kueue's own namespace, which would let RayJobs there bypass the queue.
    release = rendered(region)
    assert kueue_deployment(release)["metadata"]["namespace"] == NAMESPACE
    webhooks = {w["name"]: w for w in release.one("MutatingWebhookConfiguration")["webhooks"]}
    for queue in region_values(region)["scheduling"]["queues"]:
        labels = {"kubernetes.io/metadata.name": queue["namespace"]}
        assert selects(kueue_config(release)["managedJobsNamespaceSelector"], labels)
        for name in ("mrayjob.kb.io", "mraycluster.kb.io", "mrayservice.kb.io"):
            assert selects(webhooks[name]["namespaceSelector"], labels), name
    assert not selects(webhooks["mrayjob.kb.io"]["namespaceSelector"], {"kubernetes.io/metadata.name": "kube-system"})


@pytest.mark.parametrize("region", REGIONS)
def test_worker_rbac_binds_the_managers_entra_principal(rendered, example_fleet, region):
    worker = rendered(region)
    principal = region_values(region)["scheduling"]["worker"]["managerPrincipal"]["objectId"]
    (binding,) = [b for b in worker.of_kind("ClusterRoleBinding") if b["metadata"]["name"].endswith("multikueue-manager")]
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": principal}]
    role = named(worker.of_kind("ClusterRole"), binding["roleRef"]["name"])
    verbs = {(res, verb) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]}
    for needed in [("rayjobs", "create"), ("rayclusters", "patch"), ("workloads", "update"),
                   ("workloads/status", "patch"), ("rayjobs/status", "get"), ("localqueues", "watch")]:
        assert needed in verbs
    assert not [r for r in role["rules"] if "secrets" in r["resources"] or "*" in r["verbs"]]
    # No ServiceAccount and no token for the manager: only the Ray pods' own ServiceAccount.
    assert [sa["metadata"]["name"] for sa in worker.of_kind("ServiceAccount")
            if "scheduling" in sa["metadata"]["labels"].get("app.kubernetes.io/name", "")] == []


@pytest.mark.parametrize("region", REGIONS)
def test_worker_flavors_mirror_the_ray_worker_groups(rendered, region):
    worker = rendered(region)
    cluster = worker.one("RayCluster")
    flavors = {f["metadata"]["name"]: f["spec"] for f in worker.of_kind("ResourceFlavor")}
    gpu_groups = {g["groupName"]: g["template"]["spec"] for g in cluster["spec"]["workerGroupSpecs"]
                  if "nvidia.com/gpu" in g["template"]["spec"]["containers"][0]["resources"].get("limits", {})}
    assert gpu_groups, "the example region has a GPU group"
    for name, pod in gpu_groups.items():
        assert flavors[name]["nodeLabels"] == pod["nodeSelector"]
        assert flavors[name]["tolerations"] == pod["tolerations"]
        assert {(t["key"], t["value"], t["effect"]) for t in flavors[name]["nodeTaints"]} <= {
            (t["key"], t["value"], t["effect"]) for t in pod["tolerations"]}
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]
    assert flavors["cpu"]["nodeLabels"] == head["nodeSelector"]  # Ray heads are admitted in `cpu`
    assert "nodeTaints" not in flavors["cpu"]


# --- quotas -------------------------------------------------------------------------------------


def quotas(rendered: Rendered) -> dict[tuple[str, str], float]:
    (queue,) = rendered.of_kind("ClusterQueue")
    (group,) = queue["spec"]["resourceGroups"]
    assert group["coveredResources"] == list(RESOURCES)
    return {(flavor["name"], res["name"]): parse_quantity(res["nominalQuota"])
            for flavor in group["flavors"] for res in flavor["resources"]}


def test_manager_quota_is_the_sum_of_the_workers(rendered):
    manager = quotas(rendered(MANAGER))
    summed: dict[tuple[str, str], float] = {}
    for region in REGIONS:
        for key, value in quotas(rendered(region)).items():
            summed[key] = summed.get(key, 0) + value
    assert manager == summed
    assert manager[("gpu", "nvidia.com/gpu")] == 8


@pytest.mark.parametrize("region", REGIONS)
def test_worker_gpu_quota_fits_the_regions_azure_quota(rendered, example_fleet, region):
    """Queue nodes plus the RayCluster's own GPU nodes at maxReplicas stay within the region's
    quota for that VM family (spot quota for spot pools) in examples/fleet.yaml."""
    fleet = load_fleet(example_fleet)
    (member,) = [r for r in fleet.regions if r.name == region]
    worker = rendered(region)
    flavor = named(worker.of_kind("ResourceFlavor"), "gpu")["spec"]
    vm = lookup_vm_size(flavor["nodeLabels"]["node.kubernetes.io/instance-type"])
    assert vm is not None and vm.gpus > 0
    queue_nodes = -(-int(quotas(worker)[("gpu", "nvidia.com/gpu")]) // vm.gpus)
    assert queue_nodes >= 1
    (group,) = [g for g in worker.one("RayCluster")["spec"]["workerGroupSpecs"] if g["groupName"] == "gpu"]
    vcpus = (queue_nodes + group["maxReplicas"]) * vm.vcpus
    spot = flavor["nodeLabels"].get("kubernetes.azure.com/scalesetpriority") == "spot"
    families = {normalise_family(k): v for k, v in member.quota.families.items()}
    limit = member.quota.spot_vcpus if spot else families[vm.family_key]
    assert vcpus <= limit, f"{region}: {vcpus} vCPUs of {vm.name} > quota {limit}"


# --- no stored credential ---------------------------------------------------------------------


@pytest.mark.parametrize("region", ALL)
def test_no_secret_holds_a_credential(rendered, region):
    release = rendered(region)
    secrets = release.of_kind("Secret")
    # Kueue's webhook serving-cert Secret, rendered empty and filled by Kueue at run time.
    assert [(s["metadata"]["name"], s.get("data"), s.get("stringData")) for s in secrets] == [
        ("kueue-webhook-server-cert", None, None)]
    objects = [KubeObject(obj, SourceLocation(path)) for path, obj in release.objects]
    found = check([get_policy("no-secret-objects"), get_policy("no-credential-secrets")], ReleaseObjects(objects, PolicySettings(), "1.33"))
    assert [f.message for f in found] == []
    assert not [c for c in release.of_kind("MultiKueueCluster") if "kubeConfig" in c["spec"]["clusterSource"]]


# --- values that must be refused ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"scheduling": {"role": "observer"}}, "role"),
        ({"scheduling": {"worker": {"managerPrincipal": {"objectId": ""}}}}, "objectId"),
        ({"scheduling": {"worker": {"managerPrincipal": {"objectId": "manager-identity"}}}}, "objectId"),
        ({"scheduling": {"role": "manager", "manager": {"workers": []}}}, "workers"),
        ({"scheduling": {"role": "manager", "manager": {"workers": [{"name": "East US 2"}]}}}, "name"),
        ({"scheduling": {"queues": []}}, "queues"),
        ({"scheduling": {"flavors": [{"name": "gpu", "quota": {"cpu": "8", "memory": "64Gi"}}]}}, "gpu"),
        ({"scheduling": {"flavors": [{"name": "gpu", "quota": {"cpu": "8", "memory": "lots", "gpu": 1}}]}},
         "memory"),
        ({"scheduling": {"dispatcher": "AllAtOnce"}}, "dispatcher"),
        ({"kueue": {"controllerManager": {"manager": {"image": {"tag": "latest"}}}}}, "tag"),
    ],
)
def test_schema_rejects_bad_scheduling_values(render, override, field):
    with pytest.raises(helm_python.HelmValuesError) as caught:
        render(*region_layers("eastus2"), override)
    assert field in str(caught.value)


def test_manager_in_its_own_namespace_creates_the_queue_namespace(upstream_umbrella):
    values = fold([*region_layers(MANAGER), {"scheduling": {"createQueueNamespaces": True}}])
    release = render_values(values, namespace="kueue-system", chart=upstream_umbrella)
    assert [n["metadata"]["name"] for n in release.of_kind("Namespace")] == ["ray"]
    assert {p["metadata"]["namespace"] for p in release.of_kind("ClusterProfile")} == {"kueue-system"}
    assert kueue_deployment(release)["metadata"]["namespace"] == "kueue-system"
    assert release.one("LocalQueue")["metadata"]["namespace"] == "ray"


def test_worker_without_the_kueue_chart_still_renders_its_queue(render):
    # The normal test tree has no unpacked upstream charts: the scheduling objects render alone.
    release = render(*region_layers("swedencentral"))
    assert release.one("ClusterQueue")["metadata"]["name"] == "ray-gpu"
    assert release.of_kind("Deployment") == []


def test_example_manager_values_file_exists_and_is_cpu_only():
    values = fold([EXAMPLES / "platform.yaml", EXAMPLES / "regions" / "manager.yaml"])
    assert values["scheduling"]["role"] == "manager"
    for component in ("ray-cluster", "blob-storage", "workload-identity"):
        assert values[component]["enabled"] is False, component
    assert not [f for f in values["scheduling"]["flavors"] if f.get("nodeLabels")]


def test_rayfleet_keeps_kueue_cluster_scoped_kinds_without_a_namespace(rendered):
    # rayfleet applies the release namespace as Helm's client does: only to namespaced kinds.
    from rayfleet.manifests import objects_from_text

    text = "\n---\n".join(yaml.safe_dump(obj) for _, obj in rendered(MANAGER).objects)
    scopes = {(o.kind, o.namespace) for o in objects_from_text(text, "manager", default_namespace="elsewhere")}
    for kind in ("ClusterQueue", "ResourceFlavor", "AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster"):
        assert (kind, None) in scopes, kind
    assert ("LocalQueue", "ray") in scopes and ("ClusterProfile", "ray") in scopes
