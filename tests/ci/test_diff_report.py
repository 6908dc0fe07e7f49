"""``rayfleet diff``'s three renderings (rayfleet.report.diff), on a hand-built diff that reaches
every branch: a changed object with more fields than shown and one without, added and removed
objects, region and fleet notes, new, fixed and waived findings with and without an object or a
path, an unchanged region, a region whose only finding was fixed, a fleet-wide finding, values
that are absent, non-ASCII, or carry Markdown's ``|``, backticks and newlines.

Every expected output below is written out by hand from the format's description (text: one
block per region; Markdown: the summary table, then a ``<details>`` per region that changes;
JSON: the documented document, indented by 2), not copied from the renderer."""

from __future__ import annotations

import json
from datetime import date

from rayfleet.diff import ABSENT, FieldChange, FleetDiff, ObjectChange, RegionDiff
from rayfleet.findings import Finding, ObjectRef, Severity, Suppression
from rayfleet.report.diff import FORMATTERS, format_json, format_markdown, format_text

WAIVED = Suppression(reason="accepted until the quota rises", owner="ml-platform", expires=date(2027, 1, 31),
                     waiver_index=0)
PINNED = Finding("image-pinned", Severity.ERROR, "image not pinned", "pin it", region="eastus2",
                 obj=ObjectRef("v1", "Pod", "ray", "p1"), path="spec.containers[0].image")
QUOTA = Finding("quota", Severity.WARNING, "near the quota | 90%", "", region="eastus2", suppressed=WAIVED)
BLOB = Finding("blob-access", Severity.INFO, "m4", "", region="northeurope", path="spec.x")
CLUSTERS = Finding("unique-cluster-names", Severity.INFO, "two regions share a cluster name", "",
                   obj=ObjectRef("v1", "Namespace", None, "ray"))


def _diff() -> FleetDiff:
    cluster = ObjectChange("RayCluster", "ray", "ray-cluster", "changed", fields=[
        FieldChange("spec.a", 4, 6),
        FieldChange("spec.b", ABSENT, {"zoné": [1]}),
        FieldChange("spec.c", "a|b`c\nd", ABSENT),
    ], more_fields=2)
    config = ObjectChange("ConfigMap", "ray", "cm", "changed", fields=[FieldChange("data.k", "a", "b")])
    eastus2 = RegionDiff("eastus2", "changed", objects=[
        cluster, config, ObjectChange("Namespace", None, "ray", "added"), ObjectChange("Pod", "ray", "old", "removed"),
    ], new_findings=[PINNED], fixed_findings=[QUOTA], notes=["values file moved"])
    return FleetDiff("HEAD~1", regions=[eastus2, RegionDiff("westus3", "unchanged"),
                                        RegionDiff("northeurope", "added", fixed_findings=[BLOB])],
                     fleet_new_findings=[CLUSTERS], notes=["the base has no fleet.lock"])


def _unchanged() -> FleetDiff:
    return FleetDiff("main", regions=[RegionDiff("eastus2", "unchanged")])


def test_text_shows_every_region_object_field_and_finding():
    assert format_text(_diff()) == "\n".join([
        "rayfleet diff: HEAD~1 -> working tree",
        "note: the base has no fleet.lock",
        "",
        "eastus2 (changed): 1 added, 1 removed, 2 changed",
        "  note: values file moved",
        "  ~ RayCluster/ray/ray-cluster",
        "      spec.a: 4 -> 6",
        '      spec.b: (absent) -> {"zoné": [1]}',
        "      spec.c: a|b`c\nd -> (absent)",
        "      … and 2 more fields",
        "  ~ ConfigMap/ray/cm",
        "      data.k: a -> b",
        "  + Namespace/ray (added)",
        "  - Pod/ray/old (removed)",
        "  new finding: error image-pinned Pod/ray/p1 spec.containers[0].image: image not pinned",
        "  gone finding: warning quota: near the quota | 90% (waived)",
        "",
        "westus3 (unchanged): no object changes",
        "",
        "northeurope (added): no object changes",
        "  gone finding: info blob-access spec.x: m4",
        "",
        "fleet",
        "  new finding: info unique-cluster-names Namespace/ray: two regions share a cluster name",
    ]) + "\n"


def test_text_fleet_section_with_only_fixed_findings_and_no_change():
    only_fixed = FleetDiff("main", regions=[RegionDiff("eastus2", "unchanged")], fleet_fixed_findings=[CLUSTERS])
    assert format_text(only_fixed).splitlines()[-3:] == [
        "", "fleet", "  gone finding: info unique-cluster-names Namespace/ray: two regions share a cluster name"]
    assert format_text(_unchanged()) == ("rayfleet diff: main -> working tree\n\n"
                                         "eastus2 (unchanged): no object changes\n\nno region changes\n")


