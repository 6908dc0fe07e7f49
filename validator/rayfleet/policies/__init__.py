"""The policy catalogue. Every policy is registered here, in one explicit list.

A policy's ID is its module name with dashes; ``tests/policies`` checks that and that every
policy has fixtures.
"""

from __future__ import annotations

from ..errors import InputError
from . import (
    custom_resource_schema,
    kuberay_crds_unavailable,
    kubernetes_schema,
    render_error,
    unknown_kind,
    values_schema,
    waiver_expired,
    waiver_expiring,
    waiver_unmatched,
)
from .base import FleetView, Policy, Release, Scope

ALL_POLICIES: tuple[Policy, ...] = (
    # raised by the pipeline
    render_error.POLICY,
    values_schema.POLICY,
    kubernetes_schema.POLICY,
    custom_resource_schema.POLICY,
    kuberay_crds_unavailable.POLICY,
    unknown_kind.POLICY,
    waiver_expired.POLICY,
    waiver_expiring.POLICY,
    waiver_unmatched.POLICY,
    # release policies
    # fleet policies
)

_BY_ID = {p.id: p for p in ALL_POLICIES}


def get_policy(policy_id: str) -> Policy:
    try:
        return _BY_ID[policy_id]
    except KeyError:
        raise InputError(f"unknown policy {policy_id!r} (see `rayfleet policies`)") from None


__all__ = ["ALL_POLICIES", "FleetView", "Policy", "Release", "Scope", "get_policy"]
