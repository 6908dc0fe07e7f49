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

{{/*
Name of the RayCluster the ray-cluster chart renders (its own name rule: the full name cut to 53
characters as a DNS-1035 label).
Usage:
{{ include "ray-aks.rayClusterName" . }}
*/}}
{{- define "ray-aks.rayClusterName" -}}
{{- $rc := index .Values "ray-cluster" -}}
{{- $name := "" -}}
{{- if $rc.fullnameOverride -}}
{{- $name = $rc.fullnameOverride -}}
{{- else -}}
{{- $base := default "ray-cluster" $rc.nameOverride -}}
{{- $name = ternary .Release.Name (printf "%s-%s" .Release.Name $base) (contains $base .Release.Name) -}}
{{- end -}}
{{- include "ray-aks-common.names.dns1035" (dict "name" ($name | trunc 63 | trimSuffix "-") "max" 53) -}}
{{- end -}}

{{/*
Version of the kuberay-operator chart this release carries: the built dependency's own
Chart.yaml when `helm dependency build` has run, else the version pinned in Chart.yaml.
Usage:
{{ include "ray-aks.operatorVersion" . }}
*/}}
{{- define "ray-aks.operatorVersion" -}}
{{- $sub := index (default (dict) .Subcharts) "kuberay-operator" -}}
{{- if $sub -}}
{{- $sub.Chart.Version -}}
{{- else -}}
{{- range .Chart.Dependencies -}}
{{- if eq .Name "kuberay-operator" }}{{ .Version }}{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}