def test_markdown_table_details_and_escaped_cells():
    assert format_markdown(_diff()) == "\n".join([
        "## rayfleet diff: `HEAD~1` → this change",
        "",
        "> the base has no fleet.lock",
        "| Region | Status | Objects added | removed | changed | New findings | Fixed findings |",
        "|---|---|---|---|---|---|---|",
        "| eastus2 | changed | 1 | 1 | 2 | 1 | 1 |",
        "| westus3 | unchanged | 0 | 0 | 0 | 0 | 0 |",
        "| northeurope | added | 0 | 0 | 0 | 0 | 1 |",
        "",
        "<details><summary><b>eastus2</b>: changed</summary>",
        "",
        "> values file moved",
        "- **changed** `RayCluster/ray/ray-cluster`",
        "",
        "  | Field | Before | After |",
        "  |---|---|---|",
        "  | `spec.a` | `4` | `6` |",
        '  | `spec.b` | `(absent)` | `{"zoné": [1]}` |',
        "  | `spec.c` | `` a\\|b`c⏎d `` | `(absent)` |",
        "  | … and 2 more fields | | |",
        "",
        "- **changed** `ConfigMap/ray/cm`",
        "",
        "  | Field | Before | After |",
        "  |---|---|---|",
        "  | `data.k` | `a` | `b` |",
        "",
        "- **added** `Namespace/ray`",
        "- **removed** `Pod/ray/old`",
        "",
        "Findings:",
        "",
        "- 🆕 `error image-pinned Pod/ray/p1 spec.containers[0].image: image not pinned`",
        "- ✅ fixed: `warning quota: near the quota \\| 90% (waived)`",
        "",
        "</details>",
        "",
        "<details><summary><b>northeurope</b>: added</summary>",
        "",
        "",
        "Findings:",
        "",
        "- ✅ fixed: `info blob-access spec.x: m4`",
        "",
        "</details>",
        "",
        "**Fleet-wide findings**",
        "",
        "- 🆕 `info unique-cluster-names Namespace/ray: two regions share a cluster name`",
    ]) + "\n"


def test_markdown_of_an_unchanged_fleet_and_of_fleet_fixes_only():
    assert format_markdown(_unchanged()) == "\n".join([
        "## rayfleet diff: `main` → this change",
        "",
        "| Region | Status | Objects added | removed | changed | New findings | Fixed findings |",
        "|---|---|---|---|---|---|---|",
        "| eastus2 | unchanged | 0 | 0 | 0 | 0 | 0 |",
        "",
        "No region's release changes.",
    ]) + "\n"
    only_fixed = FleetDiff("main", regions=[RegionDiff("eastus2", "unchanged")], fleet_fixed_findings=[CLUSTERS])
    assert format_markdown(only_fixed).splitlines()[-3:] == [
        "**Fleet-wide findings**", "",
        "- ✅ fixed: `info unique-cluster-names Namespace/ray: two regions share a cluster name`"]


def _finding(policy, severity, region, obj, path, message, waived):
    return {"policy": policy, "severity": severity, "region": region, "object": obj, "path": path,
            "message": message, "waived": waived}


def test_json_document_has_every_field():
    pinned = _finding("image-pinned", "error", "eastus2", "Pod/ray/p1", "spec.containers[0].image",
                      "image not pinned", False)
    quota = _finding("quota", "warning", "eastus2", None, "", "near the quota | 90%", True)
    expected = {
        "base": "HEAD~1", "changed": True, "notes": ["the base has no fleet.lock"],
        "regions": [
            {"name": "eastus2", "status": "changed", "notes": ["values file moved"], "objects": [
                {"kind": "RayCluster", "namespace": "ray", "name": "ray-cluster", "status": "changed", "fields": [
                    {"path": "spec.a", "before": {"value": 4}, "after": {"value": 6}},
                    {"path": "spec.b", "before": {"absent": True}, "after": {"value": {"zoné": [1]}}},
                    {"path": "spec.c", "before": {"value": "a|b`c\nd"}, "after": {"absent": True}},
                ], "moreFields": 2},
                {"kind": "ConfigMap", "namespace": "ray", "name": "cm", "status": "changed",
                 "fields": [{"path": "data.k", "before": {"value": "a"}, "after": {"value": "b"}}], "moreFields": 0},
                {"kind": "Namespace", "namespace": None, "name": "ray", "status": "added", "fields": [],
                 "moreFields": 0},
                {"kind": "Pod", "namespace": "ray", "name": "old", "status": "removed", "fields": [],
                 "moreFields": 0},
            ], "newFindings": [pinned], "fixedFindings": [quota]},
            {"name": "westus3", "status": "unchanged", "notes": [], "objects": [], "newFindings": [],
             "fixedFindings": []},
            {"name": "northeurope", "status": "added", "notes": [], "objects": [], "newFindings": [],
             "fixedFindings": [_finding("blob-access", "info", "northeurope", None, "spec.x", "m4", False)]},
        ],
        "fleetNewFindings": [_finding("unique-cluster-names", "info", None, "Namespace/ray", "",
                                      "two regions share a cluster name", False)],
        "fleetFixedFindings": [],
    }
    output = format_json(_diff())
    assert json.loads(output) == expected
    # Indented by 2 for people reading it in a CI log; non-ASCII escaped (plain JSON for any tool).
    assert output == json.dumps(expected, indent=2) + "\n"
    unchanged = json.loads(format_json(_unchanged()))
    assert unchanged["changed"] is False and unchanged["regions"][0]["status"] == "unchanged"


def test_formatters_by_name():
    assert {"text": format_text, "markdown": format_markdown, "json": format_json} == FORMATTERS
