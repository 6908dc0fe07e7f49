"""The federated identity credential plan: which credential every managed identity needs.

Every ServiceAccount that a region's release annotates with ``azure.workload.identity/client-id``
needs one federated identity credential (FIC) on that managed identity: issuer = the region's
AKS OIDC issuer URL (with the trailing ``/`` AKS gives it), subject =
``system:serviceaccount:<namespace>:<name>``, audience ``api://AzureADTokenExchange``.

Pure functions: the plan from a fleet and its rendered releases, and the plan as a table, JSON,
an ``az`` script (serial: concurrent writes to one identity fail with 409) and Bicep (chained
with ``dependsOn`` for the same reason).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .findings import SourceLocation

if TYPE_CHECKING:
    from .fleet import Fleet, Identity, Region
    from .policies.base import Release

AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
MAX_CREDENTIALS_PER_IDENTITY = 20  # Entra ID limit per user-assigned identity or app
FIC_API_VERSION = "2023-01-31"
CREDENTIAL_NAME_MAX = 120
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resource[gG]roups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)$")


@dataclass(frozen=True)
class PlannedCredential:
    """One federated identity credential one region needs on one managed identity.

    ``identity_name``, ``resource_group`` and ``subscription_id`` are None when the fleet file
    does not say (the identity is not listed under the region's ``identities``); ``issuer`` is
    None when the region has no ``cluster.oidcIssuerUrl``.
    """

    region: str
    client_id: str
    identity_name: str | None
    resource_id: str | None
    resource_group: str | None
    subscription_id: str | None
    issuer: str | None
    namespace: str
    service_account: str
    name: str
    audience: str = AUDIENCE
    source: SourceLocation | None = field(default=None, compare=False)

    @property
    def subject(self) -> str:
        return subject_for(self.namespace, self.service_account)

    @property
    def identity_label(self) -> str:
        """How messages name the identity: ``name (client ID)`` or the client ID alone."""
        return f"{self.identity_name} ({self.client_id})" if self.identity_name else self.client_id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, camelCase like every rayfleet report."""
        return {
            "region": self.region, "identityName": self.identity_name, "clientId": self.client_id,
            "resourceId": self.resource_id, "resourceGroup": self.resource_group,
            "subscriptionId": self.subscription_id, "name": self.name, "issuer": self.issuer,
            "subject": self.subject, "audiences": [self.audience], "namespace": self.namespace,
            "serviceAccount": self.service_account, "source": str(self.source) if self.source else None,
        }


@dataclass(frozen=True)
class IdentityPlan:
    """Every credential the fleet needs, in fleet order, and what the plan could not settle."""

    credentials: tuple[PlannedCredential, ...]
    notes: tuple[str, ...] = ()

    def by_identity(self) -> dict[str, list[PlannedCredential]]:
        """Credentials grouped by client ID (first-seen order)."""
        grouped: dict[str, list[PlannedCredential]] = {}
        for cred in self.credentials:
            grouped.setdefault(cred.client_id.lower(), []).append(cred)
        return grouped

    def over_limit(self, limit: int = MAX_CREDENTIALS_PER_IDENTITY) -> dict[str, list[PlannedCredential]]:
        """Identities that would need more than ``limit`` credentials."""
        return {cid: creds for cid, creds in self.by_identity().items() if len(creds) > limit}

    def to_dict(self) -> dict[str, Any]:
        return {"credentials": [c.to_dict() for c in self.credentials], "notes": list(self.notes)}


def subject_for(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def credential_name(region: str, namespace: str, service_account: str) -> str:
    """A stable FIC name: ``<region>-<namespace>-<serviceaccount>``.

    FIC names are 3-120 characters of ``[A-Za-z0-9_-]``, starting with a letter or digit. When
    the readable name has to be changed to fit (a dot in a ServiceAccount name, too long), a short
    hash of the original is appended so two different ServiceAccounts never share a name.
    """
    readable = f"{region}-{namespace}-{service_account}"
    if _NAME_OK.match(readable):
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()[:10]
    cleaned = _NAME_BAD_CHARS.sub("-", readable).strip("-_") or "fic"
    cleaned = cleaned[: CREDENTIAL_NAME_MAX - len(digest) - 1].rstrip("-_")
    return f"{cleaned}-{digest}"


def _identity_location(identity: Identity | None, region: Region,
                       fleet: Fleet) -> tuple[str | None, str | None, str | None]:
    """(name, resource group, subscription) of an identity, from its resource ID when given."""
    if identity is None:
        return None, None, None
    name, group = identity.name, identity.resource_group
    subscription = region.subscription_id or fleet.subscription_id
    if identity.resource_id:
        match = _RESOURCE_ID.match(identity.resource_id)
        if match:
            name = match.group("name")
            group = group or match.group("rg")
            subscription = match.group("sub")
    return name, group, subscription


def annotated_service_accounts(release: Release, default_namespace: str) -> list[tuple[str, str, str, Any]]:
    """(namespace, name, client ID, origin) of every ServiceAccount with a client ID annotation."""
    found = []
    for obj in release.of_kind("ServiceAccount"):
        annotations = obj.metadata.get("annotations")
        if not isinstance(annotations, dict):
            continue
        client_id = annotations.get(CLIENT_ID_ANNOTATION)
        if not isinstance(client_id, str) or not client_id.strip():
            continue
        found.append((obj.namespace or default_namespace, obj.name, client_id.strip(), obj.origin))
    return found


def kueue_controller_account(fleet: Fleet, region: Region, release: Release,
                             accounts: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """The MultiKueue manager's Kueue controller ServiceAccount, when the release does not annotate it.

    The upstream Kueue chart cannot annotate its ServiceAccount, so the controller's kubelogin gets
    the manager identity's client ID from its exec config instead; the identity still needs a
    federated credential for the ServiceAccount (in Kueue's namespace, the release's when Kueue is
    a dependency of the umbrella chart).
    """
    from .fleet_scheduling import KUEUE_SERVICE_ACCOUNT
    from .identity_rbac import manager_identity

    if fleet.manager is None or region.name != fleet.manager.name:
        return []
    namespaces = [o.namespace for o in release.of_kind("ServiceAccount", "Deployment")
                  if o.name == KUEUE_SERVICE_ACCOUNT and o.namespace]
    namespace = namespaces[0] if namespaces else region.namespace
    if any(name == KUEUE_SERVICE_ACCOUNT for _, name, _, _ in accounts):
        return []
    identity, _ = manager_identity(fleet, {region.name: release})
    if identity is None:
        return []
    return [(namespace, KUEUE_SERVICE_ACCOUNT, identity.client_id, SourceLocation(str(fleet.path)))]


def plan_credentials(fleet: Fleet, releases: Mapping[str, Release],
                     regions: Iterable[str] | None = None) -> IdentityPlan:
    """The FIC every annotated ServiceAccount of every region needs.

    ``releases`` maps region name to its rendered release (regions missing from it are skipped
    with a note). ServiceAccounts listed under ``policy.externalServiceAccounts`` with a
    ``clientId`` are planned in every region too: they are created outside the release, but the
    release's pods run as them.
    """
    wanted = set(regions) if regions is not None else None
    credentials: list[PlannedCredential] = []
    notes: list[str] = []
    seen: dict[tuple[str, str | None, str], PlannedCredential] = {}
    for region in fleet.regions:
        if wanted is not None and region.name not in wanted:
            continue
        release = releases.get(region.name)
        if release is None:
            notes.append(f"region {region.name}: not rendered, no credentials planned")
            continue
        issuer = region.cluster.oidc_issuer_url
        if not issuer:
            notes.append(f"region {region.name}: the fleet file has no cluster.oidcIssuerUrl; "
                         "read it with `az aks show --query oidcIssuerProfile.issuerUrl` and add it")
        accounts = annotated_service_accounts(release, region.namespace)
        accounts += kueue_controller_account(fleet, region, release, accounts)
        in_release = {(ns, name) for ns, name, _, _ in accounts}
        for external in fleet.settings.external_service_accounts:
            if external.client_id and (external.namespace, external.name) not in in_release:
                accounts.append((external.namespace, external.name, external.client_id,
                                 SourceLocation(str(fleet.path))))
        for namespace, sa_name, client_id, origin in accounts:
            identity = next((i for i in region.identities if i.client_id.lower() == client_id.lower()), None)
            if identity is None:
                notes.append(f"region {region.name}: ServiceAccount {namespace}/{sa_name} uses client ID "
                             f"{client_id}, which is not under the region's identities in the fleet file")
            name, group, subscription = _identity_location(identity, region, fleet)
            cred = PlannedCredential(
                region=region.name, client_id=client_id, identity_name=name,
                resource_id=identity.resource_id if identity else None, resource_group=group,
                subscription_id=subscription, issuer=issuer, namespace=namespace, service_account=sa_name,
                name=credential_name(region.name, namespace, sa_name), source=origin)
            key = (client_id.lower(), issuer, cred.subject)
            if issuer and key in seen:
                notes.append(f"region {region.name}: {cred.subject} on {cred.identity_label} with issuer "
                             f"{issuer} is already planned for region {seen[key].region}")
                continue
            seen[key] = cred
            credentials.append(cred)
    return IdentityPlan(tuple(credentials), tuple(dict.fromkeys(notes)))


# --- output formats -----------------------------------------------------------------------------


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


def format_json(plan: IdentityPlan) -> str:
    return json.dumps(plan.to_dict(), indent=2) + "\n"


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


def _bicep_symbol(*parts: str, taken: set[str] | None = None) -> str:
    """A Bicep identifier from ``parts``, made unique against ``taken`` (which it joins)."""
    symbol = re.sub(r"[^A-Za-z0-9_]+", "_", "_".join(parts)).strip("_")
    symbol = symbol if symbol and not symbol[0].isdigit() else f"r_{symbol}"
    if taken is not None:
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
