"""The federated credential plan on a terminal (rayfleet.report.identity_table): the one-line table
when it fits (at its exact width too), else one stacked record per credential, the per-identity
counts and the notes with hanging indents. Expected texts are worked out by hand."""

from __future__ import annotations

from rayfleet.identity import IdentityPlan
from rayfleet.report.identity import format_table
from rayfleet.report.identity_table import format_identity_table
from rayfleet.subjects import PlannedCredential

ISSUER = "https://eastus2.oic.prod-aks.azure.com/t/1/"
EAST = PlannedCredential("eastus2", "cid-1", "id-ray", None, None, None, ISSUER, "ray", "ray-worker",
                         "eastus2-ray-ray-worker")
# The same identity (client IDs compare without case), not listed under westus3: no name there; no issuer.
WEST = PlannedCredential("westus3", "CID-1", None, None, None, None, None, "ray", "ray-worker",
                         "westus3-ray-ray-worker")
NOTE = "westus3 has no cluster.oidcIssuerUrl: its issuer is unknown"
PLAN = IdentityPlan((EAST, WEST), (NOTE,))


def test_the_table_when_it_fits_even_exactly():
    table = format_table(PLAN)
    widest = max(len(line) for line in table.splitlines())
    assert format_identity_table(PLAN, widest) == table
    assert format_identity_table(PLAN, widest + 40) == table
    assert format_identity_table(PLAN, widest - 1) != table


def test_stacked_records_when_it_does_not():
    # Labels padded to "subject:" (8) then a space: values at column 11.
    assert format_identity_table(PLAN, 60) == "\n".join([
        "eastus2  ray/ray-worker -> id-ray",
        "  subject: system:serviceaccount:ray:ray-worker",
        f"  issuer:  {ISSUER}",
        "  name:    eastus2-ray-ray-worker",
        "westus3  ray/ray-worker -> CID-1",  # no identity name: the client ID
        "  subject: system:serviceaccount:ray:ray-worker",
        "  issuer:  (unknown)",
        "  name:    westus3-ray-ray-worker",
        "",
        "id-ray (cid-1): 2 of 20 federated credentials",  # named after the identity's first credential
        "note: westus3 has no cluster.oidcIssuerUrl: its issuer is",  # 57 columns; " unknown" would make 65
        "      unknown",
    ]) + "\n"


def test_narrow_records_wrap_with_hanging_indents():
    # 30 columns: headings continue indented 4, the count line 4, the note 6; long words stay whole.
    assert format_identity_table(PLAN, 30) == "\n".join([
        "eastus2  ray/ray-worker ->",
        "    id-ray",
        "  subject: system:serviceaccount:ray:ray-worker",
        f"  issuer:  {ISSUER}",
        "  name:    eastus2-ray-ray-worker",
        "westus3  ray/ray-worker ->",
        "    CID-1",
        "  subject: system:serviceaccount:ray:ray-worker",
        "  issuer:  (unknown)",
        "  name:    westus3-ray-ray-worker",
        "",
        "id-ray (cid-1): 2 of 20",
        "    federated credentials",
        "note: westus3 has no",
        "      cluster.oidcIssuerUrl:",
        "      its issuer is unknown",
    ]) + "\n"


def test_an_empty_plan_on_a_narrow_terminal():
    # Nothing to count: no blank line before the notes.
    assert format_identity_table(IdentityPlan((), ("no region has a ServiceAccount",)), 40) == (
        "\nnote: no region has a ServiceAccount\n")
