{{/*
Settings of the blob-access test, read from the component blocks (which Helm has already
merged with the component defaults) with the global fallback the components use.
Usage:
{{ include "ray-aks.test.account" . }}
*/}}
{{- define "ray-aks.test.account" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" (index .Values "blob-storage" "storageAccount") "global" .Values.global.storage.account) -}}
{{- end -}}

{{/*
Blob container the test lists.
Usage:
{{ include "ray-aks.test.container" . }}
*/}}
{{- define "ray-aks.test.container" -}}
{{- include "ray-aks-common.values.orGlobal" (dict "value" (index .Values "blob-storage" "containerName") "global" .Values.global.storage.container) -}}
{{- end -}}

{{/*
ServiceAccount the Ray pods (and the test) run as.
Usage:
{{ include "ray-aks.test.serviceAccountName" . }}
*/}}
{{- define "ray-aks.test.serviceAccountName" -}}
{{- default "ray" (index .Values "ray-cluster" "serviceAccountName") -}}
{{- end -}}
