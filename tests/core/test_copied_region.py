"""The fleet file is the truth: a region copied from another the way a user would (new name and
facts in the fleet file, the old region's values file copied unchanged) fails validate with an
error for every stale value, naming the values file line to change and the fleet file line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .helpers import copy_example, run_cli

CENTRALUS = {
    "name": "centralus",
    "cluster": "rayfleet-cus",
    "client_id": "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f84",
    "account": "rayfleetcusdata",
    "group": "rg-rayfleet-cus",
}
EASTUS2 = {  # what examples/values/regions/eastus2.yaml says
    "name": "eastus2",
    "cluster": "rayfleet-eus2",
    "client_id": "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61",
    "account": "rayfleeteus2data",
    "group": "rg-rayfleet-eus2",
}


def _region_entry(declare_identity_and_storage: bool = True) -> str:
    entry = f"""
  - name: centralus
    location: centralus
    cluster:
      name: {CENTRALUS['cluster']}
      resourceGroup: rg-rayfleet-cus
      kubeContext: {CENTRALUS['cluster']}
      kubernetesVersion: "1.33"
      oidcIssuerUrl: https://centralus.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a65/
"""
    if declare_identity_and_storage:
        entry += f"""    identities:
      - name: id-rayfleet-cus
        clientId: {CENTRALUS['client_id']}
        resourceGroup: {CENTRALUS['group']}
    storage: {{account: {CENTRALUS['account']}, location: centralus, resourceGroup: {CENTRALUS['group']}}}
"""
    return entry + """    quota:
      families: {StandardNCadsH100v5Family: 400, standardDDSv5Family: 200}
      regionalVCpus: 600
    valuesFiles: [values/regions/centralus.yaml]
    wave: 3
    failoverPeers: [eastus2]
"""


def add_copied_region(tmp_path: Path, *, declare_identity_and_storage: bool = True) -> Path:
    """The example fleet plus centralus, whose values file is eastus2's, copied unchanged."""
    fleet = copy_example(tmp_path)
    text = fleet.read_text()
    # The new entry goes first under regions: (wherever the file's other top-level keys are).
    fleet.write_text(text.replace("\nregions:\n", "\nregions:" + _region_entry(declare_identity_and_storage), 1))
    regions = fleet.parent / "values" / "regions"
    shutil.copy(regions / "eastus2.yaml", regions / "centralus.yaml")
    return fleet


