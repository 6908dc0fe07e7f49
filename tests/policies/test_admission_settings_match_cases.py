"""admission-settings-match: variables of rayfleet's admission policies that are no fleet setting
(or have no string name) are not compared."""

from __future__ import annotations

from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies.admission_settings_match import POLICY
from rayfleet.subjects import ReleaseObjects

VAP = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ray-image-registry-allowed
  annotations: {rayfleet.io/policy: image-registry-allowed}
spec:
  variables:
    - {name: images, expression: 'object.spec.containers'}
    - {name: 7, expression: 'x'}
    - {expression: 'y'}
    - {name: allowedRegistries, expression: '[]'}
"""


def test_only_variables_named_after_a_setting_are_compared():
    release = ReleaseObjects(objects=tuple(objects_from_text(VAP, "m.yaml")),
                             settings=PolicySettings(allowed_registries=("myacr.azurecr.io",)), kube_version="1.33")
    assert [(v.path, v.value) for v in POLICY.check(release)] == [("spec.variables[3].expression", "[]")]
