"""The reporters' shared helpers (rayfleet.report.common) and the format switch
(rayfleet.report.format_report), on hand-made findings."""

from __future__ import annotations

import json
from datetime import date

from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation, Suppression
from rayfleet.report import FORMATS, format_report
from rayfleet.report.common import FLEET_GROUP, group_by_region, summary, where
from rayfleet.result import Result

WAIVER = Suppression("known", "team", date(2027, 1, 1), 0)
POD = ObjectRef("v1", "Pod", "ray", "p")


def _finding(policy: str, severity: Severity, region: str | None, **extra) -> Finding:
    return Finding(policy, severity, f"{policy} message", "fix it", region=region, **extra)


FINDINGS = [
    _finding("b-policy", Severity.WARNING, "westus3"),
    _finding("fleet-wide", Severity.ERROR, None),
    _finding("a-policy", Severity.INFO, "eastus2"),
    _finding("c-policy", Severity.ERROR, "westus3", obj=POD),
    _finding("waived", Severity.ERROR, "eastus2", suppressed=WAIVER),
    _finding("also-waived", Severity.WARNING, None, suppressed=WAIVER),
]


def test_group_by_region_sorts_and_puts_fleet_wide_findings_last():
    groups = group_by_region(FINDINGS)
    assert list(groups) == ["eastus2", "westus3", FLEET_GROUP]
    assert FLEET_GROUP == "(fleet)"
    # Within a region the worst first, then by policy.
    assert {k: [f.policy for f in v] for k, v in groups.items()} == {
        "eastus2": ["waived", "a-policy"], "westus3": ["c-policy", "b-policy"],
        FLEET_GROUP: ["fleet-wide", "also-waived"]}
    assert group_by_region([]) == {}


def test_summary_counts_unwaived_findings_by_severity_and_the_waived():
    result = Result("validate", findings=list(FINDINGS))
    assert summary(result) == {"error": 2, "warning": 1, "info": 1, "suppressed": 2}
    assert summary(Result("validate")) == {"error": 0, "warning": 0, "info": 0, "suppressed": 0}


def test_where_a_finding_points():
    assert where(_finding("p", Severity.INFO, "r", source=SourceLocation("values/eastus2.yaml", 12),
                          template="ray-aks/templates/raycluster.yaml")) == "values/eastus2.yaml:12"
    assert where(_finding("p", Severity.INFO, "r", source=SourceLocation("fleet.yaml"))) == "fleet.yaml"
    assert where(_finding("p", Severity.INFO, "r", template="ray-aks/templates/raycluster.yaml")) == (
        "ray-aks/templates/raycluster.yaml")
    assert where(_finding("p", Severity.INFO, "r")) == ""


def test_format_report_gives_colour_to_text_only():
    result = Result("validate", findings=[FINDINGS[3]])
    coloured = format_report("text", result, color=True)
    assert "\x1b[" in coloured and "c-policy" in coloured
    assert "\x1b[" not in format_report("text", result)
    document = json.loads(format_report("json", result, color=True))
    assert [f["policy"] for f in document["findings"]] == ["c-policy"]
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "markdown"}
    for name in FORMATS:
        assert format_report(name, result).strip()
