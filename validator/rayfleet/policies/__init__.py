"""The policy catalogue. Every policy is registered here, in one explicit list.

A policy's ID is its module name with dashes; ``tests/policies`` checks that and that every
policy has fixtures.
"""

from __future__ import annotations

from ..errors import InputError
from . import (
    aks_blob_csi_driver,
    aks_oidc_issuer,
    aks_workload_identity,
    blob_container_name,
    blob_reclaim_retain,
    blob_token_only_auth,
    blob_volume_handle,
    blobfuse_allow_other,
    blobfuse_cache_size,
    blobfuse_discouraged_options,
    blobfuse_secret_mount_options,
    container_resource_requests,
    custom_resource_schema,
    failover_headroom,
    failover_peers_exist,
    federated_credential_limit,
    federated_credential_mismatch,
    federated_credential_missing,
    federated_credential_stale,
    fleet_members_match,
    fleet_stage_order,
    fleet_stage_per_region,
    flux_helmrelease_per_region,
    flux_values_parity,
    gpu_quota_fit,
    gpu_resource_limits,
    gpu_taint_toleration,
    image_pinned,
    image_registry_allowed,
    kuberay_crds_unavailable,
    kubernetes_schema,
    no_added_capabilities,
    no_credential_env,
    no_credential_secrets,
    no_host_namespaces,
    no_host_path_volumes,
    no_literal_credentials,
    no_privilege_escalation,
    no_privileged_containers,
    no_secret_objects,
    preflight_blob_csi_token,
    preflight_gpu_nodes,
    preflight_kuberay_crds,
    preflight_kubernetes_version,
    preflight_namespace,
    preflight_workload_identity_webhook,
    ray_cluster_name,
    ray_gpu_count_once,
    ray_head_no_gpu,
    ray_image_consistent,
    ray_version_consistent,
    ray_worker_replicas,
    render_error,
    shared_pvc_read_write_many,
    shared_pvc_same_mount_path,
    storage_in_region,
    unique_cluster_names,
    unknown_kind,
    unknown_vm_size,
    values_schema,
    waiver_expired,
    waiver_expiring,
    waiver_unmatched,
    workload_identity_env_override,
    workload_identity_pod_label,
    workload_identity_service_account,
    workload_identity_token_expiration,
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
    no_secret_objects.POLICY,
    no_credential_secrets.POLICY,
    no_literal_credentials.POLICY,
    no_credential_env.POLICY,
    blob_token_only_auth.POLICY,
    blobfuse_secret_mount_options.POLICY,
    workload_identity_pod_label.POLICY,
    workload_identity_service_account.POLICY,
    workload_identity_token_expiration.POLICY,
    workload_identity_env_override.POLICY,
    shared_pvc_read_write_many.POLICY,
    shared_pvc_same_mount_path.POLICY,
    blob_reclaim_retain.POLICY,
    blob_volume_handle.POLICY,
    blob_container_name.POLICY,
    blobfuse_allow_other.POLICY,
    blobfuse_cache_size.POLICY,
    blobfuse_discouraged_options.POLICY,
    gpu_resource_limits.POLICY,
    ray_gpu_count_once.POLICY,
    gpu_taint_toleration.POLICY,
    ray_head_no_gpu.POLICY,
    ray_worker_replicas.POLICY,
    ray_cluster_name.POLICY,
    ray_image_consistent.POLICY,
    image_pinned.POLICY,
    image_registry_allowed.POLICY,
    no_privileged_containers.POLICY,
    no_privilege_escalation.POLICY,
    no_added_capabilities.POLICY,
    no_host_namespaces.POLICY,
    no_host_path_volumes.POLICY,
    container_resource_requests.POLICY,
    unknown_vm_size.POLICY,
    # fleet policies
    unique_cluster_names.POLICY,
    failover_peers_exist.POLICY,
    gpu_quota_fit.POLICY,
    failover_headroom.POLICY,
    ray_version_consistent.POLICY,
    storage_in_region.POLICY,
    federated_credential_limit.POLICY,
    # fleet policies: GitOps delivery exports (rayfleet.delivery)
    flux_helmrelease_per_region.POLICY,
    flux_values_parity.POLICY,
    fleet_stage_per_region.POLICY,
    fleet_stage_order.POLICY,
    # live checks: cluster preflight (rayfleet.kube.preflight)
    preflight_kubernetes_version.POLICY,
    preflight_kuberay_crds.POLICY,
    preflight_blob_csi_token.POLICY,
    preflight_workload_identity_webhook.POLICY,
    preflight_gpu_nodes.POLICY,
    preflight_namespace.POLICY,
    # live checks: workload identity and AKS settings (rayfleet.azure.identity)
    federated_credential_missing.POLICY,
    federated_credential_mismatch.POLICY,
    federated_credential_stale.POLICY,
    aks_oidc_issuer.POLICY,
    aks_workload_identity.POLICY,
    aks_blob_csi_driver.POLICY,
    # live checks: the Fleet Manager hub (rayfleet.kube.update_run)
    fleet_members_match.POLICY,
)

_BY_ID = {p.id: p for p in ALL_POLICIES}


def get_policy(policy_id: str) -> Policy:
    try:
        return _BY_ID[policy_id]
    except KeyError:
        raise InputError(f"unknown policy {policy_id!r} (see `rayfleet policies`)") from None


__all__ = ["ALL_POLICIES", "FleetView", "Policy", "Release", "Scope", "get_policy"]
