"""no-literal-credentials: a core v1 Secret is left to no-credential-secrets (another API group's
"Secret" is not), a ConfigMap's binaryData is decoded and checked (not another kind's, not bytes that
do not decode), and every field of each finding."""

from __future__ import annotations

import base64

from rayfleet.findings import ObjectRef, Severity
from rayfleet.fleet import PolicySettings
from rayfleet.manifests import objects_from_text
from rayfleet.policies import no_literal_credentials as policy
from rayfleet.runner import check
from rayfleet.subjects import ReleaseObjects

CONN = "DefaultEndpointsProtocol=https;AccountKey=abcdefghijkl"
B64 = base64.b64encode(CONN.encode()).decode()


def run(text: str):
    release = ReleaseObjects(objects=objects_from_text(text, "m.yaml"), settings=PolicySettings.from_dict({}),
                             kube_version="1.33")
    return check([policy.POLICY], release)


def fields(f) -> tuple:
    return (f.policy, f.severity, f.obj, f.path, f.message, f.source.file, f.source.line)


def test_a_core_secret_is_left_to_no_credential_secrets() -> None:
    text = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: ray}}\nstringData: {{conn: '{CONN}'}}\n"
    assert run(text) == []


def test_a_secret_of_another_api_group_is_scanned() -> None:
    text = (f"apiVersion: example.com/v1\nkind: Secret\nmetadata: {{name: s, namespace: ray}}\n"
            f"stringData: {{conn: '{CONN}'}}\n")
    assert [fields(f) for f in run(text)] == [
        ("no-literal-credentials", Severity.ERROR, ObjectRef("example.com/v1", "Secret", "ray", "s"),
         "stringData.conn", "literal credential in 'conn': connection string with a key or signature (Defa…)",
         "m.yaml", 1)]


def test_configmap_binary_data_is_decoded_and_checked() -> None:
    text = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: ray}}\n"
            f"binaryData: {{conn: {B64}, plain: {base64.b64encode(b'hello world').decode()}, broken: '%%%'}}\n")
    assert [fields(f) for f in run(text)] == [
        ("no-literal-credentials", Severity.ERROR, ObjectRef("v1", "ConfigMap", "ray", "cfg"), "binaryData.conn",
         "literal credential in 'conn': connection string with a key or signature (Defa…)", "m.yaml", 1)]


def test_binary_data_of_another_kind_is_not_decoded() -> None:
    text = (f"apiVersion: example.com/v1\nkind: Blob\nmetadata: {{name: b, namespace: ray}}\n"
            f"binaryData: {{conn: {B64}}}\n")
    assert run(text) == []


def test_a_configmap_without_binary_data_or_with_a_list_passes() -> None:
    assert run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ray}\ndata: {a: b}\n") == []
    assert run(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: ray}}\nbinaryData: [{B64}]\n") == []
