"""Beyond the fixtures: the twins that re-implement parsing (image references, tolerations,
numbers) against the Python checks on many small cases, one Pod each."""

from __future__ import annotations

import json

import pytest
from rayfleet.admission.build import AdmissionOptions, admission_objects
from rayfleet.admission.evaluate import admit, pair_policies
from rayfleet.admission.twins import twins_of
from rayfleet.findings import Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import get_policy
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects


def check_release(release: ReleaseObjects, policies: list) -> list:
    return check(policies, release)


def verdicts(policy_id: str, spec: dict, settings: PolicySettings) -> tuple[bool, bool]:
    """(Python flags the Pod, the twin flags the Pod)."""
    text = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ray"},
                       "spec": spec})
    objects = objects_from_text(text, "pod.yaml")
    findings = check_release(ReleaseObjects(objects, settings, "1.33"), [get_policy(policy_id)])
    python = any(f.severity.at_least(Severity.WARNING) for f in findings)
    policies = pair_policies(admission_objects(settings, AdmissionOptions("ray"), twins_of(policy_id)))
    return python, bool(admit(objects, policies))


IMAGES = ["ray", "ray:2.52.0", "rayproject/ray", "rayproject/ray:latest", "rayproject/ray:2.52.0-gpu",
          "docker.io/rayproject/ray:2.52.0", "localhost:5000/ray", "localhost:5000/ray:1", "localhost/ray:1",
          "myacr.azurecr.io/ray/ray:2.52.0", "myacr.azurecr.io/ray@sha256:" + "a" * 64, "myacr.azurecr.io.evil/x:1",
          "mcr.microsoft.com/oss/ray:1", "mcr.microsoft.com/ossx/ray:1", "busybox:1.37", "myreg:5000",
          "MyACR.azurecr.io/ray:1", "ray:", "quay.io/rayproject/ray:2@sha256:" + "b" * 64]
ALLOW = PolicySettings.from_dict({"allowedRegistries": ["myacr.azurecr.io", "docker.io/rayproject",
                                                        "mcr.microsoft.com/oss/", "docker.io/library/busybox"]})
# A capitalised registry host is denied by the twin (core CEL has no lowerAscii); docs/policies.md says so.
STRICTER = {("image-registry-allowed", "MyACR.azurecr.io/ray:1")}


@pytest.mark.parametrize("image", IMAGES)
@pytest.mark.parametrize("policy_id", ["image-registry-allowed", "image-pinned"])
def test_images(policy_id: str, image: str) -> None:
    python, twin = verdicts(policy_id, {"containers": [{"name": "c", "image": image}]}, ALLOW)
    if (policy_id, image) in STRICTER:
        assert (python, twin) == (False, True)
    else:
        assert twin == python


GPU = {"name": "c", "image": "x:1", "resources": {"limits": {"nvidia.com/gpu": 1}}}
TOLERATIONS = [
    [], [{"key": "nvidia.com/gpu", "operator": "Exists"}], [{"operator": "Exists"}],
    [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
    [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoExecute"}],
    [{"key": "nvidia.com/gpu", "value": "absent"}], [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}],
    [{"operator": "Exists", "effect": "NoExecute"}], [{"key": "", "operator": "Equal"}],
]


@pytest.mark.parametrize("tolerations", TOLERATIONS, ids=lambda t: json.dumps(t))
@pytest.mark.parametrize("declared", [True, False])
def test_gpu_tolerations(tolerations: list, declared: bool) -> None:
    settings = PolicySettings.from_dict(
        {"gpuTaint": {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}} if declared else {})
    python, twin = verdicts("gpu-taint-toleration", {"containers": [GPU], "tolerations": tolerations}, settings)
    assert twin == python


@pytest.mark.parametrize(("request_", "limit"), [(1, 1), ("1", 1), ("2", "2.0"), (1, 2), (1, None), ("1", "1e0")])
def test_gpu_requests_and_limits(request_, limit) -> None:
    resources = {"requests": {"nvidia.com/gpu": request_}}
    if limit is not None:
        resources["limits"] = {"nvidia.com/gpu": limit}
    python, twin = verdicts("gpu-resource-limits", {"containers": [{"name": "c", "image": "x:1",
                                                                    "resources": resources}]}, PolicySettings())
    assert twin == python


@pytest.mark.parametrize("value", ["3600", "86400", "3599", "86401", "abc", "7200", 7200, "99999999999999999999"])
def test_token_expiration(value) -> None:
    text = json.dumps({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "name": "sa", "namespace": "ray",
        "annotations": {"azure.workload.identity/service-account-token-expiration": value}}})
    objects = objects_from_text(text, "sa.yaml")
    findings = check_release(ReleaseObjects(objects, PolicySettings(), "1.33"),
                                    [get_policy("workload-identity-token-expiration")])
    policies = pair_policies(admission_objects(PolicySettings(), AdmissionOptions("ray"),
                                               twins_of("workload-identity-token-expiration")))
    assert bool(admit(objects, policies)) == bool(findings)


def _secret_verdict(secret: dict, *, operation: str, username: str = "", old: dict | None = None) -> bool:
    """Does the no-secret-objects VAP deny this Secret request? The match conditions and the
    validation run as the API server runs them, with ``request`` and ``oldObject`` set."""
    import cel

    [vap] = [o for o in admission_objects(PolicySettings(), AdmissionOptions("ray"), twins_of("no-secret-objects"))
             if o["kind"] == "ValidatingAdmissionPolicy"]
    context = {"object": secret, "oldObject": old, "variables": {},
               "request": {"operation": operation, "namespace": "ray", "userInfo": {"username": username}}}
    if not all(cel.compile(c["expression"]).execute(context) is True for c in vap["spec"]["matchConditions"]):
        return False
    return not all(cel.compile(v["expression"]).execute(context) is True for v in vap["spec"]["validations"])


CERT_SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kueue-webhook-server-cert",
                                                                  "namespace": "ray"}}
KUEUE_SA = "system:serviceaccount:ray:kueue-controller-manager"
CERT_DATA = {"ca.crt": "Y2E=", "ca.key": "a2V5", "tls.crt": "Y3J0", "tls.key": "a2V5"}


def test_a_controller_placeholder_is_created_empty_and_filled_only_by_its_controller() -> None:
    filled = {**CERT_SECRET, "type": "Opaque", "data": CERT_DATA}
    # Helm creates it empty; Kueue's certificate manager (a ServiceAccount of the namespace) fills it.
    assert _secret_verdict(CERT_SECRET, operation="CREATE") is False
    assert _secret_verdict(filled, operation="UPDATE", username=KUEUE_SA, old=CERT_SECRET) is False
    # A person filling it, a ServiceAccount of another namespace, or keys that are not a certificate: denied.
    assert _secret_verdict(filled, operation="UPDATE", username="alice@example.com", old=CERT_SECRET) is True
    assert _secret_verdict(filled, operation="UPDATE", username="system:serviceaccount:tools:x",
                           old=CERT_SECRET) is True
    stolen = {**filled, "data": {**CERT_DATA, "password": "aHVudGVyMg=="}}
    assert _secret_verdict(stolen, operation="UPDATE", username=KUEUE_SA, old=CERT_SECRET) is True
    # Created already holding the certificate, or of a type a controller fills with a bearer token: denied.
    assert _secret_verdict(filled, operation="CREATE", username=KUEUE_SA) is True
    token = {**CERT_SECRET, "type": "kubernetes.io/service-account-token"}
    assert _secret_verdict(token, operation="CREATE") is True
