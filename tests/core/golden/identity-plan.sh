exit 0
#!/usr/bin/env bash
# Federated identity credentials for the rayfleet fleet examples/fleet.yaml (rayfleet identity plan --format az).
# One command at a time: concurrent writes to one managed identity fail with 409 Conflict.
# Creating a credential that exists updates it (same name).
set -euo pipefail

# eastus2: system:serviceaccount:ray:ray -> id-rayfleet-eus2 (3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61)
az identity federated-credential create \
  --name eastus2-ray-ray \
  --identity-name id-rayfleet-eus2 \
  --resource-group rg-rayfleet-eus2 \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/ \
  --subject system:serviceaccount:ray:ray \
  --audiences api://AzureADTokenExchange

# eastus2: system:serviceaccount:ray:ray-worker -> id-rayfleet-eus2 (3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61)
az identity federated-credential create \
  --name eastus2-ray-ray-worker \
  --identity-name id-rayfleet-eus2 \
  --resource-group rg-rayfleet-eus2 \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/ \
  --subject system:serviceaccount:ray:ray-worker \
  --audiences api://AzureADTokenExchange

# swedencentral: system:serviceaccount:ray:ray -> id-rayfleet-sdc (8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12)
az identity federated-credential create \
  --name swedencentral-ray-ray \
  --identity-name id-rayfleet-sdc \
  --resource-group rg-rayfleet-sdc \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://swedencentral.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32/ \
  --subject system:serviceaccount:ray:ray \
  --audiences api://AzureADTokenExchange

# swedencentral: system:serviceaccount:ray:ray-worker -> id-rayfleet-sdc (8d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e12)
az identity federated-credential create \
  --name swedencentral-ray-ray-worker \
  --identity-name id-rayfleet-sdc \
  --resource-group rg-rayfleet-sdc \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://swedencentral.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32/ \
  --subject system:serviceaccount:ray:ray-worker \
  --audiences api://AzureADTokenExchange

# westus3: system:serviceaccount:ray:ray -> id-rayfleet-wus3 (c5b7d9e1-2f4a-4b6c-9d8e-0f1a2b3c4d73)
az identity federated-credential create \
  --name westus3-ray-ray \
  --identity-name id-rayfleet-wus3 \
  --resource-group rg-rayfleet-wus3 \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://westus3.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/4d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b43/ \
  --subject system:serviceaccount:ray:ray \
  --audiences api://AzureADTokenExchange

# westus3: system:serviceaccount:ray:ray-worker -> id-rayfleet-wus3 (c5b7d9e1-2f4a-4b6c-9d8e-0f1a2b3c4d73)
az identity federated-credential create \
  --name westus3-ray-ray-worker \
  --identity-name id-rayfleet-wus3 \
  --resource-group rg-rayfleet-wus3 \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://westus3.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/4d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b43/ \
  --subject system:serviceaccount:ray:ray-worker \
  --audiences api://AzureADTokenExchange

# manager: system:serviceaccount:ray:kueue-controller-manager -> id-ray-kueue-manager (7e3f9a2b-6c4d-4e8f-a1b2-c3d4e5f60718)
az identity federated-credential create \
  --name manager-ray-kueue-controller-manager \
  --identity-name id-ray-kueue-manager \
  --resource-group rg-ray-manager \
  --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b \
  --issuer https://centralus.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/1e3a5c7d-9f2b-4d6e-8a1c-3e5f7a9b1d54/ \
  --subject system:serviceaccount:ray:kueue-controller-manager \
  --audiences api://AzureADTokenExchange

# Entra ID takes from a few seconds to several minutes to propagate new credentials;
# until then token exchanges fail with AADSTS70021. Verify with: rayfleet identity check --live
# Role assignments: the Blob CSI controller creates containers with the AKS control-plane identity.
# eastus2: Storage Account Contributor on rayfleeteus2data
az role assignment create \
  --role 'Storage Account Contributor' \
  --assignee-object-id "$(az aks show --resource-group rg-rayfleet-eus2 --name rayfleet-eus2 --query 'identity.principalId || values(identity.userAssignedIdentities)[0].principalId' -o tsv)" \
  --assignee-principal-type ServicePrincipal \
  --scope /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-eus2/providers/Microsoft.Storage/storageAccounts/rayfleeteus2data

