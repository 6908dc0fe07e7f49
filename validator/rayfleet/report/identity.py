"""The federated credential plan as text: a table, JSON, an ``az`` script (serial: concurrent
writes to one identity fail with 409) and Bicep (chained with ``dependsOn`` for the same reason)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from ..fleet import Fleet
from ..identity import MAX_CREDENTIALS_PER_IDENTITY, IdentityPlan
from ..subjects import PlannedCredential
from ..wellknown import MSI_API_VERSION as FIC_API_VERSION


def format_table(plan: IdentityPlan) -> str:
    """A plain-text table, one credential per line."""
    headers = ("REGION", "IDENTITY", "SUBJECT", "ISSUER", "NAME")
    rows = [(c.region, c.identity_name or c.client_id, c.subject, c.issuer or "(unknown)", c.name)
            for c in plan.credentials]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in (headers, *rows)]
    if not rows:
        lines.append("(no ServiceAccount carries an azure.workload.identity/client-id annotation)")
    counts = plan.by_identity()
    if counts:
        lines.append("")
        for creds in counts.values():
            lines.append(f"{creds[0].identity_label}: {len(creds)} of {MAX_CREDENTIALS_PER_IDENTITY} "
                         "federated credentials")
    lines.extend(f"note: {n}" for n in plan.notes)
    return "\n".join(lines) + "\n"


def credential_to_dict(cred: PlannedCredential) -> dict[str, Any]:
    """JSON-ready, camelCase like every rayfleet report."""
    return {
        "region": cred.region, "identityName": cred.identity_name, "clientId": cred.client_id,
        "resourceId": cred.resource_id, "resourceGroup": cred.resource_group,
        "subscriptionId": cred.subscription_id, "name": cred.name, "issuer": cred.issuer,
        "subject": cred.subject, "audiences": [cred.audience], "namespace": cred.namespace,
        "serviceAccount": cred.service_account, "source": str(cred.source) if cred.source else None,
    }


def plan_to_dict(plan: IdentityPlan) -> dict[str, Any]:
    return {"credentials": [credential_to_dict(c) for c in plan.credentials], "notes": list(plan.notes)}


def format_json(plan: IdentityPlan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2) + "\n"


def _identity_list_query(client_id: str, attribute: str) -> str:
    query = f"[?clientId=='{client_id}'].{attribute} | [0]"
    return f'"$(az identity list --query {shlex.quote(query)} -o tsv)"'


def az_commands(plan: IdentityPlan, fleet: Fleet) -> str:
    """A bash script of ``az identity federated-credential create`` commands, run one at a time.

    Values the fleet file does not give (issuer, identity name or resource group) are looked up
    with ``az aks show`` / ``az identity list`` in a command substitution.
    """
    lines = [
        "#!/usr/bin/env bash",
        "# Federated identity credentials for the rayfleet fleet "
        f"{fleet.relative(fleet.path)} (rayfleet identity plan --format az).",
        "# One command at a time: concurrent writes to one managed identity fail with 409 Conflict.",
        "# Creating a credential that exists updates it (same name).",
        "set -euo pipefail",
        "",
    ]
    regions = {r.name: r for r in fleet.regions}
    for cred in plan.credentials:
        region = regions[cred.region]
        lines.append(f"# {cred.region}: {cred.subject} -> {cred.identity_label}")
        args = ["az identity federated-credential create", f"--name {shlex.quote(cred.name)}"]
        args.append(f"--identity-name {shlex.quote(cred.identity_name)}" if cred.identity_name
                    else f"--identity-name {_identity_list_query(cred.client_id, 'name')}")
        args.append(f"--resource-group {shlex.quote(cred.resource_group)}" if cred.resource_group
                    else f"--resource-group {_identity_list_query(cred.client_id, 'resourceGroup')}")
        if cred.subscription_id:
            args.append(f"--subscription {shlex.quote(cred.subscription_id)}")
        if cred.issuer:
            args.append(f"--issuer {shlex.quote(cred.issuer)}")
        else:
            aks = (f"az aks show --resource-group {shlex.quote(region.cluster.resource_group or '<cluster-rg>')} "
                   f"--name {shlex.quote(region.cluster.name)} --query oidcIssuerProfile.issuerUrl -o tsv")
            args.append(f'--issuer "$({aks})"')
        args.append(f"--subject {shlex.quote(cred.subject)}")
        args.append(f"--audiences {shlex.quote(cred.audience)}")
        lines.append(" \\\n  ".join(args))
        lines.append("")
    lines.append("# Entra ID takes from a few seconds to several minutes to propagate new credentials;")
    lines.append("# until then token exchanges fail with AADSTS70021. Verify with: rayfleet identity check --live")
    return "\n".join(lines) + "\n"


def _bicep_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${")
    return f"'{escaped}'"


def _bicep_symbol(kind: str, name: str, *, taken: set[str]) -> str:
    """A Bicep identifier ``<kind>_<name>``, made unique against ``taken`` (which it joins).
    ``kind`` is a word, so the identifier starts with a letter whatever ``name`` holds."""
    symbol = re.sub(r"[^A-Za-z0-9_]+", "_", f"{kind}_{name}").strip("_")
    base, n = symbol, 2
    while symbol in taken:
        symbol, n = f"{base}_{n}", n + 1
    taken.add(symbol)
    return symbol


def bicep(plan: IdentityPlan, fleet: Fleet) -> str:
    """Bicep for the plan on one stream: every file of ``bicep_files``, one after another."""
    files = bicep_files(plan, fleet)
    if not files:
        return "// No ServiceAccount carries an azure.workload.identity/client-id annotation: nothing to create.\n"
    return "\n".join(files.values())


def bicep_files(plan: IdentityPlan, fleet: Fleet) -> dict[str, str]:
    """Bicep for the plan: one file per (subscription, resource group) of the identities, by name.

    Each file is complete for ``az deployment group create``: the identities as ``existing``
    resources and one ``federatedIdentityCredentials`` child per credential, each depending on
    the previous one so ARM creates them one at a time.
    """
    groups: dict[tuple[str | None, str | None], list[PlannedCredential]] = {}
    for cred in plan.credentials:
        groups.setdefault((cred.subscription_id, cred.resource_group), []).append(cred)
    files: dict[str, str] = {}
    for (subscription, group), creds in groups.items():
        file_name = f"federated-credentials-{group or 'UNKNOWN-GROUP'}.bicep"
        if file_name in files:  # the same resource group name in two subscriptions
            file_name = file_name.replace(".bicep", f"-{(subscription or 'default')[:8]}.bicep")
        out = [
            f"// ---- {file_name} "
            f"(rayfleet identity plan --format bicep, fleet {fleet.relative(fleet.path)})",
            "// Deploy with: az deployment group create "
            + (f"--subscription {subscription} " if subscription else "")
            + f"--resource-group {group or '<identity-resource-group>'} --template-file <this file>",
            "// Writes to one managed identity must be serial (409 Conflict otherwise): every credential",
            "// depends on the one before it.",
            "",
        ]
        taken: set[str] = set()
        params: list[str] = []
        identities: dict[str, str] = {}  # client ID -> bicep symbol
        declarations: list[str] = []
        for cred in creds:
            key = cred.client_id.lower()
            if key in identities:
                continue
            symbol = _bicep_symbol("identity", cred.identity_name or cred.client_id, taken=taken)
            identities[key] = symbol
            if cred.identity_name:
                name_expr = _bicep_string(cred.identity_name)
            else:
                param = _bicep_symbol("identityName", cred.client_id, taken=taken)
                params.append(f"@description('Name of the managed identity with client ID {cred.client_id}')\n"
                              f"param {param} string")
                name_expr = param
            declarations.append(f"resource {symbol} 'Microsoft.ManagedIdentity/userAssignedIdentities@"
                                f"{FIC_API_VERSION}' existing = {{\n  name: {name_expr}\n}}")
        issuer_params: dict[str, str] = {}
        resources: list[str] = []
        previous: str | None = None
        for cred in creds:
            if cred.issuer:
                issuer_expr = _bicep_string(cred.issuer)
            elif cred.region in issuer_params:
                issuer_expr = issuer_params[cred.region]
            else:
                issuer_expr = _bicep_symbol("issuer", cred.region, taken=taken)
                issuer_params[cred.region] = issuer_expr
                params.append(f"@description('OIDC issuer URL of the AKS cluster of region {cred.region} "
                              "(with the trailing slash)')\n"
                              f"param {issuer_expr} string")
            symbol = _bicep_symbol("fic", cred.name, taken=taken)
            body = [
                f"resource {symbol} 'Microsoft.ManagedIdentity/userAssignedIdentities/"
                f"federatedIdentityCredentials@{FIC_API_VERSION}' = {{",
                f"  parent: {identities[cred.client_id.lower()]}",
                f"  name: {_bicep_string(cred.name)}",
                "  properties: {",
                f"    issuer: {issuer_expr}",
                f"    subject: {_bicep_string(cred.subject)}",
                "    audiences: [",
                f"      {_bicep_string(cred.audience)}",
                "    ]",
                "  }",
            ]
            if previous:
                body += ["  dependsOn: [", f"    {previous}", "  ]"]
            body.append("}")
            resources.append("\n".join(body))
            previous = symbol
        out.extend(p + "\n" for p in params)
        out.extend(d + "\n" for d in declarations)
        out.extend(r + "\n" for r in resources)
        files[file_name] = "\n".join(out)
    return files
