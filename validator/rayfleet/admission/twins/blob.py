"""Twins of the Blob CSI and BlobFuse2 policies: blob StorageClasses and static blob PVs.

StorageClasses and PersistentVolumes are cluster-scoped, so the binding's namespace selector
does not narrow them: these twins judge every blob StorageClass and static blob PV in the
cluster. A PV the CSI provisioner created from a StorageClass (annotation
pv.kubernetes.io/provisioned-by) is left alone: its StorageClass was judged.
"""

from __future__ import annotations

from ...findings import Severity
from ..kinds import BARE_PODS_ONLY, BLOB, PERSISTENTVOLUME, POD_OWNERS, POD_VARIABLES, STORAGECLASS
from ..twin import Twin, Validation, Variable

DRIVER = "blob.csi.azure.com"
IS_BLOB = ("blob-csi",
           f"object.kind == 'StorageClass' ? (has(object.provisioner) && object.provisioner == '{DRIVER}') : "
           "(has(object.spec) && has(object.spec.csi) && has(object.spec.csi.driver) && "
           f"object.spec.csi.driver == '{DRIVER}')")
STATIC_PV = ("not-provisioned",
             "object.kind != 'PersistentVolume' || !has(object.metadata.annotations) || "
             "!('pv.kubernetes.io/provisioned-by' in object.metadata.annotations)")

BLOB_VARIABLES = (
    Variable("params", "object.kind == 'StorageClass' ? (has(object.parameters) ? object.parameters : {}) : "
                       "(has(object.spec.csi.volumeAttributes) ? object.spec.csi.volumeAttributes : {})"),
    Variable("options", "object.kind == 'StorageClass' ? (has(object.mountOptions) ? object.mountOptions : []) : "
                        "(has(object.spec.mountOptions) ? object.spec.mountOptions : [])"),
    # BlobFuse (not NFS): no protocol, or fuse / fuse2. Keys compared without case, as the driver does.
    Variable("isBlobfuse", "!variables.params.exists(k, k.matches('(?i)^protocol$')) || variables.params.exists(k, "
                           "k.matches('(?i)^protocol$') && string(variables.params[k]).matches('(?i)^(fuse2?)?$'))"),
)


def _blob(policy: str, validations: tuple[Validation, ...], cost: str, **extra) -> Twin:
    kinds = extra.pop("kinds", BLOB)
    return Twin(policy=policy, kinds=kinds, variables=BLOB_VARIABLES, match_conditions=(IS_BLOB, STATIC_PV),
                validations=validations, cost=cost, **extra)


def _param(key_regex: str, value_regex: str) -> str:
    """Some key matching ``key_regex`` (no case) holds a value matching ``value_regex``."""
    return (f"variables.params.exists(k, k.matches('(?i)^({key_regex})$') && "
            f"string(variables.params[k]).matches('{value_regex}'))")


def _flag(flag: str) -> str:
    """A mount option word is ``flag`` or ``flag=…`` (options are split at whitespace)."""
    return f"variables.options.exists(o, string(o).matches('(^|\\\\s){flag}(=|\\\\s|$)'))"


_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SECRET_KEYS = ("secretname|secretnamespace|getlatestaccountkey|getaccountkeyfromsecret|azurestoragespnclientid|"
                "azurestoragespntenantid|msiendpoint|keyvault.*|csi[.]storage[.]k8s[.]io/.*-secret-(name|namespace)")
_PV_SECRET_REFS = ("nodeStageSecretRef", "nodePublishSecretRef", "controllerPublishSecretRef",
                   "controllerExpandSecretRef", "nodeExpandSecretRef")


def _set(params: str) -> str:
    """The parameter ``k`` has a value: a key written with no value (``MSIEndpoint:``) is not set."""
    return f"({params}[k] != null && string({params}[k]).matches('[^\\\\s]'))"


def _has(params: str, key_regex: str, value_regex: str | None = None) -> str:
    value = f" && string({params}[k]).matches('{value_regex}')" if value_regex else ""
    return f"{params}.exists(k, k.matches('(?i)^({key_regex})$') && {_set(params)}{value})"


