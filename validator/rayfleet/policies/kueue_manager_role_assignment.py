"""The MultiKueue manager identity may manage Ray and Kueue objects on every worker (live check)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import ObjectRef, Severity, SourceLocation, Violation
from ..identity_rbac import RoleAssignmentView
from .base import Policy, Scope


def check(view: RoleAssignmentView) -> Iterator[Violation]:
    planned = view.planned
    if any(not a.missing() for a in view.existing):
        return
    near = "; ".join(f"{a.role_name} at {a.scope} lacks {', '.join(a.missing())}" for a in view.existing)
    yield Violation(f"managed identity {planned.identity_name} (principal {view.principal_id}) has no role "
                    f"assignment on AKS cluster {planned.resource_group}/{planned.cluster} that lets the "
                    "MultiKueue manager read, write and delete ray.io and kueue.x-k8s.io custom resources"
                    + (f" ({near})" if near else " (it has no role assignment there)"),
                    obj=ObjectRef("Microsoft.Authorization/2022-04-01", "RoleAssignment", None, planned.cluster),
                    region=planned.worker, source=SourceLocation(str(view.fleet.path)))


POLICY = Policy(
    id="kueue-manager-role-assignment",
    title="The MultiKueue manager identity holds its role on every worker cluster",
    severity=Severity.ERROR,
    scope=Scope.LIVE,
    rationale=(
        "On workers with Azure RBAC for Kubernetes authorization, the manager's Kueue controller (signed in "
        "with kubelogin under workload identity) may only create the dispatched RayJobs and Workloads if its "
        "managed identity holds a role with the customresources read, write and delete data actions at the "
        "worker cluster (or above), for the ray.io and kueue.x-k8s.io API groups. Without it every dispatch "
        "to that worker fails with Forbidden and the worker's MultiKueueCluster never becomes active. Raised "
        "by `rayfleet identity check --live`."
    ),
    remediation=(
        "Create the role assignments from `rayfleet identity plan --format az` (custom role rayfleet MultiKueue "
        "manager, assigned to the manager identity at each worker cluster); allow up to five minutes to propagate."
    ),
    references=(
        "https://learn.microsoft.com/azure/aks/manage-azure-rbac",
        "https://learn.microsoft.com/azure/aks/concepts-cluster-authorization",
    ),
    check=check,
    subject=RoleAssignmentView,
)