# swedencentral: Storage Account Contributor on rayfleetsdcdata
az role assignment create \
  --role 'Storage Account Contributor' \
  --assignee-object-id "$(az aks show --resource-group rg-rayfleet-sdc --name rayfleet-sdc --query 'identity.principalId || values(identity.userAssignedIdentities)[0].principalId' -o tsv)" \
  --assignee-principal-type ServicePrincipal \
  --scope /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-sdc/providers/Microsoft.Storage/storageAccounts/rayfleetsdcdata

# westus3: Storage Account Contributor on rayfleetwus3data
az role assignment create \
  --role 'Storage Account Contributor' \
  --assignee-object-id "$(az aks show --resource-group rg-rayfleet-wus3 --name rayfleet-wus3 --query 'identity.principalId || values(identity.userAssignedIdentities)[0].principalId' -o tsv)" \
  --assignee-principal-type ServicePrincipal \
  --scope /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-wus3/providers/Microsoft.Storage/storageAccounts/rayfleetwus3data


# Azure RBAC for the MultiKueue manager on each worker (workers with Azure RBAC for Kubernetes
# authorization; on workers with Kubernetes RBAC only, the chart's ClusterRoleBinding is enough).
# The custom role, once (update it with `az role definition update` if it exists):
az role definition create --role-definition '{"Name": "rayfleet MultiKueue manager", "Description": "Lets the MultiKueue manager create, read and delete RayJobs, RayClusters, RayServices and Kueue Workloads on a worker AKS cluster (Azure RBAC for Kubernetes authorization).", "Actions": [], "NotActions": [], "DataActions": ["Microsoft.ContainerService/managedClusters/customresources/read", "Microsoft.ContainerService/managedClusters/customresources/write", "Microsoft.ContainerService/managedClusters/customresources/delete"], "NotDataActions": [], "AssignableScopes": ["/subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"]}'
MANAGER_PRINCIPAL_ID=2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34  # id-ray-kueue-manager (7e3f9a2b-6c4d-4e8f-a1b2-c3d4e5f60718)

# eastus2: id-ray-kueue-manager may run MultiKueue's jobs on rayfleet-eus2
az role assignment create \
  --role 'rayfleet MultiKueue manager' \
  --assignee-object-id "$MANAGER_PRINCIPAL_ID" \
  --assignee-principal-type ServicePrincipal \
  --scope /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-eus2/providers/Microsoft.ContainerService/managedClusters/rayfleet-eus2 \
  --condition '((!(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/read'"'"'}) AND !(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/write'"'"'}) AND !(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/delete'"'"'})) OR (@Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase '"'"'ray.io'"'"' OR @Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase '"'"'kueue.x-k8s.io'"'"'))' \
  --condition-version 2.0

# swedencentral: id-ray-kueue-manager may run MultiKueue's jobs on rayfleet-sdc
az role assignment create \
  --role 'rayfleet MultiKueue manager' \
  --assignee-object-id "$MANAGER_PRINCIPAL_ID" \
  --assignee-principal-type ServicePrincipal \
  --scope /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-sdc/providers/Microsoft.ContainerService/managedClusters/rayfleet-sdc \
  --condition '((!(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/read'"'"'}) AND !(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/write'"'"'}) AND !(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/delete'"'"'})) OR (@Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase '"'"'ray.io'"'"' OR @Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase '"'"'kueue.x-k8s.io'"'"'))' \
  --condition-version 2.0

# westus3: id-ray-kueue-manager may run MultiKueue's jobs on rayfleet-wus3
az role assignment create \
  --role 'rayfleet MultiKueue manager' \
  --assignee-object-id "$MANAGER_PRINCIPAL_ID" \
  --assignee-principal-type ServicePrincipal \
  --scope /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-wus3/providers/Microsoft.ContainerService/managedClusters/rayfleet-wus3 \
  --condition '((!(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/read'"'"'}) AND !(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/write'"'"'}) AND !(ActionMatches{'"'"'Microsoft.ContainerService/managedClusters/customresources/delete'"'"'})) OR (@Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase '"'"'ray.io'"'"' OR @Request[Microsoft.ContainerService/managedClusters/customResources:group] StringEqualsIgnoreCase '"'"'kueue.x-k8s.io'"'"'))' \
  --condition-version 2.0

# Role assignments take up to five minutes to reach the AKS authorization webhook.
