"""``python -m benchmarks.mutation``: how many small deliberate bugs the tests catch.

Samples mutants with a fixed seed across four areas of the library, runs only the tests that
cover each mutated module (with ``-x`` and a per-mutant timeout) in a scratch copy of the
repository, and reports the kill rate per area and the surviving mutants. Not run in CI: a
sample of 160 takes about half an hour on 2 cores. See docs/testing.md.

    python -m benchmarks.mutation                     # 160 mutants, seed 2311, 2 workers
    python -m benchmarks.mutation --sample 40 --seed 7 --area core
    python -m benchmarks.mutation --list              # the mutants it would run, nothing run

Operators: comparison flips (``<`` / ``<=``, ``==`` / ``!=``, ``in`` / ``not in``, ``is`` /
``is not``), integer constants +1 / -1 (boundaries), ``True`` / ``False``, ``and`` / ``or``,
a removed ``not``, a negated ``if`` / ``elif`` / ``while`` test, ``return x`` -> ``return None``
and removed statements (calls, augmented assignments, ``yield``, ``continue`` / ``break``).
A mutant is killed when the tests fail, error or exceed the timeout.

Equivalent mutants (no input tells them from the original) are recorded, each with why, in
``benchmarks/equivalents/*.txt`` (``KEY  # why``). They are sampled and run like every other
mutant; one that survives is left out of the kill rate and listed with its reason, one that is
killed is reported as a wrong claim. A recorded key that is not a mutant of the current tree, or
a line without a reason, is an error (exit 2).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import functools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "validator" / "rayfleet"
EQUIVALENTS = REPO / "benchmarks" / "equivalents"

# Area -> source globs relative to validator/rayfleet (the layout after the core refactor). Every
# module a glob matches must have tests in TEST_MAP (``check_map``); a glob that matches nothing
# is an error too, so a moved module is noticed rather than silently dropped from the sample.
AREAS: dict[str, tuple[str, ...]] = {
    "policies": ("policies/*.py",),
    "core": ("secrets.py", "values.py", "fleet.py", "fleet_scheduling.py", "kueue.py", "waivers.py",
             "schemas_check.py", "runner.py", "subjects.py", "findings.py", "fingerprints.py",
             "locations.py"),
    "capacity-identity-rollout": ("capacity/*.py", "commands/*.py", "identity.py", "identity_rbac.py",
                                  "rollout.py", "plan.py", "region_loss.py", "delivery/*.py"),
    "reporters": ("report/*.py", "report/__init__.py"),
}

# Module (relative path; exact file, or a folder prefix ending in "/"; first match wins) -> the
# test paths (files, folders or node IDs) that cover it. Only these run per mutant. A policy module
# runs its own fixture tests and every test file that names its policy ID (see ``tests_for``).
POLICY_FIXTURE_TESTS = ("test_pass_fixture_does_not_fire", "test_fail_fixture_fires_exactly_as_expected")
HELPER_TESTS = ("tests/policies", "tests/core/test_findings.py", "tests/core/test_pipeline.py",
                "tests/core/test_pod_facts.py", "tests/core/test_frozen.py", "tests/precision")
FINDING_TESTS = ("tests/policies", "tests/core/test_findings.py", "tests/core/test_pipeline.py",
                 "tests/core/test_frozen.py")
SARIF_TESTS = ("tests/core/test_findings.py", "tests/core/test_reports.py", "tests/ci/test_sarif_code_scanning.py")
# the status folder, file by file: a renderer's own unit tests go first (fast kills), then these
STATUS_TESTS = ("tests/status/test_cli.py", "tests/status/test_collect.py", "tests/status/test_example.py",
                "tests/status/test_html.py")
TEST_MAP: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("policies/_", HELPER_TESTS),
    ("policies/base.py", HELPER_TESTS),
    ("policies/", ()),  # the policy's own fixtures and the files naming its ID, added by tests_for
    # core
    ("secrets.py", ("tests/core/test_named_redaction.py", "tests/hostile/test_redaction.py", *FINDING_TESTS)),
    ("values.py", ("tests/core/test_values_fold.py", "tests/core/test_bad_input.py", *FINDING_TESTS)),
    ("fleet.py", ("tests/core/test_fleet_fields.py", "tests/core/test_bad_input.py",
                  "tests/scheduling/test_fleet_roles.py", *FINDING_TESTS)),
    ("fleet_scheduling.py", ("tests/scheduling", "tests/core/test_bad_input.py", "tests/policies",
                             "tests/identity/test_role_plan.py", "tests/core/test_frozen.py")),
    ("kueue.py", ("tests/core/test_kueue_model.py", "tests/policies", "tests/scheduling",
                  "tests/kube/test_scheduling_sync.py", "tests/charts/test_kueue.py", "tests/core/test_frozen.py")),
    ("waivers.py", ("tests/core/test_findings.py", "tests/core/test_pipeline.py",
                    "tests/policies")),
    ("schemas_check.py", ("tests/core/test_openapi_schema.py", "tests/core/test_object_schemas.py",
                          "tests/precision", *FINDING_TESTS)),
    # every command runs its policies here: the identity command selects live policies by subject type
    ("runner.py", ("tests/core/test_runner.py", *FINDING_TESTS,
                   "tests/core/test_pod_facts.py", "tests/identity", "tests/azure/test_identity_live.py")),
    # what every policy scope looks at: releases and fleets, live clusters (preflight), the identity plan
    ("subjects.py", (*FINDING_TESTS, "tests/core/test_live_subjects.py",
                     "tests/core/test_pod_facts.py",
                     "tests/capacity", "tests/kube/test_preflight.py", "tests/kube/test_preflight_audit.py",
                     "tests/identity", "tests/azure/test_identity_live.py", "tests/hybrid")),
    ("findings.py", ("tests/core/test_severity.py", *FINDING_TESTS, "tests/core/test_reports.py")),
    ("fingerprints.py", ("tests/core/test_fingerprints.py", *SARIF_TESTS)),
    ("locations.py", ("tests/core/test_locations.py", *SARIF_TESTS, "tests/policies", "tests/core/test_pipeline.py")),
    # capacity, identity, rollout, delivery
    ("capacity/", ("tests/capacity", "tests/scheduling/test_region_loss.py")),
    ("commands/quota.py", ("tests/capacity", "tests/azure/test_quota_live.py")),
    ("commands/identity.py", ("tests/identity", "tests/azure/test_identity_live.py",
                              "tests/azure/test_role_assignments_live.py", "tests/azure/test_probe.py")),
    ("commands/preflight.py", ("tests/kube/test_preflight.py", "tests/kube/test_preflight_audit.py",
                               "tests/rollout")),
    ("commands/rollout.py", ("tests/rollout", "tests/delivery/test_export.py")),
    ("commands/fleet_manager.py", ("tests/kube/test_update_run.py", "tests/delivery", "tests/rollout")),
    ("identity.py", ("tests/identity", "tests/azure/test_identity_live.py", "tests/hybrid/test_hybrid_fleet.py")),
    ("identity_rbac.py", ("tests/identity", "tests/azure/test_role_assignments_live.py")),
    ("rollout.py", ("tests/rollout", "tests/hybrid/test_anyscale_delivery.py")),
    ("plan.py", ("tests/rollout/test_plan_by_hand.py", "tests/rollout/test_cli.py", "tests/core/test_cli.py",
                 "tests/core/test_layout.py",
                 "tests/hybrid/test_anyscale_delivery.py")),
    ("region_loss.py", ("tests/scheduling/test_region_loss.py",)),
    ("delivery/", ("tests/delivery", "tests/kube/test_update_run.py", "tests/policies",
                   "tests/hybrid/test_anyscale_delivery.py")),
    # reporters
    ("report/sarif.py", SARIF_TESTS),
    ("report/json_report.py", ("tests/core/test_findings.py", "tests/core/test_reports.py", "tests/core/test_cli.py")),
    ("report/junit.py", ("tests/core/test_findings.py", "tests/core/test_reports.py")),
    ("report/markdown.py", ("tests/ci/test_markdown_report.py", "tests/core/test_reports.py")),
    ("report/text.py", ("tests/core/test_findings.py", "tests/core/test_reports.py", "tests/core/test_layout.py",
                        "tests/core/test_cli.py", "tests/core/test_text_report_fields.py")),
    ("report/common.py", ("tests/core/test_report_common.py", "tests/core/test_reports.py", "tests/core/test_cli.py")),
    ("report/layout.py", ("tests/core/test_layout_cases.py", "tests/core/test_layout.py", "tests/core/test_cli.py")),
    ("report/capacity.py", ("tests/capacity", "tests/hybrid/test_hybrid_fleet.py", "tests/core/test_layout.py")),
    ("report/plan.py", ("tests/rollout/test_cli.py", "tests/core/test_layout.py", "tests/core/test_cli.py",
                        "tests/rollout/test_plan_report_fields.py")),
    ("report/rollout.py", ("tests/rollout", "tests/delivery/test_export.py", "tests/kube/test_update_run.py")),
    ("report/update_run.py", ("tests/kube/test_update_run_report.py", "tests/kube/test_update_run.py")),
    ("report/identity.py", ("tests/identity", "tests/azure/test_identity_live.py", "tests/azure/test_probe.py")),
    ("report/identity_table.py", ("tests/identity", "tests/core/test_layout.py")),
    ("report/roles.py", ("tests/identity", "tests/azure/test_storage_live.py")),
    ("report/diff.py", ("tests/ci/test_diff_report.py", "tests/ci/test_diff.py")),
    ("report/status_text.py", ("tests/status/test_status_text_view.py", *STATUS_TESTS)),
    ("report/status_html.py", ("tests/status/test_status_html_page.py", *STATUS_TESTS)),
    # renderers the core refactor moved into report/
    ("report/policy_docs.py", ("tests/policies/test_policy_docs.py", "tests/core/test_cli.py",
                               "tests/policies/test_policy_docs_fields.py")),
    ("report/probe.py", ("tests/azure/test_probe_report.py", "tests/azure/test_probe.py")),
    ("report/rbac.py", ("tests/identity", "tests/azure/test_role_assignments_live.py")),
    ("report/region_loss.py", ("tests/scheduling/test_region_loss_report.py", "tests/scheduling/test_region_loss.py")),
    ("report/status_json.py", ("tests/status/test_status_json_document.py", *STATUS_TESTS)),
    ("report/__init__.py", ("tests/core/test_report_common.py", "tests/core/test_reports.py",
                            "tests/core/test_findings.py", "tests/core/test_cli.py")),
)
# Slow tests (> 5 s each) that test something other than the mutated modules' decisions: mutants
# skip them. The CRD server-side apply covers the kube client, not rollout.py; the 30-region flux
# parity is the 2-region parity test at scale (the same code, 45 s); a bad ``--base`` is cli/diff's
# input handling (git), not report/diff.py. (tests/core/test_layers.py, the import contracts, is
# mapped nowhere: no operator touches an import.)
DESELECT = (
    "tests/rollout/test_waves.py::test_live_rollout_applies_the_pinned_crds_server_side_before_helm",
    "tests/delivery/test_parity.py::test_generated_30_region_fleet_renders_the_same_through_flux",
    "tests/ci/test_diff.py::test_bad_base_is_a_one_line_error",
)

_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Mutant:
    area: str
    module: str  # relative to validator/rayfleet
    line: int
    col: int
    operator: str
    detail: str

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line}:{self.col}:{self.operator}:{self.detail}"


def _skip_lines(tree: ast.Module) -> set[int]:
    """Lines never mutated: docstrings, annotations, ``if TYPE_CHECKING`` blocks, ``POLICY = ...``."""
    skip: set[int] = set()

    def cover(node: ast.AST | None) -> None:
        if node is not None and hasattr(node, "lineno"):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            cover(body[0])
        if isinstance(node, ast.AnnAssign):
            cover(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cover(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                cover(arg.annotation)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            cover(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in {"POLICY", "__all__"}
                                                for t in node.targets):
            cover(node)
    return skip


def _sites(tree: ast.Module) -> list[tuple[int, int, str, str]]:
    """Every (line, col, operator, detail) this module offers."""
    skip = _skip_lines(tree)
    out: list[tuple[int, int, str, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or line in skip:
            continue
        col = node.col_offset
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _FLIP:
                    out.append((line, col, "compare", f"{i}:{type(op).__name__}->{_FLIP[type(op)].__name__}"))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            out.append((line, col, "bool", f"{node.value}->{not node.value}"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            out += [(line, col, "number", f"{node.value}->{node.value + 1}"),
                    (line, col, "number", f"{node.value}->{node.value - 1}")]
        elif isinstance(node, ast.BoolOp):
            out.append((line, col, "boolop", "and->or" if isinstance(node.op, ast.And) else "or->and"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append((line, col, "not", "removed"))
        elif isinstance(node, (ast.If, ast.While)):
            out.append((line, col, "negate", type(node).__name__))
        elif isinstance(node, ast.Return) and node.value is not None \
                and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            out.append((line, col, "return", "->None"))
        elif isinstance(node, (ast.Expr, ast.AugAssign, ast.Continue, ast.Break)):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # a bare string: a comment, not behaviour
            out.append((line, col, "remove", type(node).__name__))
    return out


class _Apply(ast.NodeTransformer):
    def __init__(self, mutant: Mutant) -> None:
        self.m = mutant
        self.done = False

    def _here(self, node: ast.AST) -> bool:
        return not self.done and getattr(node, "lineno", None) == self.m.line and node.col_offset == self.m.col

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if self._here(node) and self.m.operator == "compare":
            i = int(self.m.detail.split(":")[0])
            node.ops[i] = _FLIP[type(node.ops[i])]()
            self.done = True
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self._here(node) and self.m.operator in {"bool", "number"}:
            if self.m.operator == "bool" and type(node.value) is bool:
                node.value, self.done = not node.value, True
            elif self.m.operator == "number" and type(node.value) is int:
                node.value, self.done = int(self.m.detail.split("->")[1]), True
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if self._here(node) and self.m.operator == "boolop":
            node.op, self.done = (ast.Or() if isinstance(node.op, ast.And) else ast.And()), True
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if self._here(node) and self.m.operator == "not" and isinstance(node.op, ast.Not):
            self.done = True
            return node.operand
        return node

    def _negate(self, node: ast.If | ast.While) -> ast.AST:
        self.generic_visit(node)
        if self._here(node) and self.m.operator == "negate":
            node.test, self.done = ast.UnaryOp(op=ast.Not(), operand=node.test), True
        return node

    visit_If = visit_While = _negate

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if self._here(node) and self.m.operator == "return":
            node.value, self.done = ast.Constant(value=None), True
        return node

    def _remove(self, node: ast.stmt) -> ast.AST:
        self.generic_visit(node)
        if self._here(node) and self.m.operator == "remove":
            self.done = True
            return ast.Pass()
        return node

    visit_Expr = visit_AugAssign = visit_Continue = visit_Break = _remove


def mutate(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    applier = _Apply(mutant)
    tree = ast.fix_missing_locations(applier.visit(tree))
    if not applier.done:
        raise ValueError(f"mutant {mutant.key} not found")
    return ast.unparse(tree)


def area_modules(area: str) -> list[str]:
    found: list[str] = []
    for pattern in AREAS[area]:
        matched = [str(p.relative_to(PACKAGE)) for p in PACKAGE.glob(pattern)
                   if p.name != "__init__.py" or pattern.endswith("__init__.py")]
        if not matched:
            raise KeyError(f"{pattern} (area {area}) matches no module: update AREAS in benchmarks/mutation.py")
        found += matched
    return sorted(set(found))


def _mapped(module: str) -> tuple[str, tuple[str, ...]]:
    for prefix, tests in TEST_MAP:
        if module == prefix or (prefix.endswith(("/", "_")) and module.startswith(prefix)):
            return prefix, tests
    raise KeyError(f"no tests mapped for {module}: add it to TEST_MAP in benchmarks/mutation.py")


def tests_for(module: str, repo: Path = REPO) -> list[str]:
    """The test paths a mutant in ``module`` runs. A policy module (``policies/<id>.py``) runs its
    fixture tests and every test file that names its ID; a path that does not exist is an error."""
    prefix, tests = _mapped(module)
    found = list(tests)
    if prefix == "policies/":
        policy_id = Path(module).stem.replace("_", "-")
        if (repo / "tests" / "policies" / "fixtures" / policy_id).is_dir():
            found += [f"tests/policies/test_policies.py::{name}[{policy_id}]" for name in POLICY_FIXTURE_TESTS]
        found += _naming(repo, policy_id, found)
        if not found:
            raise KeyError(f"no tests for {module}: no fixtures folder and no test file names {policy_id}")
    missing = [t for t in found if not (repo / t.split("::")[0]).exists()]
    if missing:
        raise KeyError(f"TEST_MAP lists tests that do not exist for {module}: {', '.join(missing)}")
    return found


def check_map(repo: Path = REPO) -> list[str]:
    """Every module of every area has tests that exist; returns the problems (none: an empty list)."""
    problems = []
    for area in AREAS:
        try:
            modules = area_modules(area)
        except KeyError as exc:
            problems.append(str(exc.args[0]))
            continue
        for module in modules:
            try:
                tests_for(module, repo)
            except KeyError as exc:
                problems.append(str(exc.args[0]))
    return problems + _deselect_problems(repo)


def _deselect_problems(repo: Path) -> list[str]:
    problems = []
    for node in DESELECT:
        file, _, name = node.partition("::")
        path = repo / file
        if not path.exists() or f"def {name}(" not in path.read_text():
            problems.append(f"DESELECT names a test that does not exist: {node}")
    return problems


def _naming(repo: Path, policy_id: str, already: list[str]) -> list[str]:
    """Test files outside ``already`` that mention the policy ID or its module (as a whole word)."""
    out = []
    for shown, words in _test_files(repo):
        if shown == "tests/policies/test_policies.py":
            continue  # its fixture tests for this policy are selected by node ID
        if not any(shown == a or shown.startswith(a.rstrip("/") + "/") for a in already) \
                and (policy_id in words or policy_id.replace("-", "_") in words):
            out.append(shown)
    return out


@functools.cache
def _test_files(repo: Path) -> tuple[tuple[str, frozenset[str]], ...]:
    """Every test file with the words (runs of letters, digits, ``_`` and ``-``) in it."""
    return tuple((str(p.relative_to(repo)), frozenset(re.findall(r"[\w-]+", p.read_text())))
                 for p in sorted((repo / "tests").rglob("test_*.py")))


@functools.cache
def _module_sites(module: str) -> tuple[tuple[int, int, str, str], ...]:
    return tuple(_sites(ast.parse((PACKAGE / module).read_text())))


def sample(areas: list[str], size: int, seed: int) -> list[Mutant]:
    """``size`` mutants spread evenly over ``areas``, the same ones for the same seed and sources."""
    rng = random.Random(seed)
    chosen: list[Mutant] = []
    per_area = [size // len(areas) + (1 if i < size % len(areas) else 0) for i in range(len(areas))]
    for area, count in zip(areas, per_area, strict=True):
        pool = [Mutant(area, module, *site) for module in area_modules(area)
                for site in _module_sites(module)]
        chosen += rng.sample(pool, min(count, len(pool)))
    return chosen


def every_mutant(areas: list[str], globs: list[str]) -> list[Mutant]:
    """All mutants of the areas' modules that match one of ``globs``, in source order."""
    return [Mutant(area, module, *site) for area in areas for module in area_modules(area)
            if any(fnmatch.fnmatch(module, g) for g in globs) for site in _module_sites(module)]


