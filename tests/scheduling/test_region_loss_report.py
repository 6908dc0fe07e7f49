"""``rayfleet plan --lose REGION`` as text and JSON (rayfleet.report.region_loss) on hand-made
losses: every column of the flavor table, the per-flavor lines (placed with another VM size,
nowhere, short, stranded), the lost RayCluster's verdict both ways, the queued jobs, the notes,
text from the fleet shown as it is (never rich markup), long lines never wrapped, the table
at most 160 columns. Expected values are worked out by hand."""

from __future__ import annotations

import json
from dataclasses import replace

from rayfleet.capacity.demand import GroupDemand
from rayfleet.capacity.failover import Absorbed, FailoverOutcome
from rayfleet.findings import ObjectRef
from rayfleet.region_loss import FlavorLoss, JobFit, RegionLoss, WorkerShare
from rayfleet.report.region_loss import format_loss_json, format_loss_text, region_loss_to_dict
from rayfleet.vm_sizes import lookup_vm_size

H100 = "Standard_NC40ads_H100_v5"
H100_BIG = "Standard_NC80adis_H100_v5"
T4 = "Standard_NC4as_T4_v3"
CLUSTER = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray-cluster")


def _gpu_group() -> GroupDemand:
    return GroupDemand(CLUSTER, "gpu", "worker", "spec.workerGroupSpecs[0]", H100, lookup_vm_size(H100), False,
                       max_pods=4, gpus_per_pod=1, pods_per_node=1, nodes=4, vcpus=160)


def _head() -> GroupDemand:
    return GroupDemand(CLUSTER, "head", "head", "spec.headGroupSpec", None, None, False, max_pods=1, gpus_per_pod=0,
                       pods_per_node=1, nodes=0, vcpus=8)


FLAVORS = (
    # 6 GPUs lost: eastus2 takes 2 (its room), uksouth 3 on a bigger H100 size, 1 short;
    # the manager admits 12, the remaining queues hold 5.5: 6.5 stranded.
    FlavorLoss("h100", H100, 6.0, 12.0, (WorkerShare("eastus2", 3.5, 2, H100),
                                         WorkerShare("uksouth", 2.0, 3, H100_BIG))),
    FlavorLoss("a100", None, 0.0, None, ()),  # nothing lost: a row, no line
    # 1.5 lost (2 to place): eastus2 has no room figure: nowhere; the manager admits less than is left.
    FlavorLoss("t4", T4, 1.5, 1.0, (WorkerShare("eastus2", 2.0, None, None),)),
)
JOBS = (JobFit("ray", "train", "gpu-batch", 8, 1, ("eastus2", "uksouth")),
        JobFit("team", "big", None, 64, 8, ()))
LOSS = RegionLoss("westus3", "manager", "Incremental", ("eastus2", "uksouth"), "10m", FLAVORS,
                  FailoverOutcome("westus3", ("eastus2",), (Absorbed(_gpu_group(), {"eastus2": 2}),
                                                            Absorbed(_head(), {}))),
                  JOBS, ("eastus2 has no Azure quota figure for Standard_NC4as_T4_v3",))


