{{/*
Labels of every object of this chart: the suite's standard labels, component "scheduling".
Usage:
{{ include "scheduling.labels" $ }}
*/}}
{{- define "scheduling.labels" -}}
{{ include "ray-aks-common.labels.standard" (dict "component" "scheduling" "context" .) }}
{{- end -}}

{{/*
Labels of an object that stands for one worker region (MultiKueueCluster, ClusterProfile).
Usage:
{{ include "scheduling.workerLabels" (dict "worker" "eastus2" "context" $) }}
*/}}
{{- define "scheduling.workerLabels" -}}
{{ include "scheduling.labels" .context }}
rayfleet.io/region: {{ .worker | quote }}
x-k8s.io/cluster-manager: {{ .context.Values.manager.clusterManager | quote }}
{{- end -}}

{{/*
The namespaces of the queues, sorted and without repeats, as a YAML list.
Usage:
{{ include "scheduling.queueNamespaces" $ | fromYamlArray }}
*/}}
{{- define "scheduling.queueNamespaces" -}}
{{- $names := list -}}
{{- range .Values.queues -}}
{{- $names = append $names .namespace -}}
{{- end -}}
{{- toYaml ($names | uniq | sortAlpha) -}}
{{- end -}}

{{/*
Name of the AdmissionCheck and of the MultiKueueConfig on the manager (fixed: fleet policies and
docs refer to it).
*/}}
{{- define "scheduling.multikueueName" -}}
multikueue
{{- end -}}
