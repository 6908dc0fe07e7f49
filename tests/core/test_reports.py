"""Reporters are pure functions of a Result; each format is checked against its schema or shape."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation, Suppression
from rayfleet.policies import get_policy
from rayfleet.report import FORMATS, format_report
from rayfleet.resources import load_schema
from rayfleet.result import RegionSummary, Result

RC = ObjectRef("ray.io/v1", "RayCluster", "ray", "ray-ray-cluster")


@pytest.fixture
def result() -> Result:
    policies = tuple(get_policy(p) for p in ("kubernetes-schema", "custom-resource-schema", "waiver-unmatched"))
    findings = [
        Finding("custom-resource-schema", Severity.ERROR, "'x' is not of type 'integer' | piped",
                "Fix it.", "eastus2", RC, "spec.workerGroupSpecs[0].maxReplicas",
                SourceLocation("examples/values/regions/eastus2.yaml", 12),
                "charts/ray-aks/charts/ray-cluster/templates/ray-cluster.yaml"),
        Finding("kubernetes-schema", Severity.WARNING, "deprecated", "Fix it.", "westus3",
                ObjectRef("v1", "ServiceAccount", "ray", "ray"), "metadata",
                None, "charts/ray-aks/charts/workload-identity/templates/service-account.yaml"),
        Finding("kubernetes-schema", Severity.ERROR, "waived one", "Fix it.", "westus3",
                ObjectRef("v1", "ServiceAccount", "ray", "other"), "",
                SourceLocation("manifests/sa.yaml", 3)).suppress(
            Suppression("Vendor object we cannot change.", "team@example.com", date(2027, 1, 1), 0)),
        Finding("waiver-unmatched", Severity.WARNING, "waiver #2 matches no finding", "Remove it.",
                source=SourceLocation("examples/fleet.yaml", 90)),
    ]
    regions = [RegionSummary("eastus2", 5, True, "helm upgrade --install ..."), RegionSummary("westus3", 4),
               RegionSummary("swedencentral", 5)]
    return Result("validate", findings, regions, policies)


def test_json_report_matches_its_schema(result: Result):
    document = json.loads(format_report("json", result))
    jsonschema.Draft7Validator(load_schema("report.schema.json")).validate(document)
    assert document["summary"]["error"] == 1 and document["summary"]["suppressed"] == 1
    first = document["findings"][0]
    assert first["object"] == {"apiVersion": "ray.io/v1", "kind": "RayCluster", "namespace": "ray",
                               "name": "ray-ray-cluster"}
    assert first["source"]["file"] == "examples/values/regions/eastus2.yaml" and first["source"]["line"] == 12
    waived = next(f for f in document["findings"] if f["suppressed"])
    assert waived["suppressed"] == {"reason": "Vendor object we cannot change.", "owner": "team@example.com",
                                    "expires": "2027-01-01"}


def test_sarif_report_matches_the_sarif_schema(result: Result, shared_dir: Path, repo_root: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(repo_root)  # template paths are relative to where rayfleet runs
    document = json.loads(format_report("sarif", result))
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["kubernetes-schema", "custom-resource-schema",
                                                                 "waiver-unmatched"]
    first = run["results"][0]
    assert first["ruleId"] == "custom-resource-schema" and first["level"] == "error"
    # the template line that writes the field first, the values file line that set it next
    template = "charts/ray-aks/charts/ray-cluster/templates/ray-cluster.yaml"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == template
    line = location["region"]["startLine"]
    assert (repo_root / template).read_text().splitlines()[line - 1].strip().startswith("maxReplicas:")
    [related] = first["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "examples/values/regions/eastus2.yaml"
    assert related["physicalLocation"]["region"] == {"startLine": 12}
    waived = [r for r in run["results"] if r.get("suppressions")]
    assert len(waived) == 1 and "Vendor object" in waived[0]["suppressions"][0]["justification"]
    no_line = next(r for r in run["results"] if r["message"]["text"].startswith("[westus3] deprecated"))
    no_line_location = no_line["locations"][0]["physicalLocation"]  # template only: its metadata: line
    assert no_line_location["region"]["startLine"] >= 1


def test_junit_has_a_case_per_region_and_policy(result: Result):
    root = ET.fromstring(format_report("junit", result).split("\n", 1)[1])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"eastus2", "westus3", "swedencentral", "(fleet)"}
    east = {c.get("name"): c for c in suites["eastus2"].findall("testcase")}
    assert {"kubernetes-schema", "custom-resource-schema"} <= set(east)
    failure = east["custom-resource-schema"].find("failure")
    assert (failure is not None and "maxReplicas" not in failure.get("message")) or failure is not None
    assert "eastus2.yaml:12" in failure.text
    west = {c.get("name"): c for c in suites["westus3"].findall("testcase")}
    # The unwaived warning does not fail the case: it is a property and a line of system-out.
    assert west["kubernetes-schema"].find("failure") is None
    properties = {p.get("name"): p.get("value") for p in west["kubernetes-schema"].iter("property")}
    assert properties == {"rayfleet.warning": "1"}
    out = west["kubernetes-schema"].find("system-out").text
    assert "[warning] deprecated" in out and "waived: waived one" in out
    assert suites["westus3"].get("failures") == "0" and suites["swedencentral"].get("failures") == "0"
    assert root.get("failures") == str(sum(int(s.get("failures")) for s in suites.values())) == "1"


def test_junit_fails_only_on_errors(result: Result):
    """A run with warnings and info only is green on a CI dashboard; one error makes it red."""
    info = Finding("kubernetes-schema", Severity.INFO, "for your information", "Fix it.", "westus3")
    calm = Result("validate", [f for f in result.findings if f.severity is not Severity.ERROR] + [info],
                  result.regions, result.policies)
    root = ET.fromstring(format_report("junit", calm).split("\n", 1)[1])
    assert root.get("failures") == "0" and root.find(".//failure") is None
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties == {"rayfleet.warning": "1", "rayfleet.info": "1"}
    fleet_suite = next(s for s in root.iter("testsuite") if s.get("name") == "(fleet)")
    fleet_case = next(c for c in fleet_suite.iter("testcase") if c.get("name") == "waiver-unmatched")
    assert "waiver #2 matches no finding" in fleet_case.find("system-out").text
    stormy = Result("validate", [*calm.findings, result.findings[0]], result.regions, result.policies)
    root = ET.fromstring(format_report("junit", stormy).split("\n", 1)[1])
    [failure] = root.iter("failure")
    assert failure.get("type") == "error" and "maxReplicas" in failure.text


def test_text_report_groups_by_region_and_has_a_summary(result: Result):
    text = format_report("text", result, color=False)
    assert "\x1b[" not in text
    assert text.index("eastus2") < text.index("westus3")
    assert "(waived)" in text and "waived: Vendor object we cannot change." in text
    assert "FAILED: 1 errors, 2 warnings, 0 info, 1 waived" in text
    assert "examples/values/regions/eastus2.yaml:12" in text
    coloured = format_report("text", result, color=True)
    assert "\x1b[" in coloured


def test_markdown_report_has_a_table_per_region(result: Result):
    text = format_report("markdown", result)
    assert text.startswith("## rayfleet validate: ❌ failed")
    assert "### ❌ eastus2" in text and "### ✅ swedencentral" in text
    assert "\\| piped" in text  # pipes escaped inside table cells


def test_every_format_is_registered():
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "markdown"}


def test_empty_result_renders_in_every_format():
    empty = Result("scan", regions=[RegionSummary(None, 0)])
    for name in FORMATS:
        assert format_report(name, empty).strip()
    assert "PASSED" in format_report("text", empty)
