{{/*
The generated policy entries (files/policies.yaml, written by rayfleet from its catalogue).
Usage:
{{ include "admissionPolicies.entries" . | fromYamlArray }}
*/}}
{{- define "admissionPolicies.entries" -}}
{{- .Files.Get "files/policies.yaml" -}}
{{- end -}}

{{/*
Object name of one entry: <release>-<policy>[-<suffix>], as `rayfleet policies export` names it
for a fleet whose release is this one.
Usage:
{{ include "admissionPolicies.name" (dict "entry" $entry "context" $) }}
*/}}
{{- define "admissionPolicies.name" -}}
{{- printf "%s-%s" .context.Release.Name .entry.name | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{/*
Severity of one entry: its policy's, or warning when it needs a setting that is not given
(gpu-taint-toleration without gpuTaint.key checks the AKS default taint, as the Python check does).
*/}}
{{- define "admissionPolicies.severity" -}}
{{- $values := .context.Values -}}
{{- if and (eq (toString .entry.warnWithout) "gpuTaint") (not $values.gpuTaint.key) -}}
warning
{{- else -}}
{{- .entry.severity -}}
{{- end -}}
{{- end -}}

{{/*
A setting as a CEL literal (JSON): allowedRegistries as lower-case-host prefixes without a
trailing slash, gpuTaint as {effect, key, value} (the AKS default sku=gpu:NoSchedule without a key).
*/}}
{{- define "admissionPolicies.setting" -}}
{{- $values := .context.Values -}}
{{- if eq .name "allowedRegistries" -}}
{{- $prefixes := list -}}
{{- range $entry := $values.allowedRegistries -}}
{{- $parts := splitn "/" 2 (trim $entry) -}}
{{- $prefix := lower $parts._0 -}}
{{- if $parts._1 -}}{{- $prefix = printf "%s/%s" $prefix $parts._1 -}}{{- end -}}
{{- $prefix = regexReplaceAll "/+$" $prefix "" -}}
{{- if $prefix -}}{{- $prefixes = append $prefixes $prefix -}}{{- end -}}
{{- end -}}
{{- toJson $prefixes -}}
{{- else if eq .name "gpuTaint" -}}
{{- if $values.gpuTaint.key -}}
{{- toJson (dict "key" $values.gpuTaint.key "value" (toString $values.gpuTaint.value) "effect" $values.gpuTaint.effect) -}}
{{- else -}}
{{- toJson (dict "key" "sku" "value" "gpu" "effect" "NoSchedule") -}}
{{- end -}}
{{- else -}}
{{- fail (printf "files/policies.yaml names an unknown setting %q" .name) -}}
{{- end -}}
{{- end -}}