def test_json_every_field():
    expected = {
        "lost": "westus3", "manager": "manager", "dispatch": {"mode": "Incremental", "order": ["eastus2", "uksouth"]},
        "workerLostTimeout": "10m",
        "flavors": [
            {"flavor": "h100", "vmSize": H100, "lostGpus": 6.0, "managerGpus": 12.0,
             "remaining": [{"worker": "eastus2", "gpus": 3.5, "roomGpus": 2, "vmSize": H100},
                           {"worker": "uksouth", "gpus": 2.0, "roomGpus": 3, "vmSize": H100_BIG}],
             "remainingGpus": 5.5, "strandedGpus": 6.5,
             "raiseQuota": [{"worker": "eastus2", "gpus": 2}, {"worker": "uksouth", "gpus": 3}], "shortGpus": 1},
            {"flavor": "a100", "vmSize": None, "lostGpus": 0.0, "managerGpus": None, "remaining": [],
             "remainingGpus": 0, "strandedGpus": 0.0, "raiseQuota": [], "shortGpus": 0},
            {"flavor": "t4", "vmSize": T4, "lostGpus": 1.5, "managerGpus": 1.0,
             "remaining": [{"worker": "eastus2", "gpus": 2.0, "roomGpus": None, "vmSize": None}],
             "remainingGpus": 2.0, "strandedGpus": 0.0, "raiseQuota": [], "shortGpus": 2},
        ],
        "lostRayCluster": {"gpusNeeded": 4, "gpusPlaced": 2, "absorbed": False, "groups": [
            {"group": "worker group 'gpu' of RayCluster/ray-cluster", "vmSize": H100, "nodes": 4,
             "placed": {"eastus2": 2}},
            {"group": "head of RayCluster/ray-cluster", "vmSize": None, "nodes": 0, "placed": {}}]},
        "jobs": [{"job": "ray/train", "queue": "gpu-batch", "gpus": 8, "fitsOn": ["eastus2", "uksouth"]},
                 {"job": "team/big", "queue": None, "gpus": 64, "fitsOn": []}],
        "notes": ["eastus2 has no Azure quota figure for Standard_NC4as_T4_v3"],
    }
    assert region_loss_to_dict(LOSS) == expected
    assert format_loss_json(LOSS) == json.dumps(expected, indent=2) + "\n"
    empty = RegionLoss("westus3", "manager", "Incremental", (), "10m", (), None)
    assert region_loss_to_dict(empty) == {
        "lost": "westus3", "manager": "manager", "dispatch": {"mode": "Incremental", "order": []},
        "workerLostTimeout": "10m", "flavors": [], "lostRayCluster": None, "jobs": [], "notes": []}


def _rows(text: str) -> list[list[str]]:
    """The body rows of the text's tables (rich's box drawing), cell by cell."""
    return [[c.strip() for c in line[1:-1].split("│")] for line in text.splitlines() if line.startswith("│")]


def test_text_every_line_and_cell():
    text = format_loss_text(LOSS)
    lines = text.splitlines()
    # Lines are never wrapped (the flavor lines below are over 160 columns): they are copied into notes.
    assert lines[0] == ("If westus3 is lost: after workerLostTimeout (10m) MultiKueue evicts its jobs on the manager "
                        "(manager) and dispatches them again (Incremental: eastus2, uksouth).")
    assert lines[1] == "GPU queue quota per flavor"
    header = next(line for line in lines if line.startswith("┃"))
    assert [c.strip() for c in header[1:-1].split("┃")] == [
        "flavor", "VM size (westus3)", "lost (westus3)", "remaining workers (quota / Azure room, other VM size)",
        "remaining", "manager admits", "stranded"]
    assert _rows(text) == [
        ["h100", H100, "6", f"eastus2 3.5 / 2, uksouth 2 / 3 ({H100_BIG})", "5.5", "12", "6.5"],
        ["a100", "-", "0", "-", "0", "-", "0"],
        ["t4", T4, "1.5", "eastus2 2 / -", "2", "1", "0"],
        ["ray/train", "gpu-batch", "8", "eastus2, uksouth"],  # the queued RayJobs table
        ["team/big", "-", "64", "nowhere: no remaining worker's queue is that large"],
    ]
    after_table = lines[lines.index(next(line for line in lines if line.startswith("└"))) + 1:]
    assert after_table[:4] == [
        "h100: 6 GPUs of queue capacity go with westus3; Azure quota lets the remaining workers take them by raising "
        f"their queue quota: eastus2 +2, uksouth +3 ({H100_BIG}) (1 short).",
        "h100: the manager still admits 6.5 GPUs more than the remaining workers' queues hold; those jobs wait on a "
        "worker until the region is back or dropped from dispatch (docs/scheduling.md).",
        "t4: 1.5 GPUs of queue capacity go with westus3; Azure quota lets the remaining workers take them by raising "
        "their queue quota: nowhere (2 short).",
        "westus3's own RayCluster (4 GPUs at its max) does not fit in the remaining workers' spare quota: 2 of 4 GPUs "
        "placed (failover model).",
    ]
    assert after_table[4] == "queued RayJobs"
    headers = [[c.strip() for c in line[1:-1].split("┃")] for line in lines if line.startswith("┃")]
    assert headers[1] == ["job", "queue", "GPUs", "can run on"]
    assert lines[-1] == "note: eastus2 has no Azure quota figure for Standard_NC4as_T4_v3"
    assert "\x1b[" not in text


