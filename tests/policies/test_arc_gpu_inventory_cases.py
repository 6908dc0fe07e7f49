"""arc-gpu-inventory judges Arc members only: an AKS region has Azure quota, not an inventory."""

from __future__ import annotations

from rayfleet.fleet import load_fleet
from rayfleet.policies.arc_gpu_inventory import POLICY
from rayfleet.policies.base import FleetView

FLEET = """\
apiVersion: rayfleet.dev/v1
chart: chart
release: {name: ray, namespace: ray}
regions:
  - {name: a, location: eastus2, cluster: {name: aks-a, kubernetesVersion: '1.33'}, valuesFiles: []}
"""


def test_an_aks_region_needs_no_inventory(tmp_path):
    (tmp_path / "chart").mkdir()
    (tmp_path / "fleet.yaml").write_text(FLEET)
    assert list(POLICY.check(FleetView(load_fleet(tmp_path / "fleet.yaml"), {}))) == []