@dataclass(frozen=True)
class Equivalent:
    key: str
    why: str
    where: str  # "benchmarks/equivalents/<file>.txt:<line>"


def load_equivalents(folder: Path | None = None) -> tuple[dict[str, Equivalent], list[str]]:
    """The recorded equivalent mutants (``KEY  # why`` per line, in every ``*.txt`` of ``folder``)
    and the problems: a line without a reason, a key that is not a mutant of the current tree (the
    code moved: re-check the claim and update the key), a key recorded twice."""
    folder = EQUIVALENTS if folder is None else folder
    found: dict[str, Equivalent] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        shown = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
        for number, raw in enumerate(path.read_text().splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{shown}:{number}"
            key, hashed, why = line.partition("#")
            key, why = key.strip(), why.strip()
            if not hashed or not why:
                problems.append(f"{where}: no reason: write '{key}  # why no input tells it from the original'")
            elif len(key.split()) != 1:
                problems.append(f"{where}: expected one mutant key before '#', got {key!r}")
            elif not is_mutant(key):
                problems.append(f"{where}: {key} is not a mutant of the current tree (the code moved? "
                                "list the module's mutants with --module GLOB --list)")
            elif key in found:
                problems.append(f"{where}: {key} is already recorded at {found[key].where}")
            else:
                found[key] = Equivalent(key, why, where)
    return found, problems


def is_mutant(key: str) -> bool:
    """Whether ``key`` names a mutant the current tree offers, in a module of an area."""
    try:
        m = parse_key(key)
    except ValueError:
        return False
    if m.area == "other" or not (PACKAGE / m.module).is_file():
        return False
    return (m.line, m.col, m.operator, m.detail) in _module_sites(m.module)


def parse_key(key: str) -> Mutant:
    module, line, col, operator, detail = key.split(":", 4)
    area = next((a for a in AREAS if module in area_modules(a)), "other")
    return Mutant(area, module, int(line), int(col), operator, detail)


def _copy_repo(target: Path) -> Path:
    """A scratch copy beside a link to ../shared, so the tests find the reference folder."""
    repo = target / "repo"
    shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", ".ruff_cache",
                                                              ".pytest_cache", "node_modules", ".mutation*"))
    shared = REPO.parent / "shared"
    if shared.exists():
        (target / "shared").symlink_to(shared)
    return repo


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    how: str  # "failed", "timeout", "survived", or "missing" (a --mutant key this tree does not have)
    seconds: float


