exit 0
// ---- federated-credentials-rg-rayfleet-eus2.bicep (rayfleet identity plan --format bicep, fleet examples/fleet.yaml)
// Deploy with: az deployment group create --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b --resource-group rg-rayfleet-eus2 --template-file <this file>
// Writes to one managed identity must be serial (409 Conflict otherwise): every credential
// depends on the one before it.

resource identity_id_rayfleet_eus2 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: 'id-rayfleet-eus2'
}

resource fic_eastus2_ray_ray 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_rayfleet_eus2
  name: 'eastus2-ray-ray'
  properties: {
    issuer: 'https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/'
    subject: 'system:serviceaccount:ray:ray'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

resource fic_eastus2_ray_ray_worker 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_rayfleet_eus2
  name: 'eastus2-ray-ray-worker'
  properties: {
    issuer: 'https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/'
    subject: 'system:serviceaccount:ray:ray-worker'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
  dependsOn: [
    fic_eastus2_ray_ray
  ]
}

// ---- federated-credentials-rg-rayfleet-sdc.bicep (rayfleet identity plan --format bicep, fleet examples/fleet.yaml)
// Deploy with: az deployment group create --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b --resource-group rg-rayfleet-sdc --template-file <this file>
// Writes to one managed identity must be serial (409 Conflict otherwise): every credential
// depends on the one before it.

resource identity_id_rayfleet_sdc 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: 'id-rayfleet-sdc'
}

resource fic_swedencentral_ray_ray 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_rayfleet_sdc
  name: 'swedencentral-ray-ray'
  properties: {
    issuer: 'https://swedencentral.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32/'
    subject: 'system:serviceaccount:ray:ray'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

resource fic_swedencentral_ray_ray_worker 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_rayfleet_sdc
  name: 'swedencentral-ray-ray-worker'
  properties: {
    issuer: 'https://swedencentral.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c32/'
    subject: 'system:serviceaccount:ray:ray-worker'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
  dependsOn: [
    fic_swedencentral_ray_ray
  ]
}

// ---- federated-credentials-rg-rayfleet-wus3.bicep (rayfleet identity plan --format bicep, fleet examples/fleet.yaml)
// Deploy with: az deployment group create --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b --resource-group rg-rayfleet-wus3 --template-file <this file>
// Writes to one managed identity must be serial (409 Conflict otherwise): every credential
// depends on the one before it.

resource identity_id_rayfleet_wus3 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: 'id-rayfleet-wus3'
}

resource fic_westus3_ray_ray 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_rayfleet_wus3
  name: 'westus3-ray-ray'
  properties: {
    issuer: 'https://westus3.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/4d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b43/'
    subject: 'system:serviceaccount:ray:ray'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

resource fic_westus3_ray_ray_worker 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_rayfleet_wus3
  name: 'westus3-ray-ray-worker'
  properties: {
    issuer: 'https://westus3.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/4d6f8a0b-3c5e-4f7a-9b1c-3d5e7f9a1b43/'
    subject: 'system:serviceaccount:ray:ray-worker'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
  dependsOn: [
    fic_westus3_ray_ray
  ]
}

// ---- federated-credentials-rg-ray-manager.bicep (rayfleet identity plan --format bicep, fleet examples/fleet.yaml)
// Deploy with: az deployment group create --subscription 6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b --resource-group rg-ray-manager --template-file <this file>
// Writes to one managed identity must be serial (409 Conflict otherwise): every credential
// depends on the one before it.

resource identity_id_ray_kueue_manager 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: 'id-ray-kueue-manager'
}

resource fic_manager_ray_kueue_controller_manager 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity_id_ray_kueue_manager
  name: 'manager-ray-kueue-controller-manager'
  properties: {
    issuer: 'https://centralus.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/1e3a5c7d-9f2b-4d6e-8a1c-3e5f7a9b1d54/'
    subject: 'system:serviceaccount:ray:kueue-controller-manager'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}
Role assignments (dynamic blob provisioning; static PersistentVolumes need none):
eastus2: Storage Account Contributor for the control-plane identity of AKS cluster rayfleet-eus2 on storage account /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-eus2/providers/Microsoft.Storage/storageAccounts/rayfleeteus2data
swedencentral: Storage Account Contributor for the control-plane identity of AKS cluster rayfleet-sdc on storage account /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-sdc/providers/Microsoft.Storage/storageAccounts/rayfleetsdcdata
westus3: Storage Account Contributor for the control-plane identity of AKS cluster rayfleet-wus3 on storage account /subscriptions/6a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-rayfleet-wus3/providers/Microsoft.Storage/storageAccounts/rayfleetwus3data
create them with: rayfleet identity plan --format az
Azure role assignments for the MultiKueue manager (on each worker cluster):
WORKER         CLUSTER        ASSIGNEE                                                     ROLE
eastus2        rayfleet-eus2  id-ray-kueue-manager (2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34)  rayfleet MultiKueue manager
swedencentral  rayfleet-sdc   id-ray-kueue-manager (2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34)  rayfleet MultiKueue manager
westus3        rayfleet-wus3  id-ray-kueue-manager (2a9c4e6f-8b1d-4f3a-9c5e-7d8f0a1b2c34)  rayfleet MultiKueue manager
rayfleet MultiKueue manager: data actions Microsoft.ContainerService/managedClusters/customresources/read, Microsoft.ContainerService/managedClusters/customresources/write, Microsoft.ContainerService/managedClusters/customresources/delete, limited to API groups ray.io, kueue.x-k8s.io
note: region manager: no rendered kueue-controller-manager ServiceAccount names its client ID; taking the manager's only identity id-ray-kueue-manager
create them with: rayfleet identity plan --format az
