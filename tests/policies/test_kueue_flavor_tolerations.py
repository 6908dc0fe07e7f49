"""kueue-flavors-match-node-pools: how a flavor's tolerations cover a pool's taints. (Written after
the seed-46817 sample, whose `kueue_flavors_match_node_pools.py:24:37:not:removed` survived.)"""

from __future__ import annotations

import pytest
from rayfleet.policies.kueue_flavors_match_node_pools import _tolerates

TAINT = {"key": "sku", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(("toleration", "tolerated"), [
    (("", "Exists", "", ""), True),  # Exists without a key tolerates every taint
    (("sku", "Exists", "", ""), True),
    (("other", "Exists", "", ""), False),
    (("sku", "Equal", "gpu", "NoSchedule"), True),
    (("sku", "Equal", "cpu", "NoSchedule"), False),
    (("sku", "Equal", "gpu", "NoExecute"), False),  # another effect
    (("", "Equal", "gpu", ""), False),
])
def test_a_toleration_covers_a_taint(toleration, tolerated) -> None:
    assert _tolerates({toleration}, TAINT) is tolerated
