"""--helm-binary: rendering through a helm executable driven by pyhelm3.

There is no real helm on the test machines, so a stand-in executable plays `helm template`: it
records its arguments and prints what helm prints (documents under `# Source:` comments). pyhelm3
runs it as it would run helm; nothing in pyhelm3 or rayfleet is patched.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from rayfleet.pipeline import validate_fleet
from rayfleet.render import split_sources

from .helpers import copy_example

FAKE_HELM = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "template":
    sys.stdout.write('''---
# Source: ray-aks/charts/workload-identity/templates/service-account.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ray
  annotations:
    azure.workload.identity/client-id: 3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61
---
# Source: ray-aks/charts/blob-storage/templates/persistent-volume-claim.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ray-data
spec:
  accessModes: [ReadWriteMany]
  resources: {{requests: {{storage: 1Ti}}}}
  unknownField: 1
''')
    sys.exit(0)
sys.stderr.write("Error: unknown command\\n")
sys.exit(1)
"""


@pytest.fixture
def fake_helm(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "helm-calls.jsonl"
    helm = tmp_path / "bin" / "helm"
    helm.parent.mkdir()
    helm.write_text(FAKE_HELM.format(python=sys.executable, log=str(log)))
    helm.chmod(0o755)
    return helm, log


def test_helm_binary_renders_with_the_values_files_in_helms_order(tmp_path: Path, fake_helm):
    pytest.importorskip("pyhelm3")
    helm, log = fake_helm
    fleet = copy_example(tmp_path)
    result = validate_fleet(fleet, regions=["westus3"], helm_binary=str(helm), policies=["kubernetes-schema"])
    [call] = [json.loads(line) for line in log.read_text().splitlines() if json.loads(line)[0] == "template"]
    assert call[1] == "ray" and call[call.index("--namespace") + 1] == "ray"
    assert call[call.index("--kube-version") + 1] == "1.32"
    values = [Path(call[i + 1]).name for i, arg in enumerate(call) if arg == "--values"]
    assert values == ["platform.yaml", "westus3.yaml", "platform-team.yaml"]
    [finding] = result.findings
    assert finding.obj.kind == "PersistentVolumeClaim" and "unknownField" in finding.message
    assert finding.template.endswith("charts/blob-storage/templates/persistent-volume-claim.yaml")


def test_split_sources_groups_documents_by_template():
    stream = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n" \
             "---\n# Source: c/templates/a.yaml\nkind: A2\n"
    parts = split_sources(stream)
    assert sorted(parts) == ["c/templates/a.yaml", "c/templates/b.yaml"]
    assert "kind: A2" in parts["c/templates/a.yaml"] and "kind: A\n" in parts["c/templates/a.yaml"]


def test_helm_binary_failure_is_a_render_finding(tmp_path: Path):
    pytest.importorskip("pyhelm3")
    helm = tmp_path / "helm"
    helm.write_text(f"#!{sys.executable}\nimport sys\nsys.stderr.write('Error: template: boom')\nsys.exit(1)\n")
    helm.chmod(0o755)
    result = validate_fleet(copy_example(tmp_path), regions=["eastus2"], helm_binary=str(helm),
                            policies=["render-error"])
    [finding] = result.findings
    assert "boom" in finding.message


def test_real_helm_binary_when_present(tmp_path: Path):
    helm = shutil.which("helm")
    if helm is None:
        pytest.skip("no helm binary on this machine; the stand-in tests above cover the pyhelm3 path")
    result = validate_fleet(copy_example(tmp_path), regions=["eastus2"], helm_binary=helm,
                            policies=["render-error", "values-schema"])
    assert result.regions[0].objects >= 4
