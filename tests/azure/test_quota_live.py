"""Live quota: the real azure-identity credential (workload identity federation, as in CI) and the
real azure-core pipeline against a fake Entra ID + ARM on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time

import pytest
from click.testing import CliRunner
from rayfleet.azure.arm import ArmClient
from rayfleet.azure.quota import live_quotas, quota_from_usages, read_usages
from rayfleet.capacity import normalise_family
from rayfleet.cli.quota import quota as quota_command
from rayfleet.errors import LiveCheckError
from rayfleet.fleet import load_fleet

from tests.azure.fake_azure import ARM_SCOPE, FakeAzure, entra_error, workload_identity_env
from tests.capacity.builders import group, ray_cluster, region, write_fleet
from tests.support.https_server import HttpsServer, Reply

SUB = "00000000-0000-0000-0000-000000000001"
H100 = "Standard_NC40ads_H100_v5"


@pytest.fixture
def azure(monkeypatch, tmp_path):
    with HttpsServer() as server:
        fake = FakeAzure(server)
        sub = fake.arm.subscription(SUB)
        # mixed spellings and string numbers, as az vm list-usage and the API answer
        sub.usage("eastus2", "cores", "100", "500", "Total Regional vCPUs")
        sub.usage("eastus2", "lowPriorityCores", 0, 100, "Total Regional Spot vCPUs")
        sub.usage("eastus2", "virtualMachines", 12, 25000, "Virtual Machines")
        sub.usage("eastus2", "StandardNCadsH100v5Family", "40", "360", "Standard NCads H100 v5 Family vCPUs")
        sub.usage("eastus2", "standardDDSv5Family", 16, 100, "Standard DDSv5 Family vCPUs")
        sub.usage("eastus2", "Standard NCASv3_T4 Family", 0, "24", "Standard NCASv3_T4 Family vCPUs")
        sub.usage("eastus2", "PremiumDiskCount", 3, 1000, "Premium Storage Managed Disks")
        sub.usage("westus3", "cores", 0, 200, "Total Regional vCPUs")
        sub.usage("westus3", "standardNCADSH100V5Family", 0, 80, "Standard NCads H100 v5 Family vCPUs")
        workload_identity_env(monkeypatch, fake, tmp_path)
        yield fake


def fleet_file(tmp_path, *, max_h100=8):
    cluster = ray_cluster("ray", [group("h100", H100, gpus=1, cpu="36", max_replicas=max_h100)])
    return write_fleet(tmp_path / "fleet", [
        region("eastus2", [cluster], quota={"families": {"StandardNCadsH100v5Family": 1000}}, peers=["westus3"]),
        region("westus3", [ray_cluster("ray", [])], peers=["eastus2"]),
    ])


def client(azure, fleet, **kwargs):
    return ArmClient.for_fleet(fleet, endpoint=azure.url, **kwargs)


def test_usages_are_read_across_pages_with_string_numbers_and_mixed_case_families(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    with client(azure, fleet) as arm:
        quotas = live_quotas(fleet, arm)
    east = quotas["eastus2"]
    assert east.regional_vcpus == 400 and east.spot_vcpus == 100
    assert {normalise_family(k): v for k, v in east.families.items()} == {
        "standardncadsh100v5family": 320, "standardddsv5family": 84, "standardncasv3t4family": 24}
    assert {normalise_family(k): v for k, v in quotas["westus3"].families.items()} == {"standardncadsh100v5family": 80}
    usage_calls = [r for r in azure.arm.calls if r.path.endswith("/usages")]
    assert len(usage_calls) == 4  # eastus2: 7 lines in pages of 3; westus3: one page
    assert all(r.query["api-version"] == ["2024-07-01"] for r in usage_calls)
    assert azure.entra.scopes == [ARM_SCOPE]  # one token, for the cloud's ARM audience, reused


def test_read_usages_keeps_names_as_azure_spells_them(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    with client(azure, fleet) as arm:
        usages = read_usages(arm, SUB, "eastus2", region="eastus2")
    assert [u.name for u in usages][:2] == ["cores", "lowPriorityCores"]
    assert all(isinstance(u.current, int) and isinstance(u.limit, int) for u in usages)
    assert quota_from_usages(usages).families["Standard NCASv3_T4 Family"] == 24


def test_throttling_is_retried_after_retry_after(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    azure.arm.throttle = 1
    start = time.monotonic()
    with client(azure, fleet) as arm:
        quotas = live_quotas(fleet, arm, ["eastus2"])
    assert time.monotonic() - start >= 0.9  # Retry-After: 1 was honoured
    assert quotas["eastus2"].regional_vcpus == 400


def test_throttling_that_does_not_stop_is_named(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    azure.arm.throttle = 5
    azure.arm.retry_after = "0"
    with client(azure, fleet, retries=1) as arm, pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm, ["eastus2"])
    assert info.value.cause.startswith("throttled by ARM (429) after 1 retries; TooManyRequests")


def test_forbidden_names_the_role_and_subscription(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    azure.arm.subscriptions[SUB].readers.clear()
    with client(azure, fleet) as arm, pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm)
    assert info.value.region == "eastus2"
    assert info.value.cause.startswith(f"permission denied: needs Reader on subscription {SUB} "
                                       "(Microsoft.Compute/locations/usages/read); AuthorizationFailed: ")
    assert "\n" not in str(info.value)


def test_timeout_names_the_endpoint(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    azure.arm.stall = 3
    start = time.monotonic()
    with client(azure, fleet, timeout=0.3, retries=0) as arm, pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm)
    assert time.monotonic() - start < 2.5
    assert info.value.cause == f"cannot reach {azure.url}: no answer within 0.3 s (0 retries)"


def test_connection_refused_names_the_endpoint(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with ArmClient.for_fleet(fleet, endpoint=f"https://127.0.0.1:{port}", retries=0) as arm, \
            pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm)
    assert info.value.cause == f"cannot reach https://127.0.0.1:{port}: Connection refused"


def test_a_refused_token_gives_the_credential_message_on_one_line(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    azure.entra.fail_with = entra_error(
        401, "invalid_client", 70021, "No matching federated identity record found for presented assertion. "
        "Assertion Issuer: 'https://oidc.example/issuer/'. Assertion Subject: 'system:serviceaccount:ci:rayfleet'.")
    with client(azure, fleet) as arm, pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm)
    cause = info.value.cause
    assert cause.startswith(f"cannot get a token for {ARM_SCOPE}: ")
    assert "AADSTS70021: No matching federated identity record" in cause
    assert "\n" not in cause and "\r" not in cause
    assert not azure.arm.calls  # ARM was never called without a token


def test_an_unknown_client_is_refused(azure, tmp_path, monkeypatch):
    fleet = load_fleet(fleet_file(tmp_path))
    monkeypatch.setenv("AZURE_CLIENT_ID", "99999999-9999-9999-9999-999999999999")
    with client(azure, fleet) as arm, pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm)
    assert "AADSTS700016" in info.value.cause


def test_a_next_link_to_another_host_is_not_followed(azure, tmp_path):
    fleet = load_fleet(fleet_file(tmp_path))
    azure.arm.get(r"/subscriptions/[^/]+/providers/Microsoft\.Compute/locations/eastus2/usages",
                  lambda request, client: Reply(200, {"value": [], "nextLink": "https://evil.example/x?api-version=1"}))
    with client(azure, fleet) as arm, pytest.raises(LiveCheckError) as info:
        live_quotas(fleet, arm, ["eastus2"])
    assert "another host (evil.example)" in info.value.cause


def test_quota_command_live_reports_a_family_over_its_free_quota(azure, tmp_path):
    path = fleet_file(tmp_path, max_h100=9)  # 9 x 40 = 360 vCPUs > 320 free
    result = CliRunner().invoke(quota_command, [str(path), "--live", "--arm-endpoint", azure.url,
                                                "--report", "json", "--no-color"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    messages = [(f["region"], f["policy"], f["message"]) for f in report["findings"]]
    assert ("eastus2", "gpu-quota-fit",
            "family StandardNCadsH100v5Family: max 360 vCPUs (9 x Standard_NC40ads_H100_v5 for worker group "
            "'h100' of RayCluster/ray) exceed the quota of 320 by 40") in messages
    capacity = report["data"]["capacity"]
    assert capacity["quotaSource"].startswith(f"live from {azure.url}")
    row = next(r for r in capacity["rows"] if r["region"] == "eastus2" and r["kind"] == "family")
    assert (row["maxGpus"], row["maxVCpus"], row["limit"]) == (9, 360, 320)
    finding = next(f for f in report["findings"] if f["policy"] == "gpu-quota-fit")
    assert "/providers/Microsoft.Compute/locations/eastus2/usages" in json.dumps(finding)


def test_quota_command_live_error_is_one_line_and_exit_2(azure, tmp_path):
    azure.arm.subscriptions[SUB].readers.clear()
    result = CliRunner().invoke(quota_command, [str(fleet_file(tmp_path)), "--live", "--arm-endpoint", azure.url])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith("rayfleet: error: region eastus2: permission denied: needs Reader on subscription")
