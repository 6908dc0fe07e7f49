"""GPU pods tolerate the GPU node pool taint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Severity, Violation
from ._helpers import as_dict, as_list, where
from .base import Policy, ReleaseObjects, Scope

AKS_DEFAULT_GPU_TAINT = ("sku", "gpu", "NoSchedule")


def tolerates(tolerations: list[Any], taint: tuple[str, str, str]) -> bool:
    """Kubernetes' own matching: key (or none, with Exists), value unless Exists, effect if set."""
    key, value, effect = taint
    for raw in tolerations:
        tol = as_dict(raw)
        operator = tol.get("operator") or "Equal"
        if tol.get("effect") not in (None, "", effect):
            continue
        if not tol.get("key"):
            if operator == "Exists":
                return True
            continue
        if tol.get("key") != key:
            continue
        if operator == "Exists" or str(tol.get("value") or "") == value:
            return True
    return False


def check(release: ReleaseObjects) -> Iterator[Violation]:
    declared = release.settings.gpu_taint
    taint = declared or AKS_DEFAULT_GPU_TAINT
    shown = f"{taint[0]}={taint[1]}:{taint[2]}" if taint[1] else f"{taint[0]}:{taint[2]}"
    for tpl in release.pod_templates():
        if not tpl.gpus:
            continue
        if tolerates(as_list(tpl.spec.get("tolerations")), taint):
            continue
        if declared:
            message = f"{where(tpl)} uses GPUs but does not tolerate the GPU node taint {shown}"
        else:
            message = (f"{where(tpl)} uses GPUs but does not tolerate the AKS GPU taint {shown} (the fleet "
                       "file declares no policy.gpuTaint)")
        yield Violation(message, obj=tpl.obj.ref, path=tpl.at("tolerations"),
                        severity=None if declared else Severity.WARNING)


POLICY = Policy(
    id="gpu-taint-toleration",
    title="GPU pods tolerate the GPU node pool taint",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "AKS GPU pools are tainted so that CPU pods stay off them, and KubeRay adds no tolerations: a GPU "
        "worker group without one stays Pending and never scales up. The taint is the fleet file's "
        "policy.gpuTaint; when none is declared, the usual AKS taint sku=gpu:NoSchedule is checked and a "
        "missing toleration is only a warning."
    ),
    remediation=(
        "Add a toleration for the GPU taint to every GPU worker group, and declare the taint as "
        "policy.gpuTaint in the fleet file."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/use-nvidia-gpu",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",
        "https://github.com/ray-project/kuberay/pull/1914",
    ),
    check=check,
)
