"""The Blob CSI driver requests workload identity tokens (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import ObjectRef, Severity, Violation
from ..subjects import LiveCluster
from ..wellknown import BLOB_CSI_DRIVER, TOKEN_AUDIENCE
from .base import Policy, Scope


def check(view: LiveCluster) -> Iterator[Violation]:

    if not view.uses_blob_csi():
        return
    ref = ObjectRef("storage.k8s.io/v1", "CSIDriver", None, BLOB_CSI_DRIVER)
    driver = view.cluster.csi_driver
    if driver is None:
        yield Violation(f"CSIDriver {BLOB_CSI_DRIVER} is not installed: the release's Blob volumes cannot "
                        "mount", obj=ref, region=view.region_name)
        return
    spec = driver.get("spec") or {}
    requests = [r for r in spec.get("tokenRequests") or [] if isinstance(r, dict)]
    if not any(r.get("audience") == TOKEN_AUDIENCE for r in requests):
        audiences = ", ".join(str(r.get("audience") or "(API server default)") for r in requests)
        yield Violation(f"CSIDriver {BLOB_CSI_DRIVER} requests no token for audience {TOKEN_AUDIENCE} "
                        f"({'tokenRequests: ' + audiences if requests else 'no tokenRequests'}): "
                        "token-only (workload identity) mounts cannot work", obj=ref, path="spec.tokenRequests",
                        region=view.region_name)
    elif spec.get("requiresRepublish") is not True:
        yield Violation(f"CSIDriver {BLOB_CSI_DRIVER} has requiresRepublish off: kubelet will not refresh "
                        "the token, and mounts fail once the first token expires", obj=ref,
                        path="spec.requiresRepublish", severity=Severity.WARNING, region=view.region_name)


POLICY = Policy(
    id="preflight-blob-csi-token",
    title="The Blob CSI driver requests workload identity tokens",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "In token mode (mountWithWorkloadIdentityToken) the driver mounts with the pod's ServiceAccount "
        "token, which kubelet only hands over when the CSIDriver object lists tokenRequests with audience "
        "api://AzureADTokenExchange; requiresRepublish makes kubelet refresh it. Older or AKS-managed "
        "drivers without them fail every token-only mount at pod start."
    ),
    remediation=(
        "Enable or upgrade the Blob CSI driver (az aks update --enable-blob-driver; upstream chart v1.27+), "
        "then check: kubectl get csidriver blob.csi.azure.com -o yaml shows tokenRequests with audience "
        "api://AzureADTokenExchange and requiresRepublish: true."
    ),
    references=(
        "https://github.com/kubernetes-sigs/blob-csi-driver/blob/master/docs/workload-identity-static-pv-mount.md",
        "https://kubernetes-csi.github.io/docs/token-requests.html",
    ),
    check=check,
    subject=LiveCluster,
)
