"""Ray object names fit what the KubeRay operator accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Severity, Violation
from ..workloads import RAY_GROUP
from .base import Policy, ReleaseObjects, Scope

_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# KubeRay derives pod and service names from these, with suffixes (utils/constant.go).
MAX_LENGTH = {"RayCluster": 53, "RayJob": 47, "RayService": 47}


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.of_kind(*MAX_LENGTH):
        if obj.group != RAY_GROUP:
            continue
        name, limit = obj.name, MAX_LENGTH[obj.kind]
        if len(name) > limit:
            yield Violation(f"{obj.kind} name {name!r} is {len(name)} characters, over KubeRay's limit of {limit}",
                            obj=obj.ref, path="metadata.name", value=name)
        if not _DNS_1035.match(name):
            yield Violation(f"{obj.kind} name {name!r} is not a DNS-1035 label (lower-case letters, digits and "
                            "dashes, starting with a letter)", obj=obj.ref, path="metadata.name", value=name)


POLICY = Policy(
    id="ray-cluster-name",
    title="Ray object names fit KubeRay's limits",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "KubeRay builds Service and pod names from the RayCluster name, so it rejects RayCluster names "
        "longer than 53 characters (RayJob and RayService: 47) or not DNS-1035 labels. Helm's usual "
        "63-character truncation lets such a name through to the operator, which then never creates the "
        "cluster."
    ),
    remediation=(
        "Shorten the release name or set a fullnameOverride of at most 53 characters (47 for RayJob and "
        "RayService) that starts with a letter."
    ),
    references=(
        "https://github.com/ray-project/kuberay/blob/master/ray-operator/controllers/ray/utils/validation.go",
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names",
    ),
    check=check,
)
