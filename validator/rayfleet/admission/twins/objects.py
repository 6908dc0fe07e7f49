"""Twins of the policies on single objects of other kinds."""

from __future__ import annotations

from ..kinds import ROLE, SECRET
from ..twin import Twin, Validation

NO_SECRET_OBJECTS = Twin(
    policy="no-secret-objects", kinds=(SECRET,),
    # Helm keeps its release records as Secrets of this type in the release namespace.
    match_conditions=(("not-helm-release", "!has(object.type) || object.type != 'helm.sh/release.v1'"),),
    validations=(Validation("false", "Secrets are not allowed in this namespace; pods authenticate with "
                                     "workload identity, not stored credentials"),),
    cost="1",
    weaker="Helm's own release records (type helm.sh/release.v1) are admitted: Helm writes them on every install.")



def _any(field: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"(has(r.{field}) && r.{field}.exists(x, x in [{listed}, '*']))"


# (resources, verbs) a namespaced Role should not grant on the core group (rbac-broad-namespaced).
_BROAD = ((("secrets",), ("get", "list", "watch")), (("pods",), ("delete", "deletecollection")),
          (("pods/exec", "pods/attach"), ("create", "get")))
RBAC_BROAD = Twin(
    policy="rbac-broad-namespaced", kinds=(ROLE,),
    validations=(Validation(
        "!has(object.rules) || object.rules.all(r, !(has(r.apiGroups) && r.apiGroups.exists(g, g in ['', '*'])) || "
        + " && ".join(f"!({_any('resources', res)} && {_any('verbs', verbs)})" for res, verbs in _BROAD) + ")",
        "the Role lets its holders read Secrets, delete pods, or exec or attach into pods"),),
    cost="R x (G + 3x(S+V)) ~ 10^2 for R=10 rules")

TWINS: tuple[Twin, ...] = (NO_SECRET_OBJECTS, RBAC_BROAD)
__all__ = ["TWINS"]
