#!/usr/bin/env bash
# End-to-end test of the ray-aks chart on kind: create a kind cluster, install the chart with
# ci/e2e/values-kind.yaml (KubeRay operator included), wait for the RayCluster to be ready, submit
# a small Ray job through the head and check what it printed.
#
# Needs docker (a running engine), kind, kubectl and helm, and network access to pull the KubeRay
# chart and the Ray image. Run it by hand from anywhere:
#
#   ci/e2e/run.sh                  # creates kind cluster "rayfleet-e2e", deletes it at the end
#   KEEP_CLUSTER=1 ci/e2e/run.sh   # leave the cluster running to look around
#
# Settings (environment): CLUSTER_NAME (rayfleet-e2e), KIND_NODE_IMAGE (kind's default),
# NAMESPACE (ray), RELEASE (ray), TIMEOUT (900s), KEEP_CLUSTER (0), ARTIFACTS_DIR (where the
# diagnostics go when the test fails; empty means print them only).
# A cluster that already exists under CLUSTER_NAME is reused and never deleted.
# Exit codes: 0 passed, 1 the test failed, 2 a tool is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="$ROOT/charts/ray-aks"
VALUES="$ROOT/ci/e2e/values-kind.yaml"
CLUSTER_NAME="${CLUSTER_NAME:-rayfleet-e2e}"
KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-}"
NAMESPACE="${NAMESPACE:-ray}"
RELEASE="${RELEASE:-ray}"
TIMEOUT="${TIMEOUT:-900s}"
KEEP_CLUSTER="${KEEP_CLUSTER:-0}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-}"
# The worker group's vmSize in values-kind.yaml: the kind node gets this instance-type label so the
# group's nodeSelector matches it, as it would match an AKS node of that size.
VM_SIZE="Standard_D4ds_v5"
KUBERAY_REPO="https://ray-project.github.io/kuberay-helm/"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl helm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    printf 'run.sh: missing tool: %s (needs docker, kind, kubectl and helm on PATH)\n' "$tool" >&2
    exit 2
  fi
done
if ! docker info >/dev/null 2>&1; then
  printf 'run.sh: missing tool: a running docker engine (docker info failed)\n' >&2
  exit 2
fi

CONTEXT="kind-$CLUSTER_NAME"
CREATED=0
kc() { kubectl --context "$CONTEXT" --namespace "$NAMESPACE" "$@"; }

diagnose() {
  log "diagnostics"
  {
    kc get raycluster,pods,pvc,events -o wide || true
    kc describe raycluster || true
    kc describe pods || true
    kc logs --selector app.kubernetes.io/name=kuberay-operator --tail 200 || true
    kc logs --selector ray.io/node-type=head --all-containers --tail 200 || true
  } 2>&1 | if [ -n "$ARTIFACTS_DIR" ]; then mkdir -p "$ARTIFACTS_DIR" && tee "$ARTIFACTS_DIR/diagnostics.txt"; else cat; fi
}

cleanup() {
  local code=$?
  trap - EXIT
  if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then diagnose; fi
  if [ "$CREATED" = 1 ] && [ "$KEEP_CLUSTER" != 1 ]; then
    log "deleting kind cluster $CLUSTER_NAME (KEEP_CLUSTER=1 keeps it)"
    kind delete cluster --name "$CLUSTER_NAME" || true
  elif [ "$CREATED" = 1 ]; then
    log "keeping kind cluster $CLUSTER_NAME (kubectl --context $CONTEXT); delete it with: kind delete cluster --name $CLUSTER_NAME"
  fi
  exit "$code"
}
trap cleanup EXIT

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "reusing kind cluster $CLUSTER_NAME"
else
  log "creating kind cluster $CLUSTER_NAME"
  CREATED=1
  kind create cluster --name "$CLUSTER_NAME" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
fi
kubectl --context "$CONTEXT" label nodes --all --overwrite "node.kubernetes.io/instance-type=$VM_SIZE"

log "shared data volume: a hostPath PersistentVolume and the ray-data claim (ReadWriteMany on one node)"
kubectl --context "$CONTEXT" create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl --context "$CONTEXT" apply -f -
kubectl --context "$CONTEXT" apply -f - <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: ray-data-$NAMESPACE
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ""
  claimRef: {namespace: $NAMESPACE, name: ray-data}
  hostPath: {path: /var/local/ray-data-$NAMESPACE, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ray-data
  namespace: $NAMESPACE
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: ray-data-$NAMESPACE
  resources:
    requests: {storage: 1Gi}
YAML

log "installing the chart (release $RELEASE in namespace $NAMESPACE)"
helm repo add kuberay "$KUBERAY_REPO" --force-update >/dev/null
helm dependency build "$CHART"
helm upgrade --install "$RELEASE" "$CHART" --kube-context "$CONTEXT" --namespace "$NAMESPACE" \
  --values "$VALUES" --wait --timeout "$TIMEOUT"

cluster="$(kc get rayclusters --selector "app.kubernetes.io/instance=$RELEASE" -o jsonpath='{.items[*].metadata.name}')"
[ -n "$cluster" ] || die "the release created no RayCluster"
[ "$cluster" = "${cluster%% *}" ] || die "expected one RayCluster in release $RELEASE, found: $cluster"
log "waiting for RayCluster $cluster to be ready (pulling the Ray image takes a few minutes)"
kc wait "raycluster/$cluster" --for=jsonpath='{.status.state}'=ready --timeout "$TIMEOUT"

head="$(kc get pods --selector "ray.io/cluster=$cluster,ray.io/node-type=head" -o jsonpath='{.items[*].metadata.name}')"
head="${head%% *}"
[ -n "$head" ] || die "no head pod for RayCluster $cluster"

log "submitting a Ray job through the head pod $head"
# `ray job submit` joins the entrypoint with subprocess.list2cmdline and runs it with /bin/sh:
# keep the program free of double quotes, $ and backslashes.
program="import ray; ray.init(); print('rayfleet-e2e resources:', ray.cluster_resources()); print('rayfleet-e2e alive nodes:', sum(1 for n in ray.nodes() if n['Alive']))"
output="$(kc exec "$head" -c ray-head -- ray job submit --address http://127.0.0.1:8265 -- python -c "$program" 2>&1)" || {
  printf '%s\n' "$output" >&2
  die "the Ray job failed"
}
printf '%s\n' "$output"

grep -q "rayfleet-e2e resources: {.*'CPU': " <<<"$output" || die "the job did not print the cluster's CPU resources"
nodes="$(sed -n "s/.*rayfleet-e2e alive nodes: \([0-9][0-9]*\).*/\1/p" <<<"$output" | tail -n 1)"
[ "${nodes:-0}" -ge 2 ] || die "expected the head and one worker alive, the job saw ${nodes:-no} nodes"
grep -q "succeeded" <<<"$output" || die "ray job submit did not report success"

log "passed: RayCluster $cluster is ready and ran a job on $nodes nodes"
