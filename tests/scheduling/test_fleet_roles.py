"""The fleet file's scheduling section and region roles: bad input is one line, exit 2, file and field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rayfleet.cli import main
from rayfleet.errors import InputError
from rayfleet.fleet import load_fleet

MANAGER = {"name": "manager", "location": "centralus", "role": "manager", "valuesFiles": [],
           "cluster": {"name": "aks-ray-manager", "kubernetesVersion": "1.33"}}
SCHEDULING = {"engine": "multikueue", "queues": [{"name": "gpu-batch", "namespace": "ray"}],
              "dispatch": {"mode": "Incremental", "order": ["eastus2", "westus3"]}, "workerLostTimeout": "10m"}


def worker(name: str, **extra) -> dict:
    return {"name": name, "location": name, "valuesFiles": [],
            "cluster": {"name": f"aks-{name}", "kubernetesVersion": "1.33"}, **extra}


def base() -> dict:
    return {"apiVersion": "rayfleet.dev/v1", "chart": "chart", "release": {"name": "ray", "namespace": "ray"},
            "scheduling": copy.deepcopy(SCHEDULING),
            "regions": [copy.deepcopy(MANAGER), worker("eastus2"), worker("westus3")]}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_manager_and_workers_load(tmp_path) -> None:
    fleet = load_fleet(write(tmp_path, base()))
    assert fleet.manager is not None and fleet.manager.name == "manager"
    assert [r.name for r in fleet.workers] == ["eastus2", "westus3"]
    assert fleet.scheduling is not None
    assert fleet.scheduling.order == ("eastus2", "westus3") and fleet.scheduling.dispatch_mode == "Incremental"
    assert [(q.namespace, q.name) for q in fleet.scheduling.queues] == [("ray", "gpu-batch")]


def test_dispatch_order_defaults_to_the_workers_in_fleet_order(tmp_path) -> None:
    data = base()
    del data["scheduling"]["dispatch"]
    fleet = load_fleet(write(tmp_path, data))
    assert fleet.scheduling.order == ("eastus2", "westus3") and fleet.scheduling.dispatch_mode == "AllAtOnce"


def test_without_scheduling_every_region_is_a_worker(tmp_path) -> None:
    data = base()
    del data["scheduling"]
    data["regions"] = data["regions"][1:]
    fleet = load_fleet(write(tmp_path, data))
    assert fleet.manager is None and fleet.scheduling is None and len(fleet.workers) == 2


def _two_managers(d: dict) -> None:
    d["regions"].append(dict(copy.deepcopy(MANAGER), name="manager2"))


def _gpu_quota(d: dict) -> None:
    d["regions"][0]["quota"] = {"families": {"standardDDSv5Family": 16, "Standard NCADS_A100_v4 Family": 48}}


def _custom_gpu_quota(d: dict) -> None:
    # A GPU size the catalogue does not know, added by the fleet file: its family is a GPU family too.
    d["vmSizes"] = {"Standard_NX8_Custom": {"vcpus": 8, "gpus": 1, "family": "Standard NX Custom Family"}}
    d["regions"][0]["quota"] = {"families": {"standardDDSv5Family": 16, "Standard NX Custom Family": 8}}


CASES = {
    "two managers": (_two_managers, "regions[3].role",
                     "a second manager: only one region may have role manager, and 'manager' already has it"),
    "manager with GPU quota": (_gpu_quota, "regions[0].quota.families.Standard NCADS_A100_v4 Family",
                               "the manager 'manager' declares GPU quota (Standard NCADS_A100_v4 Family: 48 vCPUs)"),
    "manager with GPU quota of a fleet vmSizes family": (
        _custom_gpu_quota, "regions[0].quota.families.Standard NX Custom Family",
        "the manager 'manager' declares GPU quota (Standard NX Custom Family: 8 vCPUs)"),
    "no manager": (lambda d: d["regions"].pop(0), "scheduling",
                   "the fleet needs exactly one region with role: manager"),
    "manager without scheduling": (lambda d: d.pop("scheduling"), "regions[0].role",
                                   "a region with role manager needs a top-level scheduling section"),
    "worker missing from dispatch": (lambda d: d["scheduling"]["dispatch"].update(order=["eastus2"]),
                                     "scheduling.dispatch.order", "misses worker region westus3"),
    "unknown region in dispatch": (lambda d: d["scheduling"]["dispatch"]["order"].append("nowhere"),
                                   "scheduling.dispatch.order[2]", "names 'nowhere', which is not a region"),
    "manager in dispatch": (lambda d: d["scheduling"]["dispatch"]["order"].insert(0, "manager"),
                            "scheduling.dispatch.order[0]", "names the manager 'manager': the manager is not its own"),
    "worker twice": (lambda d: d["scheduling"]["dispatch"]["order"].append("eastus2"),
                     "scheduling.dispatch.order[2]", "names 'eastus2' twice"),
    "manager as failover peer": (lambda d: d["regions"][1].update(failoverPeers=["manager"]),
                                 "regions[1].failoverPeers", "names the manager 'manager' as a failover peer"),
    "only a manager": (lambda d: (d["regions"].__delitem__(slice(1, None)),
                                  d["scheduling"].pop("dispatch")), "regions[0].role", "at least one worker region"),
    "queue twice": (lambda d: d["scheduling"]["queues"].append({"name": "gpu-batch", "namespace": "ray"}),
                    "scheduling.queues[1]", "queue ray/gpu-batch is listed twice"),
    "unknown engine": (lambda d: d["scheduling"].update(engine="volcano"), "scheduling.engine",
                       "does not match the fleet schema: 'multikueue' was expected"),
    "bad timeout": (lambda d: d["scheduling"].update(workerLostTimeout="15 minutes"), "scheduling.workerLostTimeout",
                    "does not match the fleet schema"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_line_naming_file_and_field(tmp_path, case) -> None:
    mutate, field, message = CASES[case]
    data = base()
    mutate(data)
    path = write(tmp_path, data)
    before = path.read_text()
    with pytest.raises(InputError) as caught:
        load_fleet(path)
    assert caught.value.field == field
    assert message in caught.value.message
    assert caught.value.line is not None
    result = CliRunner().invoke(main, ["plan", str(path), "--no-capacity"])
    assert result.exit_code == 2
    assert result.output.startswith(f"rayfleet: error: {path}:") and result.output.count("\n") == 1
    assert path.read_text() == before


@pytest.mark.parametrize(("vm_sizes", "families"), [
    ({}, {"standardDDSv5Family": 16, "Standard NCADS_A100_v4 Family": 0}),  # a GPU family at 0 vCPUs
    ({"Standard_NX8_Custom": {"vcpus": 8, "gpus": 0, "family": "Standard NX Custom Family"}},
     {"Standard NX Custom Family": 8}),  # a fleet size without GPUs
])
def test_a_manager_may_declare_cpu_quota_and_gpu_families_at_zero(tmp_path, vm_sizes, families) -> None:
    data = base()
    if vm_sizes:
        data["vmSizes"] = vm_sizes
    data["regions"][0]["quota"] = {"families": families}
    fleet = load_fleet(write(tmp_path, data))
    assert fleet.manager is not None and dict(fleet.manager.quota.families) == families