def join_the_manager(fleet: Path) -> None:
    """What a new worker asks of the MultiKueue manager's values: dispatch to it, and a quota that is
    the workers' sum again (centralus brings eastus2's: gpu 72 CPUs/560Gi/2 GPUs, cpu 32/128Gi)."""
    manager = fleet.parent / "values" / "regions" / "manager.yaml"
    text = manager.read_text()
    for old, new in (('quota: {cpu: "124", memory: 1020Gi, gpu: 8}', 'quota: {cpu: "196", memory: 1580Gi, gpu: 10}'),
                     ('quota: {cpu: "80", memory: 320Gi, gpu: 0}', 'quota: {cpu: "112", memory: 448Gi, gpu: 0}'),
                     # first: the copy was added first under regions:, the default dispatch order
                     ("      - {name: eastus2, displayName: rayfleet-eus2}\n",
                      "      - {name: centralus, displayName: rayfleet-cus}\n"
                      "      - {name: eastus2, displayName: rayfleet-eus2}\n")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    manager.write_text(text)


def line_of(path: Path, pattern: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and re.search(pattern, line))


def validate_json(fleet: Path) -> tuple[int, list[dict]]:
    result = run_cli("validate", fleet, "--report", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)["findings"]


def errors_of(findings: list[dict], region: str = "centralus") -> list[dict]:
    return [f for f in findings if f["severity"] == "error" and f["region"] == region]


def test_a_copied_region_fails_with_every_stale_value_and_where_to_change_it(tmp_path: Path) -> None:
    fleet = add_copied_region(tmp_path)
    values = fleet.parent / "values" / "regions" / "centralus.yaml"
    code, findings = validate_json(fleet)
    assert code == 1
    errors = errors_of(findings)
    shown = "values/regions/centralus.yaml"

    def finding(policy: str, key_line: int, stale: str, fleet_key: str) -> dict:
        hits = [f for f in errors if f["policy"] == policy and f["source"]["file"].endswith(shown)
                and f["source"]["line"] == key_line and stale in f["message"]]
        assert hits, f"no {policy} error at {shown}:{key_line} naming {stale!r}: {errors}"
        fleet_line = line_of(fleet, re.escape(fleet_key), after=line_of(fleet, "- name: centralus") - 1)
        assert all(f"line {fleet_line} " in f["message"] for f in hits), (fleet_line, hits)
        return hits[0]

    # Each stale value: the values line where it is set, the fleet file line of the truth.
    finding("region-identity-match", line_of(values, r"^\s+clientId:"), EASTUS2["client_id"],
            "identities:")
    finding("region-storage-match", line_of(values, r"^\s+account:"), EASTUS2["account"],
            f"storage: {{account: {CENTRALUS['account']}")
    finding("region-storage-match", line_of(values, r"^\s+resourceGroup:"), EASTUS2["group"],
            f"storage: {{account: {CENTRALUS['account']}")
    finding("region-cluster-match", line_of(values, r"^\s+clusterName:"), EASTUS2["cluster"],
            f"  name: {CENTRALUS['cluster']}")
    finding("region-cluster-match", line_of(values, r"^\s+region:"), "global.region", "- name: centralus")
    finding("region-cluster-match", line_of(values, r"^\s+location:"), "global.location",
            "location: centralus")
    # The identity and the storage are recognised as eastus2's, which says what went wrong.
    assert any("of region 'eastus2'" in f["message"] for f in errors if f["policy"] == "region-identity-match")
    assert any("of region 'eastus2'" in f["message"] for f in errors if f["policy"] == "region-storage-match")
    # The original GPU regions are not blamed for the copy; the MultiKueue manager is, for what a
    # new worker asks of it (its quota is the workers' sum, it must dispatch to the new worker).
    others = {(f["region"], f["policy"]) for f in findings if f["severity"] == "error" and f["region"] != "centralus"}
    assert others == {("manager", "kueue-manager-quota-sum"), ("manager", "kueue-workers-match-fleet")}


def test_the_copied_region_passes_once_its_values_are_its_own(tmp_path: Path) -> None:
    fleet = add_copied_region(tmp_path)
    values = fleet.parent / "values" / "regions" / "centralus.yaml"
    text = values.read_text()
    for key in ("client_id", "account", "group", "cluster"):
        text = text.replace(EASTUS2[key], CENTRALUS[key])
    values.write_text(text.replace("eastus2", "centralus"))
    join_the_manager(fleet)
    code, findings = validate_json(fleet)
    assert [f"{f['policy']}: {f['message']}" for f in findings if f["severity"] == "error"] == []
    assert code == 0


def test_a_copied_region_without_identities_or_storage_is_an_error(tmp_path: Path) -> None:
    """The case the issue reports: no identities entry at all, no storage: today's note becomes errors."""
    fleet = add_copied_region(tmp_path, declare_identity_and_storage=False)
    code, findings = validate_json(fleet)
    assert code == 1
    by_policy = {f["policy"]: f for f in errors_of(findings)}
    region_line = line_of(fleet, r"- name: centralus")
    declared = by_policy["region-identity-declared"]
    assert (Path(declared["source"]["file"]).name, declared["source"]["line"]) == ("fleet.yaml", region_line)
    assert EASTUS2["client_id"] in declared["message"] and "values/regions/centralus.yaml:" in declared["message"]
    storage = by_policy["region-storage-match"]
    assert "declares no storage" in storage["message"] and EASTUS2["account"] in storage["message"]


def test_a_quota_error_names_the_override_that_raised_max_replicas(tmp_path: Path) -> None:
    """Errors point at the cause: the override file and line, and what it overrode, not only the quota."""
    fleet = copy_example(tmp_path)
    override = fleet.parent / "values" / "overrides" / "platform-team.yaml"
    override.write_text(override.read_text().replace("maxReplicas: 8", "maxReplicas: 30"))
    code, findings = validate_json(fleet)
    assert code == 1
    [quota] = [f for f in findings if f["policy"] == "gpu-quota-fit" and f["region"] == "eastus2"
               and "family StandardNCadsH100v5Family" in f["message"]]
    assert (Path(quota["source"]["file"]).name, quota["source"]["line"]) == (
        "fleet.yaml", line_of(fleet, "StandardNCadsH100v5Family: 400"))
    region_file = fleet.parent / "values" / "regions" / "eastus2.yaml"
    gpu_max = line_of(region_file, r"maxReplicas:", after=line_of(region_file, r"^\s+gpu:"))
    assert (f"maxReplicas 30 is set by ray-cluster.workerGroups.gpu.maxReplicas at "
            f"{_shown(override)}:{line_of(override, 'maxReplicas: 30')} "
            f"(over 4 at {_shown(region_file)}:{gpu_max})") in quota["message"]


def _shown(path: Path) -> str:
    """A path as rayfleet shows it: relative to the current folder when it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
