"""The federated credential plan's MultiKueue manager case (identity.py), worked out by hand: the
Kueue controller's ServiceAccount gets a credential on the manager identity in Kueue's namespace,
unless the release annotates it itself or the manager identity cannot be told."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rayfleet.findings import SourceLocation
from rayfleet.fleet import load_fleet
from rayfleet.identity import IdentityPlan, plan_credentials
from rayfleet.pipeline import render_fleet

ISSUER_M = "https://centralus.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/m/"
ISSUER_W = "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/w/"
CLIENT_M = "1e3a5c7d-9f2b-4d6e-8a1c-3e5f7a9b1d54"
CLIENT_M2 = "2f4b6d8e-0a3c-4e7f-9b2d-4f6a8b0c2e65"
CLIENT_W = "3f8a6c2e-5b1d-4e7a-9c0f-1a2b3c4d5e61"
KUEUE = "kueue-controller-manager"


def _fleet(manager_identities: str) -> str:
    return f"""apiVersion: rayfleet.dev/v1
chart: ./nochart
release: {{name: ray, namespace: ray}}
subscriptionId: 11111111-1111-4111-8111-111111111111
scheduling:
  engine: multikueue
  queues: [{{name: gpu-batch, namespace: ray}}]
regions:
  - name: manager
    location: centralus
    role: manager
    cluster: {{name: aks-m, resourceGroup: rg-m, kubernetesVersion: "1.33", oidcIssuerUrl: "{ISSUER_M}"}}
    identities:
{manager_identities}
    valuesFiles: []
    manifests: manager
  - name: eastus2
    location: eastus2
    cluster: {{name: aks-w, resourceGroup: rg-w, kubernetesVersion: "1.33", oidcIssuerUrl: "{ISSUER_W}"}}
    identities:
      - {{name: id-w, clientId: {CLIENT_W}, resourceGroup: rg-ids}}
    valuesFiles: []
    manifests: worker
"""


ONE = f"      - {{name: id-m, clientId: {CLIENT_M}, resourceGroup: rg-ids}}"
TWO = ONE + f"\n      - {{name: id-m2, clientId: {CLIENT_M2}, resourceGroup: rg-ids}}"


def _obj(kind: str, name: str, namespace: str, client: str | None = None) -> str:
    api = "apps/v1" if kind == "Deployment" else "v1"
    annotations = f"\n  annotations: {{azure.workload.identity/client-id: {client}}}" if client else ""
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}{annotations}\n---\n"


def _plan(tmp_path: Path, identities: str, manager_objects: str):
    for folder, text in (("manager", manager_objects), ("worker", _obj("ServiceAccount", "ray", "ray", CLIENT_W))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "objects.yaml").write_text(text)
    (tmp_path / "fleet.yaml").write_text(_fleet(identities))
    fleet = load_fleet(tmp_path / "fleet.yaml")
    releases = {name: r.release for name, r in render_fleet(fleet).items()}
    return fleet, plan_credentials(fleet, releases)


def _rows(plan):
    return [(c.region, c.namespace, c.service_account, c.client_id, c.identity_name, c.issuer, c.subject, c.name)
            for c in plan.credentials]


WORKER_ROW = ("eastus2", "ray", "ray", CLIENT_W, "id-w", ISSUER_W, "system:serviceaccount:ray:ray", "eastus2-ray-ray")


def test_the_kueue_controller_gets_a_credential_in_its_own_namespace(tmp_path):
    # an unrelated ServiceAccount comes first; the controller's own (unannotated) ServiceAccount gives the
    # namespace, before its Deployment's
    objects = (_obj("ServiceAccount", "apps", "apps") + _obj("Deployment", KUEUE, "kueue-deploy")
               + _obj("ServiceAccount", KUEUE, "kueue-system"))
    fleet, plan = _plan(tmp_path, ONE, objects)
    assert _rows(plan) == [
        ("manager", "kueue-system", KUEUE, CLIENT_M, "id-m", ISSUER_M,
         f"system:serviceaccount:kueue-system:{KUEUE}", f"manager-kueue-system-{KUEUE}"),
        WORKER_ROW]
    assert plan.credentials[0].source == SourceLocation(str(fleet.path))  # the fleet file says it, not a manifest


def test_without_a_kueue_object_the_release_namespace_is_taken(tmp_path):
    _, plan = _plan(tmp_path, ONE, _obj("ServiceAccount", "apps", "apps"))
    assert _rows(plan)[0][:3] == ("manager", "ray", KUEUE)
    assert len(plan.credentials) == 2


def test_a_release_that_annotates_the_controller_itself_is_planned_once(tmp_path):
    _, plan = _plan(tmp_path, TWO, _obj("ServiceAccount", KUEUE, "kueue-system", CLIENT_M2))
    assert plan.notes == ()  # not planned a second time from the manager identity (no "already planned")
    assert _rows(plan) == [
        ("manager", "kueue-system", KUEUE, CLIENT_M2, "id-m2", ISSUER_M,
         f"system:serviceaccount:kueue-system:{KUEUE}", f"manager-kueue-system-{KUEUE}"),
        WORKER_ROW]


def test_no_credential_when_the_manager_identity_cannot_be_told(tmp_path):
    # two manager identities and no annotated controller ServiceAccount: nothing to federate
    _, plan = _plan(tmp_path, TWO, _obj("Deployment", KUEUE, "kueue-system"))
    assert _rows(plan) == [WORKER_ROW]


def test_the_plan_is_an_immutable_value():
    plan = IdentityPlan((), ("a note",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.notes = ()  # type: ignore[misc]
