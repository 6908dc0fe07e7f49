"""JUnit XML for CI dashboards: a test suite per region, a test case per (region, policy).

Only errors fail a case; warnings and info are counted in the case's properties and described in
its system-out, so a run that passes ``validate`` is green on the dashboard too.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..findings import Finding, Severity
from ..policies import get_policy
from ..policies.base import Scope
from ..result import Result
from .common import FLEET_GROUP, where


def _describe(finding: Finding) -> str:
    parts = [f"[{finding.severity.value}] {finding.message}"]
    if finding.obj:
        parts.append(f"  object: {finding.obj}" + (f" at {finding.path}" if finding.path else ""))
    location = where(finding)
    if location:
        parts.append(f"  source: {location}")
    parts.append(f"  fix: {finding.remediation}")
    return "\n".join(parts)


def format_result(result: Result) -> str:
    regions = [r.name or "scan" for r in result.regions]
    if any(f.region is None for f in result.findings) or not regions:
        regions.append(FLEET_GROUP)
    root = ET.Element("testsuites", name="rayfleet")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for region in regions:
        suite = ET.SubElement(root, "testsuite", name=region)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        policies = [p for p in result.policies
                    if (region == FLEET_GROUP) == (p.scope in (Scope.FLEET,)) or p.scope is Scope.PIPELINE]
        if region == regions[0]:  # what did not run (e.g. fleet policies in scan) shows as skipped, once
            policies += [get_policy(i) for i in result.skipped_policies]
        for policy in policies:
            found = [f for f in result.findings if f.policy == policy.id
                     and (f.region or FLEET_GROUP) == (region if region != "scan" else FLEET_GROUP)]
            if region == FLEET_GROUP and policy.scope is Scope.PIPELINE and not found:
                continue
            case = ET.SubElement(suite, "testcase", classname=f"rayfleet.{region}", name=policy.id)
            counts["tests"] += 1
            counting = [f for f in found if f.counts]
            errors = [f for f in counting if f.severity is Severity.ERROR]
            notices = [f for f in counting if f.severity is not Severity.ERROR]
            if policy.id in result.skipped_policies:
                ET.SubElement(case, "skipped", message=result.skip_reason)
                counts["skipped"] += 1
            elif errors:
                failure = ET.SubElement(case, "failure", type=Severity.ERROR.value,
                                        message=f"{len(errors)} error(s): {errors[0].message}")
                failure.text = "\n\n".join(_describe(f) for f in errors)
                counts["failures"] += 1
            # Warnings and info pass the case (a passing run must not show red in a CI dashboard):
            # counted as properties, described in system-out.
            if notices:
                properties = ET.SubElement(case, "properties")
                for severity in (Severity.WARNING, Severity.INFO):
                    number = sum(1 for f in notices if f.severity is severity)
                    if number:
                        ET.SubElement(properties, "property", name=f"rayfleet.{severity.value}", value=str(number))
            waived = [f for f in found if not f.counts]
            out_lines = [_describe(f) for f in notices]
            out_lines += [f"waived: {f.message} ({f.suppressed.reason})" for f in waived if f.suppressed]
            if out_lines:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(out_lines)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
