{{/*
Name of the RayCluster: the full name cut to 53 characters as a DNS-1035 label (the KubeRay
operator rejects longer names).
Usage:
{{ include "ray-cluster.name" . }}
*/}}
{{- define "ray-cluster.name" -}}
{{- include "ray-aks-common.names.dns1035" (dict "name" (include "ray-aks-common.names.fullname" .) "max" 53) -}}
{{- end -}}

{{/*
Ray version: .Values.rayVersion, else the x.y.z at the start of image.tag.
Usage:
{{ include "ray-cluster.rayVersion" . }}
*/}}
{{- define "ray-cluster.rayVersion" -}}
{{- default (regexFind "^[0-9]+\\.[0-9]+\\.[0-9]+" (toString .Values.image.tag)) .Values.rayVersion -}}
{{- end -}}

{{/*
Standard labels of the RayCluster and its pods: app.kubernetes.io/version is the Ray version
deployed, not the chart's appVersion.
Usage:
{{ include "ray-cluster.labels" . }}
*/}}
{{- define "ray-cluster.labels" -}}
{{ include "ray-aks-common.labels.standard" (dict "component" "ray" "version" (include "ray-cluster.rayVersion" .) "context" .) }}
{{- end -}}

{{/*
Labels of every Ray pod: the standard labels plus the workload-identity label.
Usage:
{{ include "ray-cluster.podLabels" . }}
*/}}
{{- define "ray-cluster.podLabels" -}}
{{ include "ray-cluster.labels" . }}
azure.workload.identity/use: "true"
{{- end -}}

{{/*
Image of the head: head.image.tag when set, else image.tag with a trailing GPU variant
(-gpu, -cu121, ...) swapped for -cpu. The head requests no GPU (num-gpus 0), so it does not need
the multi-GB CUDA image; the Ray version stays the workers' one.
Usage:
{{ include "ray-cluster.headImage" . }}
*/}}
{{- define "ray-cluster.headImage" -}}
{{- $tag := .Values.head.image.tag -}}
{{- $digest := .Values.head.image.digest -}}
{{- if not $tag -}}
{{- $tag = regexReplaceAll "-(gpu|cu[0-9]+)$" (toString .Values.image.tag) "-cpu" -}}
{{- if eq $tag (toString .Values.image.tag) -}}
{{- $digest = default .Values.image.digest $digest -}}
{{- end -}}
{{- end -}}
{{- include "ray-aks-common.images.image" (dict "repository" .Values.image.repository "tag" $tag "digest" $digest) -}}
{{- end -}}

{{/*
Container security context of every Ray container.
Usage:
{{ include "ray-cluster.containerSecurityContext" . }}
*/}}
{{- define "ray-cluster.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Container resources with requests = limits.
Usage:
{{ include "ray-cluster.resources" (dict "cpu" "4" "memory" "16Gi" "gpus" 1) }}
*/}}
{{- define "ray-cluster.resources" -}}
{{- $r := dict "cpu" (toString .cpu) "memory" (toString .memory) -}}
{{- if gt (int (default 0 .gpus)) 0 -}}
{{- $_ := set $r "nvidia.com/gpu" (toString .gpus) -}}
{{- end -}}
requests:
  {{- toYaml $r | nindent 2 }}
limits:
  {{- toYaml $r | nindent 2 }}
{{- end -}}

{{/*
Pod spec shared by the head and the worker groups. Pass the container name, image,
ServiceAccount, ports, resources, nodeSelector and tolerations.
Usage:
{{ include "ray-cluster.podSpec" (dict "container" "ray-head" "image" $img "serviceAccountName" "ray" "resources" $res "nodeSelector" $ns "tolerations" $tol "ports" $ports "context" $) }}
*/}}
{{- define "ray-cluster.podSpec" -}}
{{- $ctx := .context -}}
{{- $v := $ctx.Values -}}
serviceAccountName: {{ .serviceAccountName }}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ $v.podSecurity.runAsUser }}
  runAsGroup: {{ $v.podSecurity.runAsGroup }}
  fsGroup: {{ $v.podSecurity.fsGroup }}
  seccompProfile:
    type: RuntimeDefault
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: {{ .container }}
    image: {{ .image | quote }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    env:
      - name: AZURE_TOKEN_CREDENTIALS
        value: WorkloadIdentityCredential
    {{- with .ports }}
    ports:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    resources:
      {{- .resources | nindent 6 }}
    securityContext:
      {{- include "ray-cluster.containerSecurityContext" $ctx | nindent 6 }}
    volumeMounts:
      - name: data
        mountPath: {{ $v.dataVolume.mountPath }}
      - name: ray-tmp
        mountPath: /tmp/ray
volumes:
  - name: data
    persistentVolumeClaim:
      claimName: {{ $v.dataVolume.claimName }}
  - name: ray-tmp
    emptyDir:
      {{- with $v.scratch.sizeLimit }}
      sizeLimit: {{ . }}
      {{- else }} {}
      {{- end }}
{{- end -}}

{{/*
nodeSelector of a group: extra labels, then the AKS node pool, the VM size and spot.
The validator's capacity model reads node.kubernetes.io/instance-type.
Usage:
{{ include "ray-cluster.nodeSelector" (dict "vmSize" "Standard_NC40ads_H100_v5" "nodePool" "h100" "spot" false "extra" (dict)) }}
*/}}
{{- define "ray-cluster.nodeSelector" -}}
{{- $sel := dict -}}
{{- range $k, $val := (default (dict) .extra) -}}
{{- $_ := set $sel $k (toString $val) -}}
{{- end -}}
{{- with .nodePool -}}
{{- $_ := set $sel "kubernetes.azure.com/agentpool" . -}}
{{- end -}}
{{- with .vmSize -}}
{{- $_ := set $sel "node.kubernetes.io/instance-type" . -}}
{{- end -}}
{{- if .spot -}}
{{- $_ := set $sel "kubernetes.azure.com/scalesetpriority" "spot" -}}
{{- end -}}
{{- if $sel -}}
{{- toYaml $sel -}}
{{- end -}}
{{- end -}}
