"""``rayfleet identity probe``'s output (rayfleet.report.probe) on hand-made results: one line per
step with its mark, the likely cause under a failed step, the closing verdict naming the FIRST
failed step, and the JSON document (indented by 2)."""

from __future__ import annotations

import json

from rayfleet.azure.probe import ProbeResult, ProbeStep
from rayfleet.report.probe import format_probe, format_probe_json, probe_to_dict

CLAIMS = {"iss": "https://oidc.example/", "sub": "system:serviceaccount:ray:ray-worker", "aud": ["api://x"],
          "exp": 1764640000}


def _failing() -> ProbeResult:
    return ProbeResult([
        ProbeStep("token", "ok", "service account token read"),
        ProbeStep("exchange", "fail", "AADSTS70021", cause="no federated credential matches the subject"),
        ProbeStep("storage", "fail", "403 from the storage account"),
        ProbeStep("list", "skip", "not reached"),
    ], CLAIMS)


def test_text_of_a_failed_probe():
    assert format_probe(_failing()) == "\n".join([
        "[ok]   token: service account token read",
        "[FAIL] exchange: AADSTS70021",
        "       likely cause: no federated credential matches the subject",
        "[FAIL] storage: 403 from the storage account",
        "[skip] list: not reached",
        "probe failed at: exchange",
    ])


def test_text_of_a_passed_probe():
    result = ProbeResult([ProbeStep("token", "ok", "read"), ProbeStep("exchange", "ok", "token issued")])
    assert format_probe(result) == ("[ok]   token: read\n[ok]   exchange: token issued\n"
                                    "probe passed: workload identity works")


def test_json_document():
    expected = {"ok": False, "steps": [
        {"name": "token", "status": "ok", "detail": "service account token read", "cause": None},
        {"name": "exchange", "status": "fail", "detail": "AADSTS70021",
         "cause": "no federated credential matches the subject"},
        {"name": "storage", "status": "fail", "detail": "403 from the storage account", "cause": None},
        {"name": "list", "status": "skip", "detail": "not reached", "cause": None},
    ], "claims": CLAIMS}
    assert probe_to_dict(_failing()) == expected
    assert format_probe_json(_failing()) == json.dumps(expected, indent=2)
    assert probe_to_dict(ProbeResult([ProbeStep("token", "ok", "read")]))["ok"] is True
