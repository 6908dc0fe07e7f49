"""A credential a user put in the wrong place is never echoed whole: schema errors, fleet-schema
errors, YAML errors and Helm's stderr go through the secret detectors' redaction (``redact_text``)
before any report, terminal line or JSON file shows them (issue #12, items 8 and 9)."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rayfleet.cli.rollout import rollout
from rayfleet.errors import InputError, LiveCheckError
from rayfleet.findings import Finding, Severity
from rayfleet.secrets import detect_value, redact_text

from tests.kube.fake_kube import GPU_TAINT, aks_node

from ..core.helpers import copy_example, run_cli
from ..policies.secret_corpus_report import load_corpus

CORPUS = load_corpus()
FORMATS = ("text", "json", "sarif", "junit", "markdown")


def _key() -> str:
    return base64.b64encode(os.urandom(64)).decode()  # an account key's shape, fresh per test


def _connection_string(key: str) -> str:
    return f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"


def _leaks(key: str, text: str) -> bool:
    # any 12 characters of the key's tail would already be too many
    return key[4:16] in text or key[-14:] in text


@pytest.mark.parametrize("entry", CORPUS["positives"], ids=lambda e: f"{e['class']}: {e['note']}")
def test_every_corpus_credential_is_redacted_inside_a_sentence(entry):
    value, name = str(entry["value"]), entry.get("name")
    text = f"- at '/x': {name + ': ' if name else ''}{value} does not match"
    out = redact_text(text)
    assert detect_value(out) is None, out
    if entry["class"] == "credential-name":
        assert value not in out, out


@pytest.mark.parametrize("entry", CORPUS["negatives"], ids=lambda e: e["note"])
def test_corpus_negatives_are_left_as_they_are(entry):
    text = f"{entry['name'] + ': ' if entry.get('name') else ''}{entry['value']}"
    assert redact_text(text) == text


def test_findings_and_errors_redact_at_construction():
    key = _key()
    finding = Finding("values-schema", Severity.ERROR, f"'{_connection_string(key)}' does not match", "")
    assert not _leaks(key, finding.message) and "AccountKey=" in finding.message
    assert not _leaks(key, str(InputError(f"bad value {key}", file="v.yaml", line=3)))
    assert not _leaks(key, str(LiveCheckError("eastus2", f"401: Bearer {key}")))


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_values_schema_finding_does_not_echo_a_connection_string(fleet: Path, tmp_path: Path):
    key = _key()
    values = fleet.parent / "values" / "platform.yaml"
    text = values.read_text()
    assert "blob-storage:\n  mode: dynamic" in text
    values.write_text(text.replace("blob-storage:\n  mode: dynamic",
                                   f"blob-storage:\n  mode: dynamic\n  storageAccount: \"{_connection_string(key)}\""))
    args = ["validate", fleet, "--region", "eastus2"]
    for fmt in FORMATS:
        path = tmp_path / f"report.{fmt}"
        result = run_cli(*args, "--report", f"{fmt}={path}", "--report", "text")
        assert result.exit_code == 1, result.output
        assert "values-schema" in result.output and "AccountKey=" in result.output
        assert not _leaks(key, result.output), fmt
        assert not _leaks(key, path.read_text()), fmt


def test_fleet_schema_error_does_not_echo_a_key(fleet: Path):
    key = _key()
    text = fleet.read_text()
    fleet.write_text(text.replace("location: eastus2\n", f"location: \"{_connection_string(key)}\"\n", 1))
    result = run_cli("validate", fleet)
    assert result.exit_code == 2 and "fleet schema" in result.output, result.output
    assert not _leaks(key, result.output), result.output


def test_yaml_error_quoting_a_value_does_not_echo_it(fleet: Path):
    key = _key()
    values = fleet.parent / "values" / "platform.yaml"
    values.write_text(f"a:\n  storageAccount: \"{_connection_string(key)}\"\na: 2\n")
    result = run_cli("validate", fleet)
    assert result.exit_code == 2 and "duplicate key" in result.output, result.output
    assert not _leaks(key, result.output), result.output


FAKE_HELM = """#!{python}
import sys
args = sys.argv[1:]
if args[:1] == ["version"]:
    sys.stdout.write("v3.17.0")
    sys.exit(0)
sys.stderr.write("Error: UPGRADE FAILED: cannot patch Secret: storage key {key} rejected; "
                 "Authorization: Bearer {token}\\n")
sys.exit(1)
"""


def test_rollout_redacts_helms_stderr(fake_aks, tmp_path: Path):
    fake_aks.clusters["swedencentral"].nodes.append(
        aks_node("aks-a100-1-vmss000000", "a100", "Standard_NC24ads_A100_v4", gpus=1, taints=[GPU_TAINT]))
    fake_aks.clusters["westus3"].git_version = "v1.32.6"
    key = _key()
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyYXlmbGVldC10ZXN0In0." + base64.urlsafe_b64encode(os.urandom(32)).decode()
    helm = tmp_path / "helm"
    helm.write_text(FAKE_HELM.format(python=sys.executable, key=key, token=token))
    helm.chmod(0o755)
    report = tmp_path / "rollout.json"
    from tests.kube.conftest import REPO

    result = CliRunner().invoke(rollout, [str(REPO / "examples" / "fleet.yaml"), "--region", "eastus2",
                                          "--kubeconfig", str(fake_aks.kubeconfig), "--helm-binary", str(helm),
                                          "--timeout", "5", "--report", f"json={report}", "--no-color"])
    assert result.exit_code == 1, result.output
    shown = result.stdout + result.stderr + report.read_text()
    assert "UPGRADE FAILED" in shown
    data = json.loads(report.read_text())["data"]["rollout"]
    assert data["regions"][0]["status"] == "failed"
    assert not _leaks(key, shown)
    assert token.rsplit(".", 1)[1][:16] not in shown and token[20:40] not in shown


@pytest.mark.parametrize("name", ["password", "redisPassword", "client_secret", "secret", "token", "api-token",
                                  "apiKey", "PRIVATE_KEY"])
def test_any_secret_named_value_is_redacted(name):
    # Not every such name is an Azure credential to the policies, but output never quotes its value.
    out = redact_text(f"values: {name}: s3cr3tValue99 is not allowed here")
    assert "s3cr3tValue99" not in out and out.startswith(f"values: {name}: ") and out.endswith(" is not allowed here")


@pytest.mark.parametrize("text", ["password: changeme", "token: <set-me>", "tokenFile: /var/run/token",
                                  "secretName: ray-redis", "existingSecret: ray-redis-auth",
                                  "passwordless: true"])
def test_secret_names_with_placeholders_or_other_meanings_are_left_alone(text):
    assert redact_text(text) == text