def test_text_of_a_loss_with_nothing_left_and_a_cluster_that_fits():
    fits = FailoverOutcome("westus3", ("eastus2",), (Absorbed(_gpu_group(), {"eastus2": 4}),))
    text = format_loss_text(RegionLoss("westus3", "manager", "Incremental", (), "10m", (), fits))
    lines = text.splitlines()
    assert lines[0] == ("If westus3 is lost: after workerLostTimeout (10m) MultiKueue evicts its jobs on the manager "
                        "(manager) and dispatches them again (Incremental: no worker left).")
    assert _rows(text) == []
    assert lines[-1] == ("westus3's own RayCluster (4 GPUs at its max) fits in the remaining workers' spare quota: "
                         "4 of 4 GPUs placed (failover model).")
    bare = format_loss_text(RegionLoss("westus3", "manager", "Incremental", ("eastus2",), "10m", (), None))
    assert "RayCluster" not in bare and "queued RayJobs" not in bare and "note:" not in bare


def test_fleet_text_is_never_rich_markup():
    flavor = FlavorLoss("[b]h100", H100, 2.0, 9.0, (WorkerShare("eastus2", 1.0, 0, H100),))
    loss = RegionLoss("[b]westus3", "[b]manager", "Incremental", ("eastus2",), "[b]10m", (flavor,),
                      FailoverOutcome("[b]westus3", (), (Absorbed(_gpu_group(), {}),)), (), ("[b]check [/b]quota",))
    lines = format_loss_text(loss).splitlines()
    assert lines[0].startswith("If [b]westus3 is lost: after workerLostTimeout ([b]10m) MultiKueue evicts its jobs on "
                               "the manager ([b]manager)")
    assert any(line.startswith("[b]h100: 2 GPUs of queue capacity go with [b]westus3;") for line in lines)
    assert any(line.startswith("[b]h100: the manager still admits 8 GPUs more") for line in lines)
    assert any(line.startswith("[b]westus3's own RayCluster (4 GPUs at its max) does not fit") for line in lines)
    assert lines[-1] == "note: [b]check [/b]quota"


def test_colour_only_when_asked():
    assert "\x1b[" in format_loss_text(LOSS, color=True)
    coloured = format_loss_text(LOSS, color=True)
    # Colours, not only bold: a colour code (30-37, 90-97 or 38;...) somewhere.
    assert any(f"\x1b[{c}" in coloured or f";{c}m" in coloured for c in (*range(30, 38), *range(90, 98), "38;"))


def test_the_table_is_at_most_160_columns():
    def widest(name_length: int) -> tuple[int, int]:
        """The widest line and the number of lines, with a flavor name this long."""
        loss = replace(LOSS, flavors=(replace(FLAVORS[1], flavor="f" * name_length),), failover=None, jobs=(),
                       notes=())
        lines = format_loss_text(loss).splitlines()[1:]
        return max(len(line) for line in lines), len(lines)

    # The table grows one column per character of the flavor name until it is 160 wide; beyond
    # that a cell is folded onto a second line instead.
    first = next(n for n in range(1, 200) if widest(n)[0] >= 160)
    width, height = widest(first)
    assert width == 160 and widest(first - 1) == (159, height)
    assert widest(first + 1)[0] == 160 and widest(first + 1)[1] > height
