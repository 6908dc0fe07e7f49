{{/*
Standard labels for every object of the suite. The only label helper: selectors use
"ray-aks-common.labels.matchLabels", which emits a subset of these. app.kubernetes.io/version is
"version" when given (the ray-cluster chart passes the Ray version it deploys), else the chart's
appVersion.
Usage:
{{ include "ray-aks-common.labels.standard" (dict "component" "storage" "context" $) }}
{{ include "ray-aks-common.labels.standard" (dict "component" "ray" "version" "2.53.0" "context" $) }}
*/}}
{{- define "ray-aks-common.labels.standard" -}}
{{- $ctx := .context -}}
helm.sh/chart: {{ include "ray-aks-common.names.chart" $ctx }}
{{ include "ray-aks-common.labels.matchLabels" . }}
{{- with (default $ctx.Chart.AppVersion .version) }}
app.kubernetes.io/version: {{ . | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
{{- end }}
app.kubernetes.io/part-of: ray-aks
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
{{- end -}}

{{/*
Selector labels: name, instance and (when given) component. Never chart or version.
Usage:
{{ include "ray-aks-common.labels.matchLabels" (dict "component" "ray" "context" $) }}
*/}}
{{- define "ray-aks-common.labels.matchLabels" -}}
{{- $ctx := .context -}}
app.kubernetes.io/name: {{ include "ray-aks-common.names.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}
