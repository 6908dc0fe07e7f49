"""The RayCluster readiness gate, through the real kubernetes client (list + watch)."""

from __future__ import annotations

import pytest
from rayfleet.errors import LiveCheckError
from rayfleet.kube.client import KubeApi
from rayfleet.kube.readiness import raycluster_readiness, wait_for_raycluster

from tests.kube.fake_kube import raycluster

NAME = "ray-ray-cluster"


def _wait(fake_aks, example, timeout=5.0, **kwargs):
    with KubeApi.connect(example.region("eastus2"), fake_aks.kubeconfig) as api:
        return wait_for_raycluster(api, "ray", NAME, timeout=timeout, poll_interval=0.05, **kwargs)


def test_ready_through_the_watch(fake_aks, example):
    fake_aks.cluster.set_raycluster(raycluster(NAME), raycluster(NAME, head_ready="False", provisioned="False"),
                                    raycluster(NAME, state="ready", head_ready="True", provisioned="True"))
    updates = []
    readiness = _wait(fake_aks, example, on_update=updates.append)
    assert readiness.ready and readiness.conditions == {"HeadPodReady": "True", "RayClusterProvisioned": "True"}
    assert [u.ready for u in updates] == [False, False, True]
    watches = [r for r in fake_aks.server.requests if r.query.get("watch") == ["true"]]
    assert watches and watches[0].query["fieldSelector"] == [f"metadata.name={NAME}"]
    assert watches[0].query["resourceVersion"] == ["7001"]


def test_timeout_says_why(fake_aks, example):
    fake_aks.cluster.set_raycluster(raycluster(NAME, head_ready="True", provisioned="False",
                                               replica_failure="pods \"gpu-0\" is forbidden: exceeded quota"))
    readiness = _wait(fake_aks, example, timeout=1.0)
    assert not readiness.ready
    assert readiness.reason.startswith("not ready after 1s") and "exceeded quota" in readiness.reason


def test_missing_raycluster_times_out(fake_aks, example):
    readiness = _wait(fake_aks, example, timeout=0.5)
    assert not readiness.ready and not readiness.found


def test_expired_credentials_while_waiting(fake_aks, example):
    fake_aks.cluster.expired = True
    with pytest.raises(LiveCheckError, match=r"region eastus2: .*401"):
        _wait(fake_aks, example)


@pytest.mark.parametrize(("obj", "ready"), [
    (raycluster(NAME, state="ready"), True),  # an operator without status conditions
    (raycluster(NAME, state="ready", head_ready="True", provisioned="False"), False),
    (raycluster(NAME, head_ready="True", provisioned="True"), True),
    (raycluster(NAME, state="ready", head_ready="True", provisioned="True", generation=2, observed=1), False),
    (raycluster(NAME, state="suspended"), False),
    (raycluster(NAME), False),
    (None, False),
])
def test_readiness_rules(obj, ready):
    assert raycluster_readiness(obj, NAME).ready is ready
