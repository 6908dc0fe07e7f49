{{/*
Names of the enabled ServiceAccounts, sorted, as a YAML list.
Usage:
{{ include "workload-identity.enabledNames" . | fromYamlArray }}
*/}}
{{- define "workload-identity.enabledNames" -}}
{{- $names := list -}}
{{- range $name, $sa := .Values.serviceAccounts -}}
{{- if and $sa (ne (toString $sa.enabled) "false") -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- toYaml $names -}}
{{- end -}}
