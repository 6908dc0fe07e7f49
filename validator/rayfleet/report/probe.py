"""``rayfleet identity probe``: the probe's steps as text and as JSON."""

from __future__ import annotations

import json
from typing import Any

from ..azure.probe import ProbeResult, ProbeStep


def step_to_dict(step: ProbeStep) -> dict[str, Any]:
    return {"name": step.name, "status": step.status, "detail": step.detail, "cause": step.cause}


def probe_to_dict(result: ProbeResult) -> dict[str, Any]:
    return {"ok": result.ok, "steps": [step_to_dict(s) for s in result.steps], "claims": result.claims}


def format_probe_json(result: ProbeResult) -> str:
    return json.dumps(probe_to_dict(result), indent=2)


def format_probe(result: ProbeResult) -> str:
    """The probe as text: one line per step, the likely cause under a failed one."""
    marks = {"ok": "[ok]  ", "fail": "[FAIL]", "skip": "[skip]"}
    lines = []
    for step in result.steps:
        lines.append(f"{marks[step.status]} {step.name}: {step.detail}")
        if step.cause:
            lines.append(f"       likely cause: {step.cause}")
    failed = [s.name for s in result.steps if s.status == "fail"]
    lines.append(f"probe failed at: {failed[0]}" if failed else "probe passed: workload identity works")
    return "\n".join(lines)
