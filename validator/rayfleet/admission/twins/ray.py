"""Twins of the KubeRay policies: RayCluster, RayJob and RayService."""

from __future__ import annotations

from ..kinds import POD_VARIABLES, RAY, is_number, uses_gpus
from ..twin import Twin, Validation

# The API server names a generateName object before validating admission runs; offline (a
# manifest with generateName only) the name is the prefix cut to 58 characters plus 5 random
# alphanumerics, as ray-cluster-name assumes.
_NAMED = "has(object.metadata.name) && object.metadata.name != ''"
_PREFIX = "object.metadata.generateName"
RAY_CLUSTER_NAME = Twin(
    policy="ray-cluster-name", kinds=RAY,
    validations=(
        Validation(f"({_NAMED} ? size(object.metadata.name) : (size({_PREFIX}) > 58 ? 63 : size({_PREFIX}) + 5)) "
                   "<= (object.kind == 'RayCluster' ? 53 : 47)",
                   "the name is longer than KubeRay allows (RayCluster 53, RayJob and RayService 47 characters)"),
        Validation(f"{_NAMED} ? object.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') : "
                   f"(size({_PREFIX}) > 58 ? {_PREFIX}.matches('^[a-z][-a-z0-9]{{57}}') : "
                   f"{_PREFIX}.matches('^[a-z][-a-z0-9]*$'))",
                   "the name is not a DNS-1035 label (lower-case letters, digits and dashes, starting with a letter)"),
    ),
    cost="1 regex over a name of at most 253 characters")

_HEAD_GPUS = "(has(g.template.spec) && " + uses_gpus("g.template.spec") + ")"
RAY_HEAD_NO_GPU = Twin(
    policy="ray-head-no-gpu", kinds=RAY, variables=POD_VARIABLES,
    validations=(Validation(
        f"variables.rayHead.all(g, !has(g.template) || (!{_HEAD_GPUS} && has(g.rayStartParams) && "
        "'num-gpus' in g.rayStartParams && string(g.rayStartParams['num-gpus']).matches('^\\\\s*0(\\\\.0)?\\\\s*$')))",
        "the Ray head asks for GPUs or does not set num-gpus: \"0\" in rayStartParams"),),
    cost="C ~ 10")

RAY_GPU_COUNT_ONCE = Twin(
    policy="ray-gpu-count-once", kinds=RAY, variables=POD_VARIABLES,
    validations=(Validation(
        "(variables.rayHead + variables.rayWorkers).all(g, !has(g.template) || !has(g.rayStartParams) || "
        f"!('num-gpus' in g.rayStartParams) || (!{_HEAD_GPUS} && "
        "!(has(g.resources) && g.resources.exists(k, k.matches('(?i)^GPU$')))))",
        "a Ray group sets num-gpus in rayStartParams and also GPUs in its container resources or group resources"),),
    cost="Gx(C+K) ~ 2x10^2 for G=10 groups")


def _num(field: str) -> str:
    return f"(has(g.{field}) && {is_number('g.' + field)})"


def _val(field: str) -> str:
    return f"double(string(g.{field}))"


RAY_WORKER_REPLICAS = Twin(
    policy="ray-worker-replicas", kinds=RAY, variables=POD_VARIABLES,
    validations=(Validation(
        "variables.rayWorkers.all(g, "
        + " && ".join(f"(!{_num(f)} || {_val(f)} >= 0.0)" for f in ("minReplicas", "replicas", "maxReplicas"))
        + f" && (!({_num('minReplicas')} && {_num('maxReplicas')}) || {_val('minReplicas')} <= {_val('maxReplicas')})"
        + f" && (!({_num('replicas')} && {_num('minReplicas')}) || {_val('replicas')} >= {_val('minReplicas')})"
        + f" && (!({_num('replicas')} && {_num('maxReplicas')}) || {_val('replicas')} <= {_val('maxReplicas')}))",
        "a worker group's replicas, minReplicas and maxReplicas are negative or out of order"),),
    cost="G ~ 10")

TWINS: tuple[Twin, ...] = (RAY_CLUSTER_NAME, RAY_HEAD_NO_GPU, RAY_GPU_COUNT_ONCE, RAY_WORKER_REPLICAS)
__all__ = ["TWINS"]