def _pytest(repo: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(repo / "validator"), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header",
           *[f"--deselect={d}" for d in DESELECT], *tests]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start
    if proc.returncode in (3, 4, 5):  # internal error, bad usage, no tests: the driver's fault, not a kill
        output = proc.stdout.decode(errors="replace")[-2000:] + proc.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"pytest exited {proc.returncode} for {' '.join(tests)}:\n{output}")
    return ("survived" if proc.returncode == 0 else "failed"), time.perf_counter() - start


def run_mutant(repo: Path, mutant: Mutant, timeout: float) -> Outcome:
    path = repo / "validator" / "rayfleet" / mutant.module
    original = path.read_text()
    try:
        mutated = mutate(original, mutant)
    except ValueError:  # a key from an older tree: the code moved
        return Outcome(mutant, False, "missing", 0.0)
    path.write_text(mutated)
    try:
        how, seconds = _pytest(repo, tests_for(mutant.module, repo), timeout)
    finally:
        path.write_text(original)
    return Outcome(mutant, how != "survived", how, seconds)


def baseline(repos: list[Path], modules: list[str], timeout: float) -> list[str]:
    """Test paths that fail on the unmutated copy: their mutants would prove nothing. Every path
    the sample needs runs once, the paths dealt out over the workers."""
    paths = sorted({t for m in modules for t in tests_for(m, repos[0])})
    paths = [p for p in paths if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in paths)]
    shares = [paths[i::len(repos)] for i in range(len(repos))]

    def one(i: int) -> str | None:
        if not shares[i]:
            return None
        how, _ = _pytest(repos[i], shares[i], timeout * 5)
        return None if how == "survived" else " ".join(shares[i])

    with ThreadPoolExecutor(len(repos)) as pool:
        return [b for b in pool.map(one, range(len(repos))) if b]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=160, help="mutants in all (default: 160)")
    parser.add_argument("--seed", type=int, default=2311, help="sampling seed (default: 2311)")
    parser.add_argument("--area", action="append", choices=sorted(AREAS), help="only these areas (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once, one repo copy each (default: 2)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per mutant (default: 120)")
    parser.add_argument("--list", action="store_true", help="print the sampled mutants and stop")
    parser.add_argument("--mutant", action="append", metavar="KEY",
                        help="run this mutant (module:line:col:operator:detail, as listed) instead of a sample")
    parser.add_argument("--module", action="append", metavar="GLOB",
                        help="run EVERY mutant of the modules matching this glob under validator/rayfleet "
                             "(e.g. 'report/diff.py'), instead of a sample: for closing one module's gaps")
    parser.add_argument("--json", type=Path, help="also write every outcome to this JSON file")
    args = parser.parse_args(argv)
    areas = args.area or list(AREAS)
    problems = check_map()
    if problems:
        print("benchmarks/mutation.py's map is out of date:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    equivalents, problems = load_equivalents()
    if problems:
        print("benchmarks/equivalents/ is out of date:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.mutant:
        mutants = [parse_key(k) for k in args.mutant]
    elif args.module:
        mutants = every_mutant(areas, args.module)
        if not mutants:
            print(f"no module of {', '.join(areas)} matches {' '.join(args.module)}", file=sys.stderr)
            return 2
    else:
        mutants = sample(areas, args.sample, args.seed)
    if args.list:
        for m in mutants:
            claim = equivalents.get(m.key)
            print(f"{m.area:28} {m.key}" + (f"  (recorded equivalent: {claim.why})" if claim else ""))
        return 0
    with tempfile.TemporaryDirectory(prefix="rayfleet-mutation-") as scratch:
        repos = [_copy_repo(Path(scratch) / f"w{i}") for i in range(max(1, args.jobs))]
        broken = baseline(repos, sorted({m.module for m in mutants}), args.timeout)
        if broken:
            print("the unmutated tests fail, fix them first:\n  " + "\n  ".join(broken), file=sys.stderr)
            return 2
        start = time.perf_counter()
        queue = list(enumerate(mutants))
        outcomes: list[Outcome | None] = [None] * len(mutants)

        def worker(w: int) -> None:
            while queue:
                try:
                    i, mutant = queue.pop(0)
                except IndexError:
                    return
                outcome = run_mutant(repos[w], mutant, args.timeout)
                outcomes[i] = outcome
                print(f"[{sum(o is not None for o in outcomes):3}/{len(mutants)}] {outcome.how:8} "
                      f"{outcome.seconds:5.1f}s {mutant.key}", file=sys.stderr, flush=True)

        with ThreadPoolExecutor(len(repos)) as pool:
            list(pool.map(worker, range(len(repos))))
        elapsed = time.perf_counter() - start
    done = [o for o in outcomes if o is not None and o.how != "missing"]
    missing = [o.mutant.key for o in outcomes if o is not None and o.how == "missing"]
    if missing:
        print("not found in this tree (the code moved since they were listed):\n  " + "\n  ".join(missing),
              file=sys.stderr)
    wrong = [o for o in done if o.killed and o.mutant.key in equivalents]
    print(report(done, args, elapsed, equivalents))
    if wrong:
        print(f"{len(wrong)} mutant(s) claimed equivalent but killed: the claim is wrong, remove it:\n  "
              + "\n  ".join(f"{o.mutant.key} ({equivalents[o.mutant.key].where})" for o in wrong),
              file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(o.mutant), "killed": o.killed, "how": o.how,
                                          "seconds": round(o.seconds, 1),
                                          "equivalent": equivalents[o.mutant.key].why
                                          if o.mutant.key in equivalents else None} for o in done],
                                        indent=2) + "\n")
    return 1 if wrong else 0


