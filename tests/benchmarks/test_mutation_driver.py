"""The mutation driver (benchmarks/mutation.py) without running a mutant: its map covers the
current layout, its operators change exactly one thing, and its sample is fixed by the seed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from benchmarks import mutation
from benchmarks.mutation import AREAS, Mutant, area_modules, check_map, mutate, sample

mapped_tests = mutation.tests_for  # not imported by its name: pytest would collect it as a test

SOURCE = """\
def f(x, items):
    if x < 3 and x in items:
        items.append(x)
        return True
    while not x:
        x += 1
        break
    return x is None
"""


def test_every_module_of_every_area_has_tests_that_exist() -> None:
    assert check_map() == []


def test_areas_cover_the_modules_named_in_docs_testing() -> None:
    assert {"runner.py", "subjects.py", "kueue.py", "fleet_scheduling.py"} <= set(area_modules("core"))
    assert {"commands/rollout.py", "capacity/demand.py", "delivery/flux.py", "region_loss.py"} \
        <= set(area_modules("capacity-identity-rollout"))
    assert {"report/sarif.py", "report/__init__.py", "report/status_html.py"} <= set(area_modules("reporters"))
    assert all(m.startswith("policies/") for m in area_modules("policies"))


def test_a_module_without_tests_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutation, "TEST_MAP", tuple(e for e in mutation.TEST_MAP if e[0] != "kueue.py"))
    assert check_map() == ["no tests mapped for kueue.py: add it to TEST_MAP in benchmarks/mutation.py"]
    monkeypatch.setattr(mutation, "AREAS", {**AREAS, "core": ("no_such_module.py",)})
    assert check_map() == ["no_such_module.py (area core) matches no module: update AREAS in "
                           "benchmarks/mutation.py"]


def test_a_mapped_test_path_that_does_not_exist_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutation, "TEST_MAP", (("kueue.py", ("tests/no_such_test.py",)), *mutation.TEST_MAP))
    with pytest.raises(KeyError, match=re.escape("do not exist for kueue.py: tests/no_such_test.py")):
        mapped_tests("kueue.py")


def test_a_policy_runs_its_fixtures_and_the_files_naming_it() -> None:
    tests = mapped_tests("policies/ray_worker_replicas.py")
    assert tests[:2] == ["tests/policies/test_policies.py::test_pass_fixture_does_not_fire[ray-worker-replicas]",
                         "tests/policies/test_policies.py::test_fail_fixture_fires_exactly_as_expected"
                         "[ray-worker-replicas]"]
    assert "tests/policies/test_limits.py" in tests
    assert all("ray-worker-replicas" in Path(t).read_text() for t in tests[2:])
    # a helper module runs every policy's tests
    assert "tests/policies" in mapped_tests("policies/_helpers.py")


def test_sarif_mutants_run_the_sarif_tests_wherever_they_are() -> None:
    assert set(mapped_tests("report/sarif.py")) >= {"tests/core/test_findings.py",
                                                   "tests/ci/test_sarif_code_scanning.py"}


@pytest.mark.parametrize(("operator", "detail", "line", "expect"), [
    ("compare", "0:Lt->LtE", 2, "if x <= 3 and x in items:"),
    ("compare", "0:In->NotIn", 2, "if x < 3 and x not in items:"),
    ("boolop", "and->or", 2, "if x < 3 or x in items:"),
    ("number", "3->4", 2, "if x < 4 and x in items:"),
    ("number", "3->2", 2, "if x < 2 and x in items:"),
    ("negate", "If", 2, "if not (x < 3 and x in items):"),
    ("remove", "Expr", 3, "pass"),
    ("bool", "True->False", 4, "return False"),
    ("not", "removed", 5, "while x:"),
    ("remove", "AugAssign", 6, "pass"),
    ("remove", "Break", 7, "pass"),
    ("return", "->None", 8, "return None"),
])
def test_each_operator_changes_exactly_one_thing(operator: str, detail: str, line: int, expect: str) -> None:
    [(col, _)] = {(c, d) for (ln, c, op, d) in mutation._sites(ast.parse(SOURCE))
                  if ln == line and op == operator and d == detail}
    mutant = Mutant("core", "x.py", line, col, operator, detail)
    before = ast.unparse(ast.parse(SOURCE)).splitlines()
    after = mutate(SOURCE, mutant).splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(changed) == 1 and changed[0][1].strip() == expect


def test_a_key_from_an_older_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="not found"):
        mutate(SOURCE, Mutant("core", "x.py", 99, 0, "remove", "Expr"))


def test_the_sample_is_fixed_by_the_seed_and_spread_over_the_areas() -> None:
    first = sample(list(AREAS), 8, seed=5)
    assert first == sample(list(AREAS), 8, seed=5)
    assert first != sample(list(AREAS), 8, seed=6)
    assert [m.area for m in first] == [a for a in AREAS for _ in range(2)]


def test_a_deselected_test_that_does_not_exist_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutation, "DESELECT", ("tests/rollout/test_waves.py::test_no_such_test",))
    assert check_map() == ["DESELECT names a test that does not exist: tests/rollout/test_waves.py::test_no_such_test"]


def test_module_mode_runs_every_mutant_of_the_matching_modules_only() -> None:
    every = mutation.every_mutant(list(AREAS), ["report/diff.py"])
    assert every and {m.module for m in every} == {"report/diff.py"}
    assert {m.area for m in every} == {"reporters"}
    assert len(every) == len(mutation._module_sites("report/diff.py"))
    assert len({m.key for m in every}) == len(every)
    assert mutation.every_mutant(["core"], ["report/diff.py"]) == []


def test_module_mode_with_no_match_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert mutation.main(["--module", "no/such_module.py", "--list"]) == 2
    assert "matches no/such_module.py" in capsys.readouterr().err
