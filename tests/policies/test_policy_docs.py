"""docs/policies.md is generated from the registry and kept in step with it."""

from __future__ import annotations

from pathlib import Path

from rayfleet.policies import ALL_POLICIES
from rayfleet.report.policy_docs import format_policy_docs

DOC = Path(__file__).parents[2] / "docs" / "policies.md"


def test_docs_match_the_registry() -> None:
    assert DOC.read_text() == format_policy_docs(ALL_POLICIES), (
        "docs/policies.md is stale: regenerate it with `rayfleet policies --format markdown > docs/policies.md`")


def test_docs_list_every_policy_once() -> None:
    text = format_policy_docs(ALL_POLICIES)
    for policy in ALL_POLICIES:
        assert text.count(f"\n### {policy.id}\n") == 1
