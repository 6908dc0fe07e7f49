{{/*
The chart's own value when it is not empty, else the shared global value (else "").
Usage:
{{ include "ray-aks-common.values.orGlobal" (dict "value" .Values.clientId "global" .Values.global.azure.clientId) }}
*/}}
{{- define "ray-aks-common.values.orGlobal" -}}
{{- if .value -}}
{{- .value -}}
{{- else if .global -}}
{{- .global -}}
{{- end -}}
{{- end -}}