def _rate(killed: int, counted: int) -> str:
    return f"{100 * killed / counted:.1f}%" if counted else "n/a"


def report(outcomes: list[Outcome], args: argparse.Namespace, elapsed: float,
           equivalents: dict[str, Equivalent] | None = None) -> str:
    """Markdown for docs/testing.md: per area and overall, the mutants, killed, survived and
    equivalent (recorded and survived: left out of the kill rate), then the equivalents with why,
    the survivors, and any recorded equivalent that was killed (a wrong claim, counted as killed)."""
    equivalents = equivalents or {}

    def counts(mine: list[Outcome]) -> str:
        killed = sum(o.killed for o in mine)
        equivalent = sum(not o.killed and o.mutant.key in equivalents for o in mine)
        survived = len(mine) - killed - equivalent
        return f"{len(mine)} | {killed} | {survived} | {equivalent} | {_rate(killed, len(mine) - equivalent)}"

    what = ("the keys given" if getattr(args, "mutant", None) else
            f"every mutant of {' '.join(args.module)}" if getattr(args, "module", None) else f"seed {args.seed}")
    lines = [f"mutation run: {len(outcomes)} mutants, {what}, {args.jobs} jobs, "
             f"timeout {args.timeout:.0f}s, {elapsed / 60:.1f} min", "",
             "| area | mutants | killed | survived | equivalent | kill rate (equivalents excluded) |",
             "|---|---:|---:|---:|---:|---:|"]
    for area in [*AREAS, "other"]:
        mine = [o for o in outcomes if o.mutant.area == area]
        if mine:
            lines.append(f"| {area} | {counts(mine)} |")
    lines.append(f"| all | {counts(outcomes)} |")
    excluded = [o.mutant for o in outcomes if not o.killed and o.mutant.key in equivalents]
    survivors = [o.mutant for o in outcomes if not o.killed and o.mutant.key not in equivalents]
    wrong = [o.mutant for o in outcomes if o.killed and o.mutant.key in equivalents]
    if excluded:
        lines += ["", f"Equivalent mutants ({len(excluded)}, excluded):", "",
                  "| mutant | why it is equivalent |", "|---|---|"]
        lines += [f"| `{m.key}` | {equivalents[m.key].why} |" for m in excluded]
    lines += ["", f"Survivors ({len(survivors)}):"] + [f"- {m.area}: `{m.key}`" for m in survivors]
    if wrong:
        lines += ["", f"**Claimed equivalent but killed ({len(wrong)})**: the claim is wrong, remove it "
                  "(counted as killed):"]
        lines += [f"- {m.area}: `{m.key}` ({equivalents[m.key].where})" for m in wrong]
    return "\n".join(lines)

if __name__ == "__main__":
    sys.exit(main())
