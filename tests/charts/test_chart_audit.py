"""What the audit against the upstream sources asked of the chart (issue #16): labels, images,
ServiceAccounts, ADLS, metadata and NOTES."""

from __future__ import annotations

import re
import shutil
import tarfile
from pathlib import Path

import helm_python
import kubernetes_validate
import pytest
import yaml

from .chartkit import EXAMPLES, UMBRELLA, fold

EASTUS2 = (EXAMPLES / "platform.yaml", EXAMPLES / "regions" / "eastus2.yaml")


def ray_pods(cluster):
    yield "head", cluster["spec"]["headGroupSpec"]["template"]
    for group in cluster["spec"]["workerGroupSpecs"]:
        yield group["groupName"], group["template"]


def test_version_label_is_the_ray_version_deployed(render_region):
    rendered = render_region("eastus2")  # the override runs Ray 2.53.0; the chart's appVersion is 2.52.0
    cluster = rendered.one("RayCluster")
    assert cluster["spec"]["rayVersion"] == "2.53.0"
    assert cluster["metadata"]["labels"]["app.kubernetes.io/version"] == "2.53.0"
    for name, pod in ray_pods(cluster):
        assert pod["metadata"]["labels"]["app.kubernetes.io/version"] == "2.53.0", name
    # objects that are not Ray keep their chart's appVersion
    (claim,) = rendered.of_kind("PersistentVolumeClaim")
    assert claim["metadata"]["labels"]["app.kubernetes.io/version"] == "0.1.0"


def test_explicit_ray_version_wins_in_the_label(render):
    cluster = render(*EASTUS2, {"ray-cluster": {"rayVersion": "2.52.1"}}).one("RayCluster")
    assert cluster["metadata"]["labels"]["app.kubernetes.io/version"] == "2.52.1"


@pytest.mark.parametrize(("tag", "head"), [
    ("2.53.0-py311-gpu", "2.53.0-py311-cpu"),
    ("2.53.0-py311-cu121", "2.53.0-py311-cpu"),
    ("2.53.0-py311", "2.53.0-py311"),  # already the CPU image
])
def test_head_runs_the_cpu_variant(render, tag, head):
    cluster = render(*EASTUS2, {"ray-cluster": {"image": {"tag": tag}}}).one("RayCluster")
    images = dict((n, p["spec"]["containers"][0]["image"]) for n, p in ray_pods(cluster))
    assert images.pop("head") == f"rayproject/ray:{head}"
    assert set(images.values()) == {f"rayproject/ray:{tag}"}


