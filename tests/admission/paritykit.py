"""Running a policy fixture through the Python check and through ``admit``, object by object."""

from __future__ import annotations

from pathlib import Path

from rayfleet.admission.build import AdmissionOptions, admission_objects
from rayfleet.admission.evaluate import admit, pair_policies
from rayfleet.admission.twins import twins_of
from rayfleet.findings import Severity
from rayfleet.manifests import objects_from_text
from rayfleet.policies import get_policy

from ..policies.fixturekit import run_fixture, settings_from

NAMESPACE = "ray"


def python_verdict(policy_id: str, folder: Path, case: str) -> set[str]:
    """Objects the Python check flags at warning or above (info findings have no admission action)."""
    findings = run_fixture(get_policy(policy_id), folder, case)
    return {f"{f.obj.kind}/{f.obj.name}" for f in findings
            if f.obj is not None and f.severity.at_least(Severity.WARNING)}


def admission_verdict(policy_id: str, folder: Path, case: str) -> tuple[set[str], list[str]]:
    """Objects the twin denies or warns about, and every message (for failure output)."""
    manifest = folder / f"{case}.yaml"
    objects = objects_from_text(manifest.read_text(), str(manifest))
    built = admission_objects(settings_from(folder), AdmissionOptions(NAMESPACE), twins_of(policy_id))
    denials = admit(objects, pair_policies(built), namespace=NAMESPACE)
    return {f"{d.obj.kind}/{d.obj.name}" for d in denials}, [d.message for d in denials]