def token_only(params: str) -> list[tuple[str, str]]:
    """(expression, message) pairs of blob-token-only-auth over the parameter map ``params``."""
    nfs = _has(params, "protocol", "(?i)^\\\\s*(nfs|aznfs)\\\\s*$")
    msi = _has(params, "azurestorageauthtype", "(?i)^\\\\s*msi\\\\s*$")
    exempt = f"{nfs} || {msi}"
    return [
        (f"!{msi}", "the blob volume sets AzureStorageAuthType: MSI, the node's identity every pod on it can use"),
        (f"{exempt} || {_has(params, 'clientid')}", "the blob volume has no clientID (a managed identity's GUID)"),
        (f"{exempt} || {_has(params, 'mountwithworkloadidentitytoken')}",
         "the blob volume does not set mountWithWorkloadIdentityToken: \"true\""),
        (f"!{params}.exists(k, k.matches('(?i)^clientid$') && {_set(params)} && "
         f"!string({params}[k]).matches('^\\\\s*{_GUID}\\\\s*$'))", "the blob volume's clientID is not a GUID"),
        (f"!{params}.exists(k, k.matches('(?i)^mountwithworkloadidentitytoken$') && {_set(params)} && "
         f"!string({params}[k]).matches('(?i)^\\\\s*true\\\\s*$'))",
         "the blob volume sets mountWithWorkloadIdentityToken to something other than \"true\""),
        (f"!{params}.exists(k, {_set(params)} && (k.matches('(?i)^({_SECRET_KEYS})$') || "
         f"(k.matches('(?i)^azurestorageauthtype$') && "
         f"string({params}[k]).matches('(?i)^\\\\s*(key|sas|spn)\\\\s*$'))))",
         "the blob volume names a Secret, Key Vault, SPN or MSI endpoint parameter, or key, SAS or SPN auth"),
    ]


def _no_secret_refs(csi: str) -> str:
    return "!(" + " || ".join(f"has({csi}.{r})" for r in _PV_SECRET_REFS) + ")"


BLOB_TOKEN_ONLY = _blob(
    "blob-token-only-auth",
    (*(Validation(e, m) for e, m in token_only("variables.params")),
     Validation(f"object.kind != 'PersistentVolume' || {_no_secret_refs('object.spec.csi')}",
                "the blob PersistentVolume reads a credential from a Secret (csi.*SecretRef)")),
    cost="6 walks over K <= 64 parameters, one regex each ~ 4x10^2",
    weaker="Without token mode a StorageClass must also set storeAccountKey: \"false\" in the Python check; "
           "the twin denies the missing token mode itself, so the verdict is the same.")

_INLINE = (f"has(v.csi) && has(v.csi.driver) && v.csi.driver == '{DRIVER}'")
BLOB_TOKEN_ONLY_INLINE = Twin(
    policy="blob-token-only-auth", suffix="inline", kinds=POD_OWNERS, variables=POD_VARIABLES,
    match_conditions=(BARE_PODS_ONLY,),
    validations=(
        *(Validation(f"variables.specs.all(s, !has(s.volumes) || s.volumes.all(v, !({_INLINE}) || "
                     f"[has(v.csi.volumeAttributes) ? v.csi.volumeAttributes : {{}}].all(p, {e})))",
                     m.replace("the blob volume", "an inline blob CSI volume"))
          for e, m in token_only("p")),
        Validation(f"variables.specs.all(s, !has(s.volumes) || s.volumes.all(v, !({_INLINE}) || "
                   f"{_no_secret_refs('v.csi')}))",
                   "an inline blob CSI volume reads a credential from a Secret (csi.*SecretRef)"),
    ),
    cost="T x V x 6 walks over K <= 64 attributes ~ 4x10^3")

BLOB_CONTAINER_NAME = _blob(
    "blob-container-name",
    (Validation("!variables.params.exists(k, k.matches('(?i)^containername$') && "
                "!string(variables.params[k]).contains('${') && "
                "!(string(variables.params[k]).matches('^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$') && "
                "!string(variables.params[k]).contains('--')))",
                "containerName is not a valid blob container name (3-63 lower-case letters, digits and single "
                "dashes, starting and ending with a letter or digit)"),),
    cost="K ~ 64")

