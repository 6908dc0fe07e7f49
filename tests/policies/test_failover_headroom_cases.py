"""failover-headroom: a region that did not render is not judged, and a region with no peers and no
GPUs passes even under policy.failover n+1."""

from __future__ import annotations

from rayfleet.fleet import PolicySettings, load_fleet
from rayfleet.policies.base import FleetView
from rayfleet.policies.failover_headroom import POLICY
from rayfleet.subjects import ReleaseObjects

FLEET = """\
apiVersion: rayfleet.dev/v1
chart: chart
release: {name: ray, namespace: ray}
policy: {failover: n+1}
regions:
  - {name: a, location: eastus2, cluster: {name: aks-a, kubernetesVersion: '1.33'}, valuesFiles: []}
  - {name: b, location: westus3, cluster: {name: aks-b, kubernetesVersion: '1.33'}, valuesFiles: []}
"""


def test_unrendered_regions_and_regions_without_gpus(tmp_path):
    (tmp_path / "chart").mkdir()
    (tmp_path / "fleet.yaml").write_text(FLEET)
    fleet = load_fleet(tmp_path / "fleet.yaml")
    b = ReleaseObjects(objects=(), settings=PolicySettings(failover="n+1"), kube_version="1.33", fleet=fleet)
    assert list(POLICY.check(FleetView(fleet, {"b": b}))) == []
