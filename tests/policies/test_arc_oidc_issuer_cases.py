"""arc-oidc-issuer, case by case against what ARM reports for a connectedCluster: disabled with or
without an issuer URL, enabled without one, a match. (Written after the seed-46817 sample, whose
`arc_oidc_issuer.py:15:7:boolop:or->and` survived: not counted in that measurement.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.fleet import load_fleet
from rayfleet.policies import get_policy
from rayfleet.subjects import AksSettings, ArcCluster

HYBRID = Path(__file__).resolve().parents[2] / "examples" / "hybrid" / "fleet.yaml"
AMS = ("https://oidcdiscovery-westeurope-endpoint.azurefd.net/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
       "6c8e0a2b-4d6f-4a8c-9e0b-2d4f6a8c0e15/")


def _check(enabled: bool, issuer: str | None):
    fleet = load_fleet(HYBRID)
    region = fleet.region("amsdc1")
    view = ArcCluster(fleet, region, AksSettings(oidc_enabled=enabled, issuer=issuer, workload_identity=True,
                                                 blob_driver=False))
    return view, list(get_policy("arc-oidc-issuer").check(view))


@pytest.mark.parametrize(("enabled", "issuer"), [(False, AMS), (True, None), (True, ""), (False, None)])
def test_disabled_or_without_an_issuer_is_an_error(enabled, issuer):
    view, [v] = _check(enabled, issuer)
    assert v.message == f"{view.label} has its OIDC issuer disabled: no federated credential can work"
    assert v.path == "properties.oidcIssuerProfile.enabled" and v.region == "amsdc1" and v.obj == view.obj


def test_a_matching_issuer_is_silent():
    assert _check(True, AMS)[1] == []
