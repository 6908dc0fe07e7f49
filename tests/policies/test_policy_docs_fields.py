"""``rayfleet policies --format json`` (report/policy_docs.py): every field of every policy, read
back from the registry, and the layout of the document."""

from __future__ import annotations

import json

from rayfleet.admission.docs import admission_column
from rayfleet.policies import ALL_POLICIES
from rayfleet.report.policy_docs import format_policies_json


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_policies_json_every_field_in_registry_order():
    text = format_policies_json(ALL_POLICIES)
    assert text.startswith('{\n  "policies": [\n    {\n      "id": ') and text.endswith("\n}\n")
    entries = json.loads(text)["policies"]
    assert [e["id"] for e in entries] == [p.id for p in ALL_POLICIES]
    kinds = set()
    for policy, entry in zip(ALL_POLICIES, entries, strict=True):
        column = admission_column(policy)
        kinds.add(column)
        expected = {"id": policy.id, "title": _one_line(policy.title), "severity": policy.severity.value,
                    "scope": policy.scope.value, "rationale": _one_line(policy.rationale),
                    "remediation": _one_line(policy.remediation), "references": list(policy.references),
                    "needsFleet": policy.needs_fleet, "admission": column}
        # only a policy with no admission twin says why not
        assert {k: v for k, v in entry.items() if k != "admissionNotExported"} == expected, policy.id
        assert ("admissionNotExported" in entry) is (column == "no"), policy.id
        if column == "no":
            assert entry["admissionNotExported"].strip(), policy.id
    assert {"yes", "no"} <= kinds  # both branches are reached
