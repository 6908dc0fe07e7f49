"""Commands pick their policies by scope, declared input type and the models a policy declares
it reads (``runner.select``), never by a list of IDs."""

from __future__ import annotations

import ast
from pathlib import Path

from rayfleet.commands.identity import plan_policies, role_policies
from rayfleet.commands.quota import capacity_policies
from rayfleet.findings import Severity
from rayfleet.identity_rbac import RoleAssignmentView
from rayfleet.policies import ALL_POLICIES, Policy, Reads, Scope
from rayfleet.runner import select

COMMANDS = Path(__file__).resolve().parents[2] / "validator" / "rayfleet" / "commands"


def _policy(pid: str, scope: Scope, reads: frozenset[Reads] = frozenset()) -> Policy:
    return Policy(id=pid, title=pid, severity=Severity.WARNING, scope=scope, rationale="r", remediation="m",
                  check=lambda subject: iter(()), reads=reads,
                  subject=RoleAssignmentView if scope is Scope.LIVE else None)


def test_select_by_what_a_policy_reads_keeps_catalogue_order():
    catalogue = [_policy("b", Scope.FLEET, frozenset({Reads.CAPACITY})), _policy("a", Scope.FLEET),
                 _policy("c", Scope.RELEASE, frozenset({Reads.CAPACITY, Reads.CREDENTIAL_PLAN})),
                 _policy("d", Scope.LIVE, frozenset({Reads.CAPACITY}))]
    chosen = select(catalogue, scopes=[Scope.RELEASE, Scope.FLEET], reads=Reads.CAPACITY)
    assert [p.id for p in chosen] == ["b", "c"]
    assert [p.id for p in select(catalogue, reads=Reads.CREDENTIAL_PLAN)] == ["c"]


def test_quota_runs_the_policies_that_read_the_capacity_model():
    declared = [p.id for p in ALL_POLICIES if Reads.CAPACITY in p.reads]
    assert [p.id for p in capacity_policies()] == declared
    assert declared == ["unknown-vm-size", "gpu-quota-fit", "failover-headroom"]


def test_identity_check_runs_the_plan_and_role_policies_by_declaration():
    assert [p.id for p in plan_policies()] == ["federated-credential-limit"]
    assert [p.id for p in role_policies()] == [p.id for p in ALL_POLICIES if p.subject is RoleAssignmentView]


def test_no_command_picks_policies_by_id():
    # No get_policy and no list, tuple or set of policy IDs in a command module.
    ids = {p.id for p in ALL_POLICIES}
    found = []
    for path in sorted(COMMANDS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.alias) and "get_policy" in (getattr(node, "id", None),
                                                                          getattr(node, "name", None)):
                found.append(f"{path.name}: get_policy")
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and any(
                    isinstance(e, ast.Constant) and e.value in ids for e in node.elts):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
