"""A fleet status saved as JSON (rayfleet.report.status_json): the document for one region written
out by hand (camelCase names, tuples as arrays, whole floats as integers, text as UTF-8, indented
by 2), and the whole hand-built fleet read back unchanged and valid against the schema."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import jsonschema
from rayfleet.report.status_json import format_status_json, status_to_dict
from rayfleet.resources import load_schema
from rayfleet.status import from_dict, load_snapshot

from tests.status.handbuilt import DIGEST, fleet_status, manager

EXPECTED_MANAGER = {
    "name": "manager", "location": "centralus", "cluster": "aks-mgr", "kubeContext": "ctx-mgr", "role": "manager",
    "state": "healthy", "seconds": 0.63, "message": "", "problems": [], "drift": [], "expected": None,
    "gpuQuota": None,
    "facts": {
        "serverVersion": "v1.33.1",
        "release": {"name": "ray", "namespace": "ray", "revision": 2, "status": "deployed", "chart": "ray-aks",
                    "chartVersion": "0.3.1", "appVersion": "2.52.0", "lastDeployed": "2026-12-01T08:00:00Z",
                    "description": "Upgrade complete", "valuesDigest": DIGEST},
        "rayclusters": [], "rayjobs": [["Running", 2]], "gpuPools": [], "gpusPending": 0, "kueue": None,
        "identityWebhook": True, "volumeClaims": [], "notes": ["Kueue: forbidden"],
    },
}


def test_one_region_document_by_hand():
    region = manager()
    region = replace(region, facts=replace(region.facts, rayjobs=(("Running", 2),), notes=("Kueue: forbidden",)))
    status = replace(fleet_status(), fleet="flotte/zürich.yaml", seconds=2.0, regions=(region,))
    expected = {"apiVersion": "rayfleet.dev/v1", "kind": "FleetStatus", "fleet": "flotte/zürich.yaml",
                "takenAt": "2026-12-02T01:30:00Z", "seconds": 2, "regions": [EXPECTED_MANAGER]}
    assert status_to_dict(status) == expected
    # Exactly this text: 2.0 seconds and 0.0 GPUs pending are written 2 and 0, "ü" as itself.
    assert format_status_json(status) == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert '"seconds": 2,' in format_status_json(status) and "zürich" in format_status_json(status)


def test_whole_floats_become_integers_others_stay():
    status = fleet_status()
    document = status_to_dict(status)
    sweden = document["regions"][1]["facts"]
    values = (sweden["gpusPending"], sweden["gpuPools"][0]["gpusRequested"], sweden["gpuPools"][0]["gpusAllocatable"],
              document["seconds"])
    assert [type(v) for v in values] == [int, float, int, float]
    assert sweden["gpuPools"][0]["gpusRequested"] == 2.5
    odd = replace(status, seconds=math.inf)
    assert status_to_dict(odd)["seconds"] == math.inf  # not a whole number: left as it is


def test_the_hand_built_fleet_reads_back_unchanged(tmp_path):
    status = fleet_status()
    text = format_status_json(status)
    document = json.loads(text)
    jsonschema.Draft7Validator(load_schema("status.schema.json")).validate(document)
    assert from_dict(document) == status
    path = tmp_path / "snapshot.json"
    path.write_text(text, encoding="utf-8")
    assert load_snapshot(path) == status