BLOB_RECLAIM_PV = _blob(
    "blob-reclaim-retain", kinds=(PERSISTENTVOLUME,),
    validations=(Validation("!has(object.spec.persistentVolumeReclaimPolicy) || "
                            "object.spec.persistentVolumeReclaimPolicy == 'Retain'",
                            "the static blob PersistentVolume's reclaim policy is not Retain: deleting the "
                            "claim deletes the blob container"),),
    cost="1")

BLOB_RECLAIM_SC = _blob(
    "blob-reclaim-retain", kinds=(STORAGECLASS,), severity=Severity.WARNING, suffix="storageclass",
    validations=(Validation("has(object.reclaimPolicy) && object.reclaimPolicy == 'Retain'",
                            "the blob StorageClass's reclaim policy is not Retain: deleting a claim deletes "
                            "its blob container"),),
    cost="1")

_HANDLE = "object.spec.csi.volumeHandle"
BLOB_VOLUME_HANDLE = _blob(
    "blob-volume-handle", kinds=(PERSISTENTVOLUME,),
    validations=(
        Validation(f"!has({_HANDLE}) || !{_HANDLE}.matches('^([^#]*#){{4}}')",
                   "the volumeHandle has more than 4 #-separated segments; the driver reads a fifth as a "
                   "secret namespace"),
        # The third segment must be containerName. Core CEL cannot split, so the name goes into a
        # regex, which is safe only for the characters a valid container name has (the others are
        # blob-container-name's to deny).
        Validation(f"!has({_HANDLE}) || !{_HANDLE}.matches('^[^#]*#[^#]*#') || "
                   "!variables.params.exists(k, k.matches('(?i)^containername$') && "
                   "string(variables.params[k]).matches('^[a-z0-9-]+$') && "
                   f"!{_HANDLE}.matches('^[^#]*#[^#]*#' + string(variables.params[k]) + '(#|$)'))",
                   "the volumeHandle's third segment is not the PersistentVolume's containerName"),
    ),
    cost="K + 2 regex matches over the handle ~ 10^2",
    weaker="Two PersistentVolumes sharing one volumeHandle are not denied: admission sees one object at a time.")

BLOBFUSE_ALLOW_OTHER = _blob(
    "blobfuse-allow-other",
    (Validation("!variables.isBlobfuse || variables.options.exists(o, "
                "string(o).matches('(^|[\\\\s,])(-o=?)?allow_other([\\\\s,]|$)'))",
                "the BlobFuse2 volume does not mount with -o allow_other; non-root Ray containers cannot read it"),),
    cost="O ~ 32 mount options")

BLOBFUSE_CACHE_SIZE = _blob(
    "blobfuse-cache-size",
    (Validation(f"!variables.isBlobfuse || ({_flag('--block-cache')} ? {_flag('--block-cache-pool-size')} : "
                f"({_flag('--streaming')} || {_flag('--cache-size-mb')}))",
                "the BlobFuse2 cache has no explicit size (--block-cache-pool-size or --cache-size-mb)"),),
    cost="3xO ~ 10^2")

BLOBFUSE_DISCOURAGED = _blob(
    "blobfuse-discouraged-options",
    (Validation(f"!variables.isBlobfuse || !({_flag('--streaming')} || "
                "variables.options.exists(o, string(o).matches('(?i)LOG_DEBUG')))",
                "the BlobFuse2 mount options use the deprecated --streaming or LOG_DEBUG logging"),),
    cost="2xO ~ 64")

BLOBFUSE_SECRET_OPTIONS = _blob(
    "blobfuse-secret-mount-options",
    (Validation(f"!({_flag('--config-file')} || {_flag('--secure-config')} || {_flag('--passphrase')})",
                "the blob mount options load a blobfuse2 config file, an encrypted config or its passphrase"),),
    cost="3xO ~ 10^2")

TWINS: tuple[Twin, ...] = (
    BLOB_TOKEN_ONLY, BLOB_TOKEN_ONLY_INLINE, BLOB_CONTAINER_NAME, BLOB_RECLAIM_PV, BLOB_RECLAIM_SC, BLOB_VOLUME_HANDLE,
    BLOBFUSE_ALLOW_OTHER, BLOBFUSE_CACHE_SIZE, BLOBFUSE_DISCOURAGED, BLOBFUSE_SECRET_OPTIONS,
)
__all__ = ["TWINS"]
