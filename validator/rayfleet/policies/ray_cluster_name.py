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
# The API server cuts a generateName prefix to 58 characters and appends 5 random ones
# (k8s.io/apiserver names.SimpleNameGenerator); "a0b1c" stands in for them.
_GENERATED_PREFIX_MAX, _GENERATED_SUFFIX = 58, "a0b1c"


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.of_kind(*MAX_LENGTH):
        if obj.group != RAY_GROUP:
            continue
        limit = MAX_LENGTH[obj.kind]
        prefix = obj.generate_name
        if prefix is not None:
            name = prefix[:_GENERATED_PREFIX_MAX] + _GENERATED_SUFFIX
            shown, path, value = f"generateName {prefix!r} (+5 random characters)", "metadata.generateName", prefix
        else:
            name = obj.name
            shown, path, value = f"name {name!r}", "metadata.name", name
        if len(name) > limit:
            yield Violation(f"{obj.kind} {shown} is {len(name)} characters, over KubeRay's limit of {limit}",
                            obj=obj.ref, path=path, value=value)
        if not _DNS_1035.match(name):
            yield Violation(f"{obj.kind} {shown} is not a DNS-1035 label (lower-case letters, digits and "
                            "dashes, starting with a letter)", obj=obj.ref, path=path, value=value)


POLICY = Policy(
    id="ray-cluster-name",
    title="Ray object names fit KubeRay's limits",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "KubeRay builds Service and pod names from the RayCluster name, so it rejects RayCluster names "
        "longer than 53 characters (RayJob and RayService: 47) or not DNS-1035 labels. Helm's usual "
        "63-character truncation lets such a name through to the operator, which then never creates the "
        "cluster. A generateName prefix (kubectl create) is checked with the 5 characters the API server "
        "appends."
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
