"""The admission commands' library side: export files and the ``admit`` result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..delivery.writer import dump_objects, write_export
from ..errors import InputError
from ..fleet import Fleet, PolicySettings
from ..manifests import load_manifest_paths
from ..policies import ALL_POLICIES
from ..result import RegionSummary, Result, Timings
from .build import AdmissionOptions, admission_objects
from .evaluate import admit, as_finding, pair_policies

ANY_NAMESPACE = ""  # admit without a namespace: judge objects wherever they are


def options_for(fleet: Fleet | None, namespace: str | None, mode: str, *, required: bool) -> AdmissionOptions:
    """The release namespace and name prefix: the fleet's (as the chart names them), else given.
    The export must know the namespace its bindings select; ``admit`` can do without."""
    ns = namespace or (fleet.namespace if fleet else None)
    if not ns:
        if required:
            raise InputError("give --fleet or --namespace: the bindings select the release namespace")
        ns = ANY_NAMESPACE
    return AdmissionOptions(namespace=ns, mode=mode, prefix=fleet.release_name if fleet else "rayfleet")


def export_files(settings: PolicySettings, options: AdmissionOptions) -> dict[str, str]:
    """One file per twin (its policy and binding), named after the policy object."""
    objects = admission_objects(settings, options)
    return {f"{policy['metadata']['name']}.yaml": dump_objects([policy, binding])
            for policy, binding in zip(objects[::2], objects[1::2], strict=True)}


def export_text(settings: PolicySettings, options: AdmissionOptions) -> str:
    return dump_objects(admission_objects(settings, options))


def _load_policy_objects(paths: Sequence[str]) -> list[dict[str, Any]]:
    objects = [o.body for o in load_manifest_paths(list(paths))]
    found = [o for o in objects if o.get("kind") == "ValidatingAdmissionPolicy"]
    if not found:
        raise InputError("holds no ValidatingAdmissionPolicy", file=", ".join(paths))
    return objects


def admit_manifests(paths: Sequence[str], settings: PolicySettings, options: AdmissionOptions, *,
                    policy_paths: Sequence[str] = (), stdin: Any = None) -> Result:
    """Would the API server admit these manifests? The catalogue's admission policies (or the
    exported ones in ``policy_paths``) evaluated against every object; each violation a finding."""
    timings = Timings()
    with timings.stage("load"):
        objects = load_manifest_paths(list(paths), stdin=stdin)
        if not objects:
            shown = ", ".join("<stdin>" if p == "-" else p for p in paths)
            raise InputError("found no Kubernetes objects to check", file=shown)
        source = _load_policy_objects(policy_paths) if policy_paths else admission_objects(settings, options)
        policies = pair_policies(source)
    with timings.stage("policies"):
        denials = admit(objects, policies, namespace=options.namespace or None,
                        all_namespaces=options.namespace == ANY_NAMESPACE)
    by_id = {p.id: p for p in ALL_POLICIES}
    findings = []
    for denial in denials:
        finding = as_finding(denial)
        known = by_id.get(finding.policy)
        if known is not None:
            # The VAP message ends with " [id]. remediation" for kubectl users; a finding has its own.
            tail = f" [{known.id}]. {known.remediation}"
            finding = replace(finding, message=finding.message.removesuffix(tail), remediation=known.remediation)
        findings.append(finding)
    ids = {p.policy_id for p in policies}
    result = Result(command="admit", findings=findings, timings=timings,
                    policies=tuple(p for p in ALL_POLICIES if p.id in ids))
    shown = options.namespace or "any"
    result.notes.append(f"{len(policies)} admission policies, namespace {shown}, mode {options.mode}")
    result.regions.append(RegionSummary(None, len(objects)))
    return result


def policy_files(out: Path, settings: PolicySettings, options: AdmissionOptions) -> list[str]:
    return write_export(out, "admission", export_files(settings, options))


__all__ = ["admit_manifests", "export_files", "export_text", "options_for", "policy_files"]
