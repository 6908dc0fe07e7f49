"""aks-oidc-issuer, case by case against what ARM reports: disabled (with or without a URL),
enabled without an issuer, no URL in the fleet file, a trailing-slash mismatch, a match."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.findings import Severity
from rayfleet.fleet import load_fleet
from rayfleet.policies import get_policy
from rayfleet.subjects import AksCluster as ClusterView
from rayfleet.subjects import AksSettings as ClusterSettings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"
NO_URL = REPO / "tests" / "identity" / "data" / "fleet.yaml"  # westus3 has no cluster.oidcIssuerUrl
EAST = "https://eastus2.oic.prod-aks.azure.com/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/5c1e9f0a-2b3c-4d5e-8f6a-7b8c9d0e1f21/"
EAST_LINE = next(i for i, line in enumerate(EXAMPLE.read_text().splitlines(), 1) if f"oidcIssuerUrl: {EAST}" in line)


def _check(path: Path, region: str, enabled: bool, issuer: str | None):
    fleet = load_fleet(path)
    [chosen] = [r for r in fleet.regions if r.name == region]
    view = ClusterView(fleet, chosen, ClusterSettings(oidc_enabled=enabled, issuer=issuer, workload_identity=True,
                                                      blob_driver=True))
    return list(get_policy("aks-oidc-issuer").check(view))


@pytest.mark.parametrize(("enabled", "issuer"), [(False, EAST), (True, None), (True, ""), (False, None)])
def test_disabled_or_without_an_issuer_is_an_error(enabled, issuer):
    [v] = _check(EXAMPLE, "eastus2", enabled, issuer)
    assert v.message == ("AKS cluster rg-rayfleet-eus2/rayfleet-eus2 has its OIDC issuer disabled: "
                         "no federated credential can work")
    assert v.path == "properties.oidcIssuerProfile.enabled" and v.severity is None  # the policy's: error
    assert v.region == "eastus2" and str(v.obj) == "ManagedCluster/rayfleet-eus2"
    assert v.source.file == str(EXAMPLE) and v.source.line == EAST_LINE


def test_matching_issuer_is_silent():
    assert _check(EXAMPLE, "eastus2", True, EAST) == []


def test_trailing_slash_mismatch_gets_a_hint():
    [v] = _check(EXAMPLE, "eastus2", True, EAST.rstrip("/"))
    assert v.message.endswith("(they differ only in the trailing slash, which Entra ID compares too)")
    assert v.path == "properties.oidcIssuerProfile.issuerURL" and v.source.line == EAST_LINE


def test_other_issuer_has_no_slash_hint():
    [v] = _check(EXAMPLE, "eastus2", True, "https://eastus2.oic.prod-aks.azure.com/t/other/")
    assert v.message == (f"AKS cluster rg-rayfleet-eus2/rayfleet-eus2 has OIDC issuer "
                         f"'https://eastus2.oic.prod-aks.azure.com/t/other/', the fleet file says {EAST!r}")


def test_fleet_file_without_the_url_is_a_warning():
    [v] = _check(NO_URL, "westus3", True, "https://westus3.oic/x/")
    assert v.severity is Severity.WARNING and v.region == "westus3"
    assert v.message.startswith("the fleet file gives no cluster.oidcIssuerUrl; AKS cluster rg-ray-wus3/ray-wus3 "
                                "has 'https://westus3.oic/x/'")
    assert v.path == "properties.oidcIssuerProfile.issuerURL"
    assert get_policy("aks-oidc-issuer").severity is Severity.ERROR


# --- arc-oidc-issuer: the same helper, the connectedClusters field spelling ---------------------------

HYBRID = REPO / "examples" / "hybrid" / "fleet.yaml"
ARC = ("https://oidcdiscovery-westeurope-endpoint.azurefd.net/0b6f3c1d-4e2a-4f8b-9c7d-5e6f7a8b9c01/"
       "6c8e0a2b-4d6f-4a8c-9e0b-2d4f6a8c0e15/")


def _check_arc(enabled: bool, issuer: str | None, *, without_url: bool = False):
    from dataclasses import replace

    from rayfleet.subjects import ArcCluster

    fleet = load_fleet(HYBRID)
    region = fleet.region("amsdc1")
    if without_url:
        region = replace(region, cluster=replace(region.cluster, oidc_issuer_url=None))
        fleet = replace(fleet, regions=tuple(region if r.name == "amsdc1" else r for r in fleet.regions))
    view = ArcCluster(fleet, region, ClusterSettings(oidc_enabled=enabled, issuer=issuer, workload_identity=True,
                                                    blob_driver=False))
    return list(get_policy("arc-oidc-issuer").check(view))


def test_arc_trailing_slash_mismatch_gets_the_same_hint_on_its_own_field():
    [v] = _check_arc(True, ARC.rstrip("/"))
    assert v.message == (f"Arc-enabled cluster {load_fleet(HYBRID).region('amsdc1').cluster.resource_id} has OIDC "
                         f"issuer {ARC.rstrip('/')!r}, the fleet file says {ARC!r} (they differ only in the trailing "
                         "slash, which Entra ID compares too)")
    assert v.path == "properties.oidcIssuerProfile.issuerUrl" and v.region == "amsdc1"


def test_arc_other_issuer_disabled_match_and_missing_url():
    [other] = _check_arc(True, ARC.replace("6c8e0a2b", "deadbeef"))
    assert "trailing slash" not in other.message and other.path == "properties.oidcIssuerProfile.issuerUrl"
    [disabled] = _check_arc(False, ARC)
    assert disabled.message.endswith("has its OIDC issuer disabled: no federated credential can work")
    assert disabled.path == "properties.oidcIssuerProfile.enabled"
    assert _check_arc(True, ARC) == []
    [warning] = _check_arc(True, ARC, without_url=True)
    assert warning.severity is Severity.WARNING and warning.path == "properties.oidcIssuerProfile.issuerUrl"
    assert warning.message.endswith(f"has {ARC!r}: add it (the federated credential plan needs it)")
