"""blob-token-only-auth: the offending value each violation carries (what traces a finding back to
the values file line that set it), and storeAccountKey read as written."""

from __future__ import annotations

from rayfleet.findings import ObjectRef
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies.blob_token_only_auth import POLICY
from rayfleet.subjects import ReleaseObjects

GUID = "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"


def violations(parameters: str):
    text = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\n"
            f"provisioner: blob.csi.azure.com\nparameters: {parameters}\n")
    release = ReleaseObjects(objects=tuple(objects_from_text(text, "m.yaml")), settings=PolicySettings(),
                             kube_version="1.33")
    return [(v.message, v.obj, v.path, v.value) for v in POLICY.check(release)]


SC = ObjectRef("storage.k8s.io/v1", "StorageClass", None, "sc")


def test_msi_auth_carries_the_auth_type_written():
    assert violations("{AzureStorageAuthType: ' Msi '}") == [
        ("StorageClass 'sc' sets AzureStorageAuthType: MSI: blobfuse2 mounts as a managed identity assigned to "
         "the node, which every pod on the node can use; no account key is stored, but access is not tied to the "
         "pod's workload identity", SC, "parameters.AzureStorageAuthType", " Msi ")]


def test_a_client_id_that_is_not_a_guid_and_a_token_flag_that_is_not_true_carry_their_values():
    assert violations("{clientID: not-a-guid, mountWithWorkloadIdentityToken: 'yes', storeAccountKey: 'false'}") == [
        ("StorageClass 'sc' clientID 'not-a-guid' is not a GUID", SC, "parameters.clientID", "not-a-guid"),
        ("StorageClass 'sc' sets mountWithWorkloadIdentityToken to 'yes', not \"true\"", SC,
         "parameters.mountWithWorkloadIdentityToken", "yes")]


def test_store_account_key_false_is_read_from_its_value():
    base = f"clientID: {GUID}, mountWithWorkloadIdentityToken: 'no'"
    token = ("StorageClass 'sc' sets mountWithWorkloadIdentityToken to 'no', not \"true\"", SC,
             "parameters.mountWithWorkloadIdentityToken", "no")
    assert violations(f"{{{base}, storeAccountKey: ' FALSE '}}") == [token]
    assert violations(f"{{{base}, StoreAccountKey: 'true'}}") == [
        token, ("StorageClass 'sc' stores the account key in a Secret (storeAccountKey is 'true')", SC,
                "parameters.StoreAccountKey", None)]
    assert violations(f"{{{base}}}") == [
        token, ("StorageClass 'sc' stores the account key in a Secret (storeAccountKey is unset, default true)", SC,
                "parameters", None)]
