{{/*
A pinned image reference: repository:tag, plus @digest when a digest is given.
Usage:
{{ include "ray-aks-common.images.image" .Values.image }}
*/}}
{{- define "ray-aks-common.images.image" -}}
{{- $ref := printf "%s:%s" .repository (toString .tag) -}}
{{- if .digest -}}
{{- $ref = printf "%s@%s" $ref .digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}
