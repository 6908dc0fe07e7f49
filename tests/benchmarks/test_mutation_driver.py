"""The mutation driver (benchmarks/mutation.py) without running a mutant: its map covers the
current layout, its operators change exactly one thing, and its sample is fixed by the seed."""

from __future__ import annotations

import argparse
import ast
import json
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


# Recorded equivalent mutants (benchmarks/equivalents/*.txt)

def test_the_shipped_equivalents_files_are_valid() -> None:
    """Every recorded key is a mutant of the current tree and has a reason: when code moves, the
    stale key fails here, so the claim is re-checked rather than silently dropped."""
    _, problems = mutation.load_equivalents()
    assert problems == []


def _first_keys(module: str, count: int) -> list[str]:
    return [m.key for m in mutation.every_mutant(list(AREAS), [module])[:count]]


def test_equivalents_are_read_from_every_txt_file_with_their_reasons(tmp_path: Path) -> None:
    one, two, three = _first_keys("fingerprints.py", 3)
    (tmp_path / "a.txt").write_text(f"# header comment\n\n{one}  # the first reason\n  {two} #second # with a hash\n")
    (tmp_path / "b.txt").write_text(f"{three}\t# third\n")
    (tmp_path / "notes.md").write_text("not read: not a .txt file\n")
    found, problems = mutation.load_equivalents(tmp_path)
    assert problems == []
    assert {k: (e.why, Path(e.where).name) for k, e in found.items()} == {
        one: ("the first reason", "a.txt:3"), two: ("second # with a hash", "a.txt:4"), three: ("third", "b.txt:1")}


@pytest.mark.parametrize(("line", "problem"), [
    ("{key}", "a.txt:2: no reason"),
    ("{key}  #   ", "a.txt:2: no reason"),
    ("{key} extra  # why", "a.txt:2: expected one mutant key before '#'"),
    ("fingerprints.py:9999:0:remove:Expr  # moved", "a.txt:2: fingerprints.py:9999:0:remove:Expr is not a mutant"),
    ("no_such_module.py:1:0:remove:Expr  # gone", "a.txt:2: no_such_module.py:1:0:remove:Expr is not a mutant"),
    ("cli/main.py:1:0:remove:Expr  # not sampled", "a.txt:2: cli/main.py:1:0:remove:Expr is not a mutant"),
    ("fingerprints.py:x:0:remove:Expr  # garbled", "a.txt:2: fingerprints.py:x:0:remove:Expr is not a mutant"),
    ("half-a-key  # garbled", "a.txt:2: half-a-key is not a mutant"),
])
def test_a_bad_equivalents_line_is_a_problem_naming_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    key = _first_keys("fingerprints.py", 1)[0]
    (tmp_path / "a.txt").write_text("# comment\n" + line.format(key=key) + "\n")
    found, problems = mutation.load_equivalents(tmp_path)
    assert found == {} and len(problems) == 1 and problems[0].startswith(f"{tmp_path}/{problem}"), problems


def test_an_equivalent_recorded_twice_is_a_problem(tmp_path: Path) -> None:
    key = _first_keys("fingerprints.py", 1)[0]
    (tmp_path / "a.txt").write_text(f"{key}  # one\n")
    (tmp_path / "b.txt").write_text(f"\n{key}  # two\n")
    found, problems = mutation.load_equivalents(tmp_path)
    assert list(found) == [key] and len(problems) == 1
    assert problems[0].endswith(f"b.txt:2: {key} is already recorded at {found[key].where}")


def test_a_bad_equivalents_file_stops_the_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.txt").write_text("fingerprints.py:9999:0:remove:Expr  # stale\n")
    monkeypatch.setattr(mutation, "EQUIVALENTS", tmp_path)
    assert mutation.main(["--module", "fingerprints.py", "--list"]) == 2
    err = capsys.readouterr().err
    assert "x.txt:1: fingerprints.py:9999:0:remove:Expr is not a mutant of the current tree" in err


