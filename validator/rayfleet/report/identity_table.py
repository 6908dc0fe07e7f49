"""The federated credential plan as terminal text that fits: the one-line-per-credential table
(``rayfleet.identity.format_table``) when it fits, else one stacked record per credential."""

from __future__ import annotations

from ..identity import MAX_CREDENTIALS_PER_IDENTITY, IdentityPlan
from .identity import format_table
from .layout import hanging, records


def format_identity_table(plan: IdentityPlan, width: int) -> str:
    table = format_table(plan)
    if max((len(line) for line in table.splitlines()), default=0) <= width:
        return table
    items = [(f"{c.region}  {c.namespace}/{c.service_account} -> {c.identity_name or c.client_id}",
              [("subject", c.subject), ("issuer", c.issuer or "(unknown)"), ("name", c.name)])
             for c in plan.credentials]
    lines = [records(items, width, compact=False).rstrip("\n")]
    counts = plan.by_identity()
    if counts:
        lines.append("")
        lines += [hanging(f"{creds[0].identity_label}: {len(creds)} of {MAX_CREDENTIALS_PER_IDENTITY} federated "
                          "credentials", width, 4) for creds in counts.values()]
    lines += [hanging(f"note: {n}", width, 6) for n in plan.notes]
    return "\n".join(lines) + "\n"