def test_head_tag_and_digest_can_be_set(render):
    digest = "sha256:" + "b" * 64
    cluster = render(*EASTUS2, {"ray-cluster": {"head": {"image": {"tag": "2.53.0-py311", "digest": digest}}}})
    head = cluster.one("RayCluster")["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert head["image"] == f"rayproject/ray:2.53.0-py311@{digest}"


def test_workers_run_as_their_own_federated_service_account(render_region):
    rendered = render_region("eastus2")
    accounts = {a["metadata"]["name"]: a["metadata"]["annotations"] for a in rendered.of_kind("ServiceAccount")}
    assert accounts["ray"]["azure.workload.identity/client-id"] == accounts["ray-worker"][
        "azure.workload.identity/client-id"] == "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"
    service_accounts = {n: p["spec"]["serviceAccountName"] for n, p in ray_pods(rendered.one("RayCluster"))}
    assert service_accounts == {"head": "ray", "cpu": "ray-worker", "gpu": "ray-worker"}
    notes = rendered.notes()
    assert "system:serviceaccount:ray:ray-worker" in notes


def test_workers_can_share_the_head_account(render):
    rendered = render(*EASTUS2, {"ray-cluster": {"workerServiceAccountName": ""},
                                 "workload-identity": {"serviceAccounts": {"ray-worker": None}}})
    assert {p["spec"]["serviceAccountName"] for _, p in ray_pods(rendered.one("RayCluster"))} == {"ray"}
    assert [a["metadata"]["name"] for a in rendered.of_kind("ServiceAccount")] == ["ray"]


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_adls_mounts_with_use_adls(render, mode):
    rendered = render(*EASTUS2, {"blob-storage": {"mode": mode, "adls": True}})
    obj = rendered.one("StorageClass" if mode == "dynamic" else "PersistentVolume")
    options = obj["mountOptions"] if mode == "dynamic" else obj["spec"]["mountOptions"]
    assert "--use-adls=true" in options
    if mode == "dynamic":
        assert obj["parameters"]["isHnsEnabled"] == "true"
    plain = render(*EASTUS2, {"blob-storage": {"mode": mode}})
    obj = plain.one("StorageClass" if mode == "dynamic" else "PersistentVolume")
    assert "--use-adls=true" not in str(obj) and "isHnsEnabled" not in str(obj)


def test_notes_show_how_to_watch_reach_and_find_the_data(render_region):
    rendered = render_region("eastus2")
    name = rendered.one("RayCluster")["metadata"]["name"]
    notes = rendered.notes()
    assert f"kubectl get raycluster {name} -n ray -w" in notes
    assert f"service/{name}-head-svc 8265:8265" in notes
    assert "mounted at /mnt/data" in notes and "PVC ray-data" in notes
    assert "chart kuberay-operator 1.7.0" in notes  # from Chart.yaml's dependency when not built


def test_notes_follow_a_renamed_cluster(render):
    rendered = render(*EASTUS2, {"ray-cluster": {"fullnameOverride": "9-big-cluster"}})
    name = rendered.one("RayCluster")["metadata"]["name"]
    assert name == "r-9-big-cluster"
    assert f"kubectl get raycluster {name} " in rendered.notes()


def test_chart_metadata_for_artifact_hub():
    meta = yaml.safe_load((UMBRELLA / "Chart.yaml").read_text())
    assert meta["icon"].startswith("https://") and meta["sources"]
    assert all(m.get("url") or m.get("email") for m in meta["maintainers"])
    links = yaml.safe_load(meta["annotations"]["artifacthub.io/links"])
    assert all(link["url"].startswith("https://") for link in links)


def test_kube_version_range_matches_the_tested_schemas():
    """The chart's kubeVersion ends where kubernetes-validate's schemas end (and the fleet's minimum)."""
    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    minors = sorted(int(m.group(1)) for p in schemas.iterdir() if (m := re.match(r"v1\.(\d+)\.0-local$", p.name)))
    for chart in [UMBRELLA, *sorted((UMBRELLA / "charts").iterdir())]:
        if not (chart / "Chart.yaml").exists() or chart.name in ("kuberay-operator", "kueue"):
            continue
        kube = yaml.safe_load((chart / "Chart.yaml").read_text())["kubeVersion"]
        low, high = re.fullmatch(r">=1\.(\d+)\.0-0 <1\.(\d+)\.0-0", kube).groups()
        assert int(high) == minors[-1] + 1, chart.name
        assert minors[0] <= int(low) <= minors[-1], chart.name


def test_artifact_hub_images_are_the_images_a_default_install_pulls(tmp_path, shared_dir):
    """Render chart defaults (+ one GPU group, required identity values) with the operator built."""
    meta = yaml.safe_load((UMBRELLA / "Chart.yaml").read_text())
    listed = {i["image"] for i in yaml.safe_load(meta["annotations"]["artifacthub.io/images"])}
    chart_dir = tmp_path / "ray-aks"
    shutil.copytree(UMBRELLA, chart_dir)
    with tarfile.open(shared_dir / "charts" / "kuberay-operator-1.7.0.tgz") as archive:
        archive.extractall(chart_dir / "charts", filter="data")
    values = fold([EXAMPLES / "regions" / "eastus2.yaml",
                   {"ray-cluster": {"workerGroups": {"cpu": None}}}])
    manifests = helm_python.Chart.load(chart_dir).render(values, name="ray", namespace="ray")
    rendered = set()
    for path, text in manifests.items():
        if path.endswith("NOTES.txt"):
            continue
        rendered |= set(re.findall(r"^\s*image: \"?([^\"\s]+)\"?$", text, re.MULTILINE))
    assert rendered == listed
