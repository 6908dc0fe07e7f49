"""Twins of the policies on single objects of other kinds."""

from __future__ import annotations

from ..kinds import ROLE, SECRET
from ..twin import Twin, Validation

# An empty Secret a controller fills at run time (Kueue's webhook serving certificate): Helm
# creates it empty, then the controller's ServiceAccount writes the certificate into it.
_PLACEHOLDER_TYPE = "(!has(object.type) || object.type in ['Opaque', 'kubernetes.io/tls'])"
_EMPTY = "(!has(object.data) || size(object.data) == 0) && (!has(object.stringData) || size(object.stringData) == 0)"
_CERT_KEYS = "['ca.crt', 'ca.key', 'tls.crt', 'tls.key']"
_FILLED_BY_CONTROLLER = (
    "request.operation == 'UPDATE' && oldObject != null"
    " && request.userInfo.username.startsWith('system:serviceaccount:' + object.metadata.namespace + ':')"
    f" && !has(object.stringData) && has(object.data) && object.data.all(k, k in {_CERT_KEYS})")

NO_SECRET_OBJECTS = Twin(
    policy="no-secret-objects", kinds=(SECRET,),
    match_conditions=(
        # Helm keeps its release records as Secrets of this type in the release namespace.
        ("not-helm-release", "!has(object.type) || object.type != 'helm.sh/release.v1'"),
        ("not-controller-placeholder",
         f"!({_PLACEHOLDER_TYPE} && (({_EMPTY}) || ({_FILLED_BY_CONTROLLER})))"),
    ),
    validations=(Validation("false", "Secrets are not allowed in this namespace; pods authenticate with "
                                     "workload identity, not stored credentials"),),
    cost="K x 4 for the K data keys of an update ~ 10^2 for K=25",
    weaker="Helm's own release records (type helm.sh/release.v1) are admitted: Helm writes them on every install. "
           "An empty Opaque or TLS Secret is admitted even when no workload mounts it (admission sees one object); "
           "only a ServiceAccount of the release namespace may then fill it, and only with certificate keys "
           "(ca.crt, ca.key, tls.crt, tls.key), as Kueue's certificate manager does.")


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
