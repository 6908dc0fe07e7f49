"""Running one policy over its fixture folder.

A fixture folder ``fixtures/<policy-id>/`` holds either
- release fixtures: ``pass.yaml`` and ``fail.yaml`` (multi-document manifests), ``expected.yaml``,
  optional ``settings.yaml`` (fleet ``policy:`` fields: gpuTaint, allowedRegistries,
  externalServiceAccounts, allowCrossRegionStorage, failover) and optional ``pass.values.yaml`` /
  ``fail.values.yaml`` (a values file handed to the policy as ``release.values``); or
- fleet fixtures: ``pass/fleet.yaml`` and ``fail/fleet.yaml`` whose regions use ``manifests:``, and
  ``expected.yaml``. ReleaseObjects policies run per region, fleet policies over all regions.
  with ``anyscale:`` gets its Anyscale operator chart rendered and attached, as validate does.

``expected.yaml`` is the exact list of findings from the fail case, order-insensitive. Every field a
user reads is compared: region, kind, name, path, message (as redacted), severity, file, line; a
key an entry leaves out must be empty in the finding. (The policy ID is checked by the test: every
finding of a fixture carries its folder's policy.)
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from rayfleet.anyscale import render_operator
from rayfleet.findings import Finding
from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.manifests import load_manifest_paths, objects_from_text
from rayfleet.policies.base import FleetView, Policy, ReleaseObjects, Scope
from rayfleet.render import EmbeddedHelm
from rayfleet.runner import check
from rayfleet.values import ValuesStack, load_values_file

FIXTURES = Path(__file__).parent / "fixtures"
KUBE_VERSION = "1.33"
KEYS = ("region", "kind", "name", "path", "message", "severity", "file", "line")


def fixture_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def is_fleet_fixture(folder: Path) -> bool:
    return (folder / "pass" / "fleet.yaml").exists() or (folder / "fail" / "fleet.yaml").exists()


def missing_files(folder: Path) -> list[str]:
    needed = ["pass/fleet.yaml", "fail/fleet.yaml"] if is_fleet_fixture(folder) else ["pass.yaml", "fail.yaml"]
    return [name for name in [*needed, "expected.yaml"] if not (folder / name).exists()]


def settings_from(folder: Path) -> PolicySettings:
    path = folder / "settings.yaml"
    raw: dict[str, Any] = yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    return PolicySettings.from_dict(raw)


def run_release_fixture(policy: Policy, folder: Path, case: str) -> list[Finding]:
    manifest = folder / f"{case}.yaml"
    objects = objects_from_text(manifest.read_text(), str(manifest))
    values_path = folder / f"{case}.values.yaml"
    values = ValuesStack([load_values_file(values_path, display=values_path.name)]) if values_path.exists() else None
    release = ReleaseObjects(objects=objects, settings=settings_from(folder), kube_version=KUBE_VERSION, values=values)
    return check([policy], release)


def run_fleet_fixture(policy: Policy, folder: Path, case: str) -> list[Finding]:
    fleet = load_fleet(folder / case / "fleet.yaml")
    releases: dict[str, ReleaseObjects] = {}
    for region in fleet.regions:
        objects = load_manifest_paths([str(region.manifests)]) if region.manifests else []
        # Values files shown relative to the fleet file, so messages do not depend on the checkout.
        files = [load_values_file(p, display=str(p.relative_to(fleet.base_dir)))
                 for p in fleet.values_stack_paths(region) if p.exists()]
        releases[region.name] = ReleaseObjects(objects=objects, settings=fleet.settings,
                                        kube_version=region.cluster.kube_minor, region=region, fleet=fleet,
                                        values=ValuesStack(files) if files else None)
        if region.anyscale is not None:  # the region's Anyscale operator chart, rendered as validate does
            releases[region.name] = releases[region.name].with_anyscale(
                render_operator(fleet, region, EmbeddedHelm(), load_values_file))
    if policy.scope is Scope.FLEET:
        return check([policy], FleetView(fleet, releases))
    findings: list[Finding] = []
    for release in releases.values():
        findings += check([policy], release)
    return findings


def run_fixture(policy: Policy, folder: Path, case: str) -> list[Finding]:
    if is_fleet_fixture(folder):
        return run_fleet_fixture(policy, folder, case)
    return run_release_fixture(policy, folder, case)


def as_record(finding: Finding) -> dict[str, Any]:
    source = finding.source
    return {
        "region": finding.region,
        "kind": finding.obj.kind if finding.obj else None,
        "name": finding.obj.name if finding.obj else None,
        "path": finding.path or None,
        "message": finding.message,
        "severity": finding.severity.value,
        "file": Path(source.file).name if source else None,
        "line": source.line if source else None,
    }


def compare(findings: list[Finding], expected: list[dict[str, Any]]) -> tuple[list, list]:
    """(missing, unexpected): expected entries not found, and findings not expected."""
    keys = KEYS
    want = Counter(tuple(e.get(k) for k in keys) for e in expected)
    got = Counter(tuple(as_record(f).get(k) for k in keys) for f in findings)
    missing = [dict(zip(keys, t, strict=True)) for t in (want - got).elements()]
    unexpected = [dict(zip(keys, t, strict=True)) for t in (got - want).elements()]
    return missing, unexpected
