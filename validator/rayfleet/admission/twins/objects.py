"""Twins of the policies on single objects of other kinds."""

from __future__ import annotations

from ..kinds import SECRET
from ..twin import Twin, Validation

NO_SECRET_OBJECTS = Twin(
    policy="no-secret-objects", kinds=(SECRET,),
    # Helm keeps its release records as Secrets of this type in the release namespace.
    match_conditions=(("not-helm-release", "!has(object.type) || object.type != 'helm.sh/release.v1'"),),
    validations=(Validation("false", "Secrets are not allowed in this namespace; pods authenticate with "
                                     "workload identity, not stored credentials"),),
    cost="1",
    weaker="Helm's own release records (type helm.sh/release.v1) are admitted: Helm writes them on every install.")

TWINS: tuple[Twin, ...] = (NO_SECRET_OBJECTS,)
__all__ = ["TWINS"]
