"""Terminal output fits 80, 100 and 200 columns: hanging indents, stacked tables, and policy IDs,
paths and URLs never broken or cut (they are copied into waivers and shells)."""

from __future__ import annotations

import re

import pytest
from rayfleet.capacity import capacity_table
from rayfleet.findings import Finding, ObjectRef, Severity, SourceLocation
from rayfleet.fleet import load_fleet
from rayfleet.identity import plan_credentials
from rayfleet.pipeline import render_fleet
from rayfleet.plan import build_plan, format_command
from rayfleet.policies import ALL_POLICIES, FleetView, get_policy
from rayfleet.report.capacity import format_capacity_table
from rayfleet.report.identity_table import format_identity_table
from rayfleet.report.layout import hanging
from rayfleet.report.plan import format_plan_text
from rayfleet.report.text import format_result
from rayfleet.result import RegionSummary, Result

from .helpers import REPO, run_cli

WIDTHS = (80, 100, 200)
EXAMPLE = REPO / "examples" / "fleet.yaml"


def overflowing(text: str, width: int) -> list[str]:
    """Lines wider than ``width`` that a wrapper could have broken: a line may only be wider when
    it is an indent, at most a label, and one word too long to break (a URL, a path)."""
    bad = []
    for line in text.splitlines():
        if len(line) <= width:
            continue
        words = line.split()
        if len(words) <= 2 and len(words[-1]) > width - 20:
            continue
        bad.append(line)
    return bad


def whole(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


@pytest.fixture(scope="module")
def example_view():
    fleet = load_fleet(EXAMPLE)
    renders = render_fleet(fleet)
    return fleet, {name: r.release for name, r in renders.items()}


def long_result() -> Result:
    long_ids = ["workload-identity-service-account", "preflight-workload-identity-webhook", "region-identity-match"]
    policies = tuple(get_policy(p) for p in long_ids)
    message = ("ServiceAccount 'ray' uses client ID 3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61 (identity "
               "'id-rayfleet-eus2' of region 'eastus2'); the fleet file declares identities id-rayfleet-cus "
               "(0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f84) for region 'centralus' at line 95 (regions[3].identities); "
               "set by global.azure.clientId at examples/values/regions/centralus.yaml:7")
    findings = [Finding(p, Severity.ERROR, message, get_policy(p).remediation, "centralus",
                        ObjectRef("v1", "ServiceAccount", "ray", "ray"),
                        'metadata.annotations["azure.workload.identity/client-id"]',
                        SourceLocation("examples/values/regions/centralus.yaml", 7)) for p in long_ids]
    return Result("validate", findings, [RegionSummary("centralus", 5)], policies,
                  notes=["skipped (they need the fleet file): " + ", ".join(p.id for p in ALL_POLICIES)])


@pytest.mark.parametrize("width", WIDTHS)
def test_finding_lines_wrap_with_a_hanging_indent(width: int):
    result = long_result()
    text = format_result(result, width=width)
    assert overflowing(text, width) == []
    assert "…" not in text
    for finding in result.findings:
        assert whole(finding.policy, text)
    assert whole("examples/values/regions/centralus.yaml:7", text)
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "workload-identity-service-account" in line)
    assert lines[first].startswith("  error   workload-identity-service-account  ServiceAccount")
    if width < 200:  # the message continues under the details, not at the margin
        assert lines[first + 1].startswith(" " * 10) and not lines[first + 1].startswith(" " * 11)
    for policy in ALL_POLICIES:  # the skipped-policies note: every ID whole
        assert whole(policy.id, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_capacity_table_fits_or_stacks(example_view, width: int):
    fleet, releases = example_view
    text = format_capacity_table(capacity_table(FleetView(fleet, releases)), width=width)
    assert overflowing(text, width) == []
    assert "…" not in text
    for name in ("eastus2", "swedencentral", "westus3", "StandardNCadsH100v5Family", "H100 NVL 94GB"):
        assert name in text
    gridded = any("region" in line and "after failover" in line for line in text.splitlines())
    assert gridded == (width == 200)  # ~136 columns: a grid at 200, stacked records at 80 and 100
    if not gridded:
        assert "  GPU H100 NVL 94GB · max GPUs 8 · max vCPUs 320 · quota vCPUs 400 · used 80%" in text


@pytest.mark.parametrize("width", [*WIDTHS, 250])
def test_identity_table_fits_or_stacks(example_view, width: int):
    fleet, releases = example_view
    plan = plan_credentials(fleet, releases)
    text = format_identity_table(plan, width)
    assert overflowing(text, width) == []
    for cred in plan.credentials:  # issuer URLs and subjects whole, on a line of their own when stacked
        assert whole(cred.issuer, text) and whole(cred.subject, text) and whole(cred.name, text)
    assert text.startswith("REGION") == (width == 250)  # the one-line table is ~246 columns


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_text_fits_and_keeps_commands_whole(example_view, width: int):
    fleet, releases = example_view
    plan = build_plan(fleet)
    text = format_plan_text(plan, capacity_table(FleetView(fleet, releases)), width=width)
    shown = [format_command(p.command()) for p in plan]
    commands = set(shown)
    assert [line for line in text.splitlines() if line in commands] == shown
    assert overflowing("\n".join(line for line in text.splitlines() if line not in commands), width) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_policies_listing_piped_never_truncates_ids(width: int):
    result = run_cli("policies", env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    assert "…" not in result.output
    missing = [p.id for p in ALL_POLICIES if not whole(p.id, result.output)]
    assert missing == []
    assert overflowing(result.output, width) == []


def test_policies_listing_on_a_very_narrow_terminal_stacks():
    result = run_cli("policies", env={"COLUMNS": "50"})
    assert "\nworkload-identity-service-account\n  error (release) Workload identity pods" in result.output
    assert overflowing(result.output, 50) == []


def test_hanging_never_breaks_a_word():
    url = "https://eastus2.oic.prod-aks.azure.com/" + "x" * 80 + "/"
    wrapped = hanging(f"issuer {url} and more words after it", 40, 4, 2)
    assert url in wrapped.splitlines()[1]
    assert all(line.startswith("    ") for line in wrapped.splitlines()[1:])
