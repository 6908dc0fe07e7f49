"""The release namespace exists, or Helm will create it (live preflight)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import ObjectRef, Severity, Violation
from ..subjects import LiveCluster
from .base import Policy, Scope


def check(view: LiveCluster) -> Iterator[Violation]:
    name = view.region.namespace
    ref = ObjectRef("v1", "Namespace", None, name)
    namespace = view.cluster.namespace
    if namespace is None:
        if view.create_namespace:
            yield Violation(f"namespace {name} does not exist; helm will create it (--create-namespace)",
                            obj=ref, severity=Severity.INFO, region=view.region_name)
        else:
            yield Violation(f"namespace {name} does not exist and the rollout does not create it",
                            obj=ref, region=view.region_name)
    elif (namespace.get("status") or {}).get("phase") == "Terminating":
        yield Violation(f"namespace {name} is being deleted (Terminating): the install would fail",
                        obj=ref, path="status.phase", region=view.region_name)


POLICY = Policy(
    id="preflight-namespace",
    title="The release namespace exists or will be created",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "helm upgrade --install fails when the release namespace is missing (without --create-namespace) "
        "or is being deleted."
    ),
    remediation="Create the namespace (kubectl create namespace NAME), roll out with --create-namespace, or "
                "wait until the old namespace is gone.",
    references=("https://helm.sh/docs/helm/helm_upgrade/",),
    check=check,
    subject=LiveCluster,
)
