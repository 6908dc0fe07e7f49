"""shared-pvc-read-write-many: the replica boundary (1 pod, 2 pods), which reason a message names
when the head and several multi-pod groups share a claim, one finding per PVC however many
RayClusters mount it, and the source traced to the values line that set the single access mode."""

from __future__ import annotations

import pytest
from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import shared_pvc_read_write_many as policy
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects
from rayfleet.values import ValuesStack, load_values_file

PVC = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: ray}\n"
       "spec: {accessModes: [ReadWriteOnce]}\n")
VOLUME = "volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]"


def ray(name: str = "ray", *, head: bool = False, groups: tuple[tuple[str, int], ...] = (("w", 2),)) -> str:
    head_volumes = f", {VOLUME}" if head else ""
    text = (f"apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {{name: {name}, namespace: ray}}\nspec:\n"
            f"  headGroupSpec: {{rayStartParams: {{}}, template: {{spec: {{containers: [{{name: h, image: 'r:1'}}]"
            f"{head_volumes}}}}}}}\n  workerGroupSpecs:\n")
    for group, most in groups:
        text += (f"  - {{groupName: {group}, minReplicas: 0, maxReplicas: {most}, rayStartParams: {{}}, template: "
                 f"{{spec: {{containers: [{{name: w, image: 'r:1'}}], {VOLUME}}}}}}}\n")
    return text


def run(*docs: str, values: str | None = None, tmp_path=None):
    release = ReleaseObjects(objects=objects_from_text("---\n".join(docs), "m.yaml"),
                             settings=PolicySettings.from_dict({}), kube_version="1.33")
    if values is not None:
        path = tmp_path / "v.yaml"
        path.write_text(values)
        release = ReleaseObjects(objects=release.objects, settings=release.settings, kube_version="1.33",
                                 values=ValuesStack([load_values_file(path, display="v.yaml")]))
    return check([policy.POLICY], release)


def message(why: str) -> str:
    return (f"PVC 'data' is mounted by {why} of RayCluster 'ray' but its access modes are ReadWriteOnce, not "
            "ReadWriteMany (or ReadOnlyMany)")


@pytest.mark.parametrize(("most", "fires"), [(1, False), (2, True), (3, True)])
def test_one_pod_may_hold_a_read_write_once_claim_two_may_not(most, fires) -> None:
    findings = run(PVC, ray(groups=(("w", most),)))
    assert [f.message for f in findings] == ([message(f"worker group 'w' (up to {most} pods)")] if fires else [])


def test_the_head_sharing_with_several_groups_is_the_reason_named_first() -> None:
    [f] = run(PVC, ray(head=True, groups=(("a", 2), ("b", 3))))
    assert f.message == message("the head and the workers")
    assert (f.policy, f.severity, f.obj, f.path) == ("shared-pvc-read-write-many", Severity.ERROR,
                                                     ObjectRef("v1", "PersistentVolumeClaim", "ray", "data"),
                                                     "spec.accessModes")


def test_several_groups_name_the_first_group() -> None:
    [f] = run(PVC, ray(groups=(("a", 2), ("b", 3))))
    assert f.message == message("worker group 'a' (up to 2 pods)")


def test_a_pvc_two_rayclusters_share_is_reported_once() -> None:
    findings = run(PVC, ray(), ray("other"))
    assert [(f.obj.name, f.message) for f in findings] == [("data", message("worker group 'w' (up to 2 pods)"))]


def test_the_single_access_mode_is_traced_to_the_values_line(tmp_path) -> None:
    [f] = run(PVC, ray(), values="storage:\n  name: data-volume\n  accessMode: ReadWriteOnce\n", tmp_path=tmp_path)
    assert (f.source.file, f.source.line) == ("v.yaml", 3)


def test_two_access_modes_are_not_traced(tmp_path) -> None:
    pvc = PVC.replace("[ReadWriteOnce]", "[ReadWriteOnce, ReadWriteOncePod]")
    [f] = run(pvc, ray(), values="storage:\n  accessMode: ReadWriteOnce\n", tmp_path=tmp_path)
    assert (f.source.file, f.source.line) == ("m.yaml", 1)
    assert "access modes are ReadWriteOnce, ReadWriteOncePod, not" in f.message
