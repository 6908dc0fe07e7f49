"""Twins of the pod policies: every pod template of Pods, workloads and KubeRay objects."""

from __future__ import annotations

from ...secrets import CREDENTIAL_ENV_NAMES, WORKLOAD_IDENTITY_ENV_NAMES
from ..kinds import (
    BARE_PODS_ONLY,
    GPU,
    POD_OWNERS,
    POD_VARIABLES,
    RAY,
    SERVICEACCOUNT,
    WI_USE,
    each_container,
    is_number,
    label_is,
    uses_gpus,
)
from ..twin import Twin, Validation, Variable

# Worst case, per object: T pod templates (a RayCluster: head + worker groups), C containers in
# each of the three lists, E env entries per container. The API server charges about one unit per
# element visited and per regex match (RE2, linear in the string).
PER_CONTAINER = "Tx3C"


def _pods(policy: str, expression: str, message: str, cost: str, **extra) -> Twin:
    return Twin(policy=policy, kinds=POD_OWNERS, variables=POD_VARIABLES, match_conditions=(BARE_PODS_ONLY,),
                validations=(Validation(expression, message),), cost=cost, **extra)


def _every_container(predicate: str, lists: tuple[str, ...] | None = None, sidecars: str = "") -> str:
    """``predicate`` holds for every container of every pod spec, and of ``sidecars`` (a variable
    listing the containers KubeRay builds from the spec) when given."""
    inner = each_container("s", predicate) if lists is None else each_container("s", predicate, lists)
    tail = f" && variables.{sidecars}.all(c, {predicate})" if sidecars else ""
    return f"variables.specs.all(s, {inner}){tail}"


def _security_flag(field: str) -> str:
    return f"!has(c.securityContext) || !has(c.securityContext.{field}) || c.securityContext.{field} != true"


NO_PRIVILEGED = _pods(
    "no-privileged-containers", _every_container(_security_flag("privileged"), sidecars="sidecars"),
    "a container is privileged (securityContext.privileged: true)", f"{PER_CONTAINER} ~ 3x10^2 for T=10, C=10")

NO_PRIVILEGE_ESCALATION = _pods(
    "no-privilege-escalation", _every_container(_security_flag("allowPrivilegeEscalation"), sidecars="sidecars"),
    "a container sets securityContext.allowPrivilegeEscalation: true", f"{PER_CONTAINER} ~ 3x10^2")

NO_HOST_NAMESPACES = _pods(
    "no-host-namespaces",
    "variables.specs.all(s, " + " && ".join(f"(!has(s.{f}) || s.{f} != true)"
                                             for f in ("hostNetwork", "hostPID", "hostIPC")) + ")",
    "a pod shares the host's network, PID or IPC namespace", "3T ~ 30")

NO_HOST_PATH = _pods(
    "no-host-path-volumes", "variables.specs.all(s, !has(s.volumes) || s.volumes.all(v, !has(v.hostPath)))",
    "a pod mounts a hostPath volume", "TxV ~ 10^2 for V=10 volumes")

NO_ADDED_CAPABILITIES = _pods(
    "no-added-capabilities",
    _every_container("!has(c.securityContext) || !has(c.securityContext.capabilities) || "
                     "!has(c.securityContext.capabilities.add) || "
                     "c.securityContext.capabilities.add.all(a, string(a).matches('(?i)^(CAP_)?NET_BIND_SERVICE$'))",
                     sidecars="sidecars"),
    "a container adds a Linux capability other than NET_BIND_SERVICE", f"{PER_CONTAINER}xA ~ 3x10^3 for A=10")


def _requests(resource: str) -> str:
    return (f"((has(c.resources.requests) && '{resource}' in c.resources.requests) || "
            f"(has(c.resources.limits) && '{resource}' in c.resources.limits))")


CONTAINER_REQUESTS = _pods(
    "container-resource-requests",
    _every_container(f"has(c.resources) && {_requests('cpu')} && {_requests('memory')}",
                     ("initContainers", "containers")),
    "a container has no CPU or memory request", "Tx2C ~ 2x10^2")

_GPU_REQ, _GPU_LIM = f"c.resources.requests['{GPU}']", f"c.resources.limits['{GPU}']"
GPU_LIMITS = _pods(
    "gpu-resource-limits",
    _every_container(
        f"!has(c.resources) || !has(c.resources.requests) || !('{GPU}' in c.resources.requests) || "
        f"(has(c.resources.limits) && '{GPU}' in c.resources.limits && "
        f"(string({_GPU_LIM}) == string({_GPU_REQ}) || ({is_number(_GPU_LIM)} && {is_number(_GPU_REQ)} && "
        f"double(string({_GPU_LIM})) == double(string({_GPU_REQ})))))"),
    f"a container requests {GPU} without an equal limit", f"{PER_CONTAINER} ~ 3x10^2")

