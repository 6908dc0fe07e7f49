{{/*
Overrides the upstream Kueue chart's (0.19.2) "kueue.selectorLabels" to add
kueue.controllerManager.manager.podLabels. The upstream chart has no value for pod labels, and the
Kueue controller on the manager needs `azure.workload.identity/use: "true"` on its pod for the AKS
workload-identity webhook to project its federated token. Helm parses a parent chart's templates
after its subcharts', so this definition wins. Its output is the upstream one plus the extra
labels, which therefore also land in the Deployment's selector (immutable: set them before the
first install) and on every Kueue object. tests/charts/test_kueue.py renders the real chart and
fails if upstream renames the helper or the labels stop reaching the pod.
*/}}
{{- define "kueue.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kueue.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- with ((.Values.controllerManager).manager).podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}
