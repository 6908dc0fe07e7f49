{{/*
Chart name, or .Values.nameOverride; at most 63 characters.
Usage:
{{ include "ray-aks-common.names.name" . }}
*/}}
{{- define "ray-aks-common.names.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Chart name and version, as used by the helm.sh/chart label.
Usage:
{{ include "ray-aks-common.names.chart" . }}
*/}}
{{- define "ray-aks-common.names.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: .Values.fullnameOverride, else <release>-<name> (just the release
name when it already contains the name); at most 63 characters.
Usage:
{{ include "ray-aks-common.names.fullname" . }}
*/}}
{{- define "ray-aks-common.names.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A DNS-1035 label (starts with a letter, lowercase alphanumerics and '-', ends alphanumeric)
of at most "max" characters, made from "name". A leading non-letter gets the prefix "r-".
Usage:
{{ include "ray-aks-common.names.dns1035" (dict "name" $name "max" 53) }}
*/}}
{{- define "ray-aks-common.names.dns1035" -}}
{{- $name := regexReplaceAll "[^a-z0-9-]" (lower .name) "-" -}}
{{- if not (regexMatch "^[a-z]" $name) -}}
{{- $name = printf "r-%s" $name -}}
{{- end -}}
{{- $name | trunc (int .max) | trimSuffix "-" | trimSuffix "-" -}}
{{- end -}}

{{/*
The namespace every namespaced object is rendered into: the release namespace.
Usage:
{{ include "ray-aks-common.names.namespace" . }}
*/}}
{{- define "ray-aks-common.names.namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}