_ENV_NAMES = "|".join(sorted(CREDENTIAL_ENV_NAMES))
NO_CREDENTIAL_ENV = _pods(
    "no-credential-env",
    _every_container(f"!has(c.env) || c.env.all(e, !has(e.name) || !e.name.matches('(?i)^({_ENV_NAMES})$'))",
                     sidecars="sidecars"),
    "a container sets a long-lived credential environment variable (AZURE_CLIENT_SECRET, an account key, "
    "a SAS token, a connection string)", f"{PER_CONTAINER}xE ~ 3x10^3 for E=10",
    weaker="envFrom is not followed into the Secrets and ConfigMaps of the release: admission sees one "
           "object at a time.")

_WI_ENV = ", ".join(f"'{n}'" for n in sorted(WORKLOAD_IDENTITY_ENV_NAMES))
WI_ENV_OVERRIDE = Twin(
    policy="workload-identity-env-override",
    kinds=tuple(k for k in POD_OWNERS if k.kind != "Pod"),
    variables=POD_VARIABLES,
    validations=(Validation(
        f"variables.templates.all(t, !{label_is('t', WI_USE, 'true')} || !has(t.spec) || "
        + each_container("t.spec", f"!has(c.env) || c.env.all(e, !has(e.name) || !(e.name in [{_WI_ENV}]))") + ")",
        "a workload identity pod template sets AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE "
        "or AZURE_AUTHORITY_HOST, overriding what the webhook injects"),),
    cost=f"{PER_CONTAINER}xEx4 ~ 10^4",
    weaker="Pods themselves are not matched: the workload identity webhook adds these variables to every "
           "labelled Pod before validating admission runs, so only templates can be judged.")

WI_POD_LABEL = Twin(
    policy="workload-identity-pod-label", kinds=RAY, variables=POD_VARIABLES,
    validations=(Validation(f"variables.rayTemplates.all(t, {label_is('t', WI_USE, 'true')})",
                            f"a Ray head, worker or submitter pod template lacks the label {WI_USE}: \"true\""),),
    cost="T ~ 10")

_EXPIRATION = "azure.workload.identity/service-account-token-expiration"


def _expiration_ok(owner: str) -> str:
    value = f"{owner}.metadata.annotations['{_EXPIRATION}']"
    return (f"(!has({owner}.metadata) || !has({owner}.metadata.annotations) || "
            f"!('{_EXPIRATION}' in {owner}.metadata.annotations) || "
            f"(string({value}).matches('^[0-9]{{1,18}}$') && int(string({value})) >= 3600 && "
            f"int(string({value})) <= 86400))")


WI_TOKEN_EXPIRATION = Twin(
    policy="workload-identity-token-expiration",
    kinds=(SERVICEACCOUNT, *POD_OWNERS), variables=POD_VARIABLES, match_conditions=(BARE_PODS_ONLY,),
    validations=(Validation(
        f"object.kind == 'ServiceAccount' ? {_expiration_ok('object')} : "
        f"variables.templates.all(t, {_expiration_ok('t')})",
        f"{_EXPIRATION} is not a number of seconds from 3600 to 86400"),),
    cost="T ~ 10",
    weaker="A value padded with spaces or written with a sign (\" 3600\", \"+3600\") is denied, though the "
           "Python check reads it as a number.")


# A moving tag names no version: no digit once build variants (-gpu, -py311, -cu121 …) are cut
# from its end (image_pinned.moving_tag). The tag is after the last ':' of the last path segment.
_VARIANTS = "(-(gpu|cpu|cu[0-9]+|cuda[0-9.]+|py[0-9][0-9.]*|aarch64|arm64|x86_64|amd64))*"
_MOVING = f":[^/:0-9]*{_VARIANTS}$"


def _image_ok(image: str) -> str:
    # Pinned: a digest, or a tag that is neither "latest" nor moving.
    return (f"({image}.matches('@.') || ({image}.matches(':[^/]+$') && !{image}.matches(':latest$') && "
            f"!{image}.matches('{_MOVING}')))")