def test_list_marks_recorded_equivalents_and_the_sample_still_draws_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    drawn = sample(["core"], 6, seed=3)
    (tmp_path / "x.txt").write_text(f"{drawn[0].key}  # because\n")
    monkeypatch.setattr(mutation, "EQUIVALENTS", tmp_path)
    assert mutation.main(["--area", "core", "--sample", "6", "--seed", "3", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in listed] == [m.key for m in drawn]  # the same sample as without it
    assert listed[0].endswith("(recorded equivalent: because)")
    assert not any("recorded equivalent" in line for line in listed[1:])


def _outcome(area: str, n: int, killed: bool) -> mutation.Outcome:
    return mutation.Outcome(Mutant(area, f"{area}.py", n, 0, "remove", "Expr"), killed,
                            "failed" if killed else "survived", 1.0)


def test_the_report_leaves_surviving_equivalents_out_of_the_kill_rate_and_flags_wrong_claims() -> None:
    outcomes = [*(_outcome("core", n, True) for n in range(1, 9)),  # 8 killed, 1 of them claimed
                _outcome("core", 9, False), _outcome("core", 10, False),  # 2 survived, 1 of them claimed
                _outcome("reporters", 1, True), _outcome("reporters", 2, False)]
    claimed = {k: mutation.Equivalent(k, f"why {k}", f"benchmarks/equivalents/x.txt:{i}")
               for i, k in enumerate(["core.py:10:0:remove:Expr", "core.py:3:0:remove:Expr"], start=1)}
    args = argparse.Namespace(seed=4, jobs=1, timeout=120, mutant=None, module=None)
    text = mutation.report(outcomes, args, 60.0, claimed)
    lines = text.splitlines()
    assert lines[0] == "mutation run: 12 mutants, seed 4, 1 jobs, timeout 120s, 1.0 min"
    table = lines[lines.index("| area | mutants | killed | survived | equivalent | kill rate (equivalents "
                              "excluded) |"):][:5]
    assert table[2:] == ["| core | 10 | 8 | 1 | 1 | 88.9% |",     # 8 of the 9 non-equivalent
                         "| reporters | 2 | 1 | 1 | 0 | 50.0% |",
                         "| all | 12 | 9 | 2 | 1 | 81.8% |"]
    assert "| `core.py:10:0:remove:Expr` | why core.py:10:0:remove:Expr |" in lines
    survivors = lines[lines.index("Survivors (2):") + 1:][:2]
    assert survivors == ["- core: `core.py:9:0:remove:Expr`", "- reporters: `reporters.py:2:0:remove:Expr`"]
    wrong = lines[next(i for i, line in enumerate(lines) if "Claimed equivalent but killed (1)" in line) + 1]
    assert wrong == "- core: `core.py:3:0:remove:Expr` (benchmarks/equivalents/x.txt:2)"


def test_a_killed_equivalent_makes_the_run_fail_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Run end to end with the mutant runner stood in (no pytest per mutant): the JSON carries the
    claim, the exit code is 1 and stderr names the file and line of the wrong claim."""
    killed, survived = _first_keys("fingerprints.py", 2)
    (tmp_path / "x.txt").write_text(f"{killed}  # wrong claim\n{survived}  # right claim\n")
    monkeypatch.setattr(mutation, "EQUIVALENTS", tmp_path)
    monkeypatch.setattr(mutation, "_copy_repo", lambda target: target)
    monkeypatch.setattr(mutation, "baseline", lambda repos, modules, timeout: [])
    monkeypatch.setattr(mutation, "run_mutant", lambda repo, m, timeout: mutation.Outcome(
        m, m.key == killed, "failed" if m.key == killed else "survived", 0.5))
    out = tmp_path / "out.json"
    assert mutation.main(["--mutant", killed, "--mutant", survived, "--jobs", "1", "--json", str(out)]) == 1
    captured = capsys.readouterr()
    assert "claimed equivalent but killed" in captured.err
    assert f"{killed} ({tmp_path / 'x.txt'}:1)" in captured.err  # outside the repository: the full path
    assert "| core | 2 | 1 | 0 | 1 | 100.0% |" in captured.out
    assert [(r["killed"], r["equivalent"]) for r in json.loads(out.read_text())] == [(True, "wrong claim"),
                                                                                    (False, "right claim")]
