{{/*
Effective storage settings: the chart's value, else the global one.
Usage:
{{ include "blob-storage.account" . }}
*/}}
{{- define "blob-storage.account" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" .Values.storageAccount "global" .Values.global.storage.account) -}}
{{- end -}}

{{/*
Effective resource group: the chart's value, else the global one.
Usage:
{{ include "blob-storage.resourceGroup" . }}
*/}}
{{- define "blob-storage.resourceGroup" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" .Values.resourceGroup "global" .Values.global.storage.resourceGroup) -}}
{{- end -}}

{{/*
Effective blob container: the chart's value, else the global one.
Usage:
{{ include "blob-storage.container" . }}
*/}}
{{- define "blob-storage.container" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" .Values.containerName "global" .Values.global.storage.container) -}}
{{- end -}}

{{/*
Effective identity client ID: the chart's value, else the global one.
Usage:
{{ include "blob-storage.clientId" . }}
*/}}
{{- define "blob-storage.clientId" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" .Values.clientId "global" .Values.global.azure.clientId) -}}
{{- end -}}

{{/*
Effective tenant ID (may be empty): the chart's value, else the global one.
Usage:
{{ include "blob-storage.tenantId" . }}
*/}}
{{- define "blob-storage.tenantId" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" .Values.tenantId "global" .Values.global.azure.tenantId) -}}
{{- end -}}

{{/*
StorageClass name (also the static binding name of the PV and PVC).
Usage:
{{ include "blob-storage.storageClassName" . }}
*/}}
{{- define "blob-storage.storageClassName" -}}
{{- default (include "ray-aks-common.names.fullname" .) .Values.storageClass.name -}}
{{- end -}}

{{/*
Static PersistentVolume name (cluster-scoped, so it carries the namespace).
Usage:
{{ include "blob-storage.persistentVolumeName" . }}
*/}}
{{- define "blob-storage.persistentVolumeName" -}}
{{- default (printf "%s-%s" (include "ray-aks-common.names.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-") .Values.persistentVolume.name -}}
{{- end -}}

{{/*
Static volume handle: <resourceGroup>#<account>#<container>#<namespace> (4 segments, the third
is the container, unique per namespace in a cluster).
Usage:
{{ include "blob-storage.volumeHandle" . }}
*/}}
{{- define "blob-storage.volumeHandle" -}}
{{- default (printf "%s#%s#%s#%s" (include "blob-storage.resourceGroup" .) (include "blob-storage.account" .) (include "blob-storage.container" .) .Release.Namespace) .Values.persistentVolume.volumeHandle -}}
{{- end -}}

{{/*
BlobFuse2 mount options (one flag per list item, as the upstream examples do).
Usage:
{{ include "blob-storage.mountOptions" . }}
*/}}
{{- define "blob-storage.mountOptions" -}}
- -o allow_other
{{- if .Values.adls }}
- --use-adls=true
{{- end }}
{{- if eq .Values.cache.mode "block" }}
- --block-cache
- --block-cache-pool-size={{ int .Values.cache.blockCachePoolSizeMb }}
{{- with .Values.cache.blockCacheBlockSizeMb }}
- --block-cache-block-size={{ int . }}
{{- end }}
{{- else }}
- --file-cache-timeout-in-seconds=120
- --cache-size-mb={{ int .Values.cache.fileCacheSizeMb }}
{{- end }}
- --use-attr-cache=true
- --cancel-list-on-mount-seconds=10
- -o attr_timeout=120
- -o entry_timeout=120
- -o negative_timeout=120
- --log-level=LOG_WARNING
{{- end -}}