IMAGE_PINNED = Twin(
    policy="image-pinned", kinds=POD_OWNERS, variables=POD_VARIABLES, match_conditions=(BARE_PODS_ONLY,),
    validations=(
        Validation(_every_container(f"!has(c.image) || {_image_ok('c.image')}", sidecars="configuredSidecars"),
                   "a container image has no tag, the tag latest or a moving tag (no version), and no digest"),
    ),
    cost=f"{PER_CONTAINER} ~ 3x10^2",
    weaker="Only the no-tag, latest and moving-tag cases are exported; a version tag without a digest is an "
           "info finding in the Python check and has no admission action.")


def _normalised(image: str) -> str:
    # What parse_image makes of the registry: an explicit host ('.' or ':' in the first segment, or
    # localhost), else docker.io, and library/ for one-segment names.
    return (f"({image}.matches('^[^/]*[.:][^/]*/') || {image}.startsWith('localhost/') ? {image} : "
            f"({image}.contains('/') ? 'docker.io/' + {image} : 'docker.io/library/' + {image}))")


def _allowed(image: str) -> str:
    name = _normalised(image)
    return (f"variables.allowedRegistries.exists(p, {name}.startsWith(p + '/') || (p.contains('/') && "
            f"({name} == p || {name}.startsWith(p + ':') || {name}.startsWith(p + '@'))))")


IMAGE_REGISTRY = Twin(
    policy="image-registry-allowed", kinds=POD_OWNERS,
    variables=(*POD_VARIABLES, Variable("allowedRegistries", setting="allowedRegistries")),
    match_conditions=(BARE_PODS_ONLY,),
    # An empty allowlist allows every registry (matchConditions cannot read variables).
    validations=(Validation("size(variables.allowedRegistries) == 0 || "
                            + _every_container(f"!has(c.image) || {_allowed('c.image')}",
                                               sidecars="configuredSidecars"),
                            "a container image is not from an allowed registry"),),
    cost=f"{PER_CONTAINER}xR ~ 3x10^3 for R=10 registries",
    settings=("allowedRegistries",),
    weaker="A registry host written in capitals in the image (MyACR.azurecr.io/ray) is denied; the Python "
           "check compares hosts without case.")


def _tolerated(spec: str) -> str:
    taint = "variables.gpuTaint"
    effect_ok = f"(!has(t.effect) || t.effect == '' || t.effect == {taint}.effect)"
    exists = "(has(t.operator) && t.operator == 'Exists')"
    value = "(has(t.value) ? string(t.value) : '')"
    return (f"(has({spec}.tolerations) && {spec}.tolerations.exists(t, {effect_ok} && "
            f"((!has(t.key) || t.key == '') ? {exists} : "
            f"(t.key == {taint}.key && ({exists} || {value} == {taint}.value)))))")


GPU_TAINT = Twin(
    policy="gpu-taint-toleration", kinds=POD_OWNERS,
    variables=(*POD_VARIABLES, Variable("gpuTaint", setting="gpuTaint")),
    match_conditions=(BARE_PODS_ONLY,),
    validations=(Validation(f"variables.specs.all(s, !{uses_gpus('s')} || {_tolerated('s')})",
                            "a pod that uses GPUs does not tolerate the GPU node pool taint"),),
    cost="Tx(C+L) ~ 2x10^2 for L=10 tolerations",
    settings=("gpuTaint",), warn_without="gpuTaint")

_ESCALATION_SET = "has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation)"
RAY_ESCALATION_UNSET = Twin(
    policy="ray-privilege-escalation-unset", kinds=RAY, variables=POD_VARIABLES,
    validations=(Validation(
        f"variables.rayTemplates.all(t, !has(t.spec) || {each_container('t.spec', _ESCALATION_SET)}) && "
        f"variables.sidecars.all(c, {_ESCALATION_SET})",
        "a Ray container leaves securityContext.allowPrivilegeEscalation unset, so escalation is allowed"),),
    cost=f"{PER_CONTAINER} ~ 3x10^2")

TWINS: tuple[Twin, ...] = (
    NO_PRIVILEGED, NO_PRIVILEGE_ESCALATION, NO_HOST_NAMESPACES, NO_HOST_PATH, NO_ADDED_CAPABILITIES,
    CONTAINER_REQUESTS, GPU_LIMITS, NO_CREDENTIAL_ENV, WI_ENV_OVERRIDE, WI_POD_LABEL, WI_TOKEN_EXPIRATION,
    IMAGE_PINNED, IMAGE_REGISTRY, GPU_TAINT, RAY_ESCALATION_UNSET,
)
__all__ = ["TWINS"]
