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
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
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

# Area -> (source globs relative to validator/rayfleet). Modules the refactor on main moves are
# listed under both layouts; globs that match nothing are ignored.
AREAS: dict[str, tuple[str, ...]] = {
    "policies": ("policies/*.py",),
    "core": ("secrets.py", "values.py", "fleet.py", "waivers.py", "schemas_check.py", "runner.py"),
    "capacity-identity-rollout": ("capacity.py", "capacity/*.py", "identity.py", "rollout.py",
                                  "commands/identity.py", "commands/rollout.py", "commands/quota.py"),
    "reporters": ("report/sarif.py", "report/json_report.py", "report/text.py", "report/junit.py",
                  "report/markdown.py", "report/common.py"),
}

# Module (relative path, first match wins) -> the test paths that cover it. Only these run per mutant.
# A policy module also runs every test file that names its policy ID (live, capacity, delivery tests).
POLICY_TESTS = ("tests/policies", "tests/core/test_findings.py")
HELPER_TESTS = (*POLICY_TESTS, "tests/core/test_pipeline.py", "tests/precision")
TEST_MAP: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("policies/_", HELPER_TESTS),
    ("policies/", POLICY_TESTS),
    ("secrets.py", ("tests/policies", "tests/core/test_findings.py")),
    ("values.py", ("tests/core/test_values_fold.py", "tests/core/test_findings.py", "tests/policies",
                   "tests/core/test_pipeline.py")),
    ("fleet.py", ("tests/core/test_bad_input.py", "tests/core/test_findings.py", "tests/policies",
                  "tests/core/test_pipeline.py")),
    ("waivers.py", ("tests/core/test_findings.py", "tests/core/test_pipeline.py")),
    ("runner.py", ("tests/core/test_findings.py", "tests/policies", "tests/core/test_pipeline.py")),
    ("schemas_check.py", ("tests/core/test_findings.py", "tests/core/test_object_schemas.py",
                          "tests/core/test_pipeline.py", "tests/policies")),
    ("capacity", ("tests/capacity",)),
    ("commands/quota.py", ("tests/capacity",)),
    ("identity.py", ("tests/identity", "tests/azure/test_identity_live.py")),
    ("commands/identity.py", ("tests/identity", "tests/azure/test_identity_live.py")),
    ("rollout.py", ("tests/rollout",)),
    ("commands/rollout.py", ("tests/rollout",)),
    ("report/", ("tests/core/test_findings.py", "tests/core/test_reports.py", "tests/ci/test_markdown_report.py")),
)
# The one rollout test that applies CRDs against a fake API server takes ~30 s; it covers the
# kube client, not rollout.py's own decisions, so mutants skip it.
DESELECT = ("tests/rollout/test_waves.py::test_live_rollout_applies_the_pinned_crds_server_side_before_helm",)

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
        found += sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.glob(pattern)
                        if p.name != "__init__.py" or pattern.endswith("__init__.py"))
    return sorted(set(found))


def tests_for(module: str, repo: Path = REPO) -> list[str]:
    for prefix, tests in TEST_MAP:
        if module.startswith(prefix) or module == prefix:
            found = [t for t in tests if (repo / t.split("::")[0]).exists()]
            if prefix == "policies/":
                found += _naming(repo, Path(module).stem.replace("_", "-"), found)
            return found
    raise KeyError(f"no tests mapped for {module}: add it to TEST_MAP in benchmarks/mutation.py")


def _naming(repo: Path, policy_id: str, already: list[str]) -> list[str]:
    """Test files outside ``already`` that mention the policy ID."""
    out = []
    for path in sorted((repo / "tests").rglob("test_*.py")):
        shown = str(path.relative_to(repo))
        if not any(shown == a or shown.startswith(a.rstrip("/") + "/") for a in already) \
                and policy_id in path.read_text():
            out.append(shown)
    return out


def sample(areas: list[str], size: int, seed: int) -> list[Mutant]:
    """``size`` mutants spread evenly over ``areas``, the same ones for the same seed and sources."""
    rng = random.Random(seed)
    chosen: list[Mutant] = []
    per_area = [size // len(areas) + (1 if i < size % len(areas) else 0) for i in range(len(areas))]
    for area, count in zip(areas, per_area, strict=True):
        pool = [Mutant(area, module, *site) for module in area_modules(area)
                for site in _sites(ast.parse((PACKAGE / module).read_text()))]
        chosen += rng.sample(pool, min(count, len(pool)))
    return chosen


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
    parser.add_argument("--json", type=Path, help="also write every outcome to this JSON file")
    args = parser.parse_args(argv)
    areas = args.area or list(AREAS)
    mutants = [parse_key(k) for k in args.mutant] if args.mutant else sample(areas, args.sample, args.seed)
    if args.list:
        for m in mutants:
            print(f"{m.area:28} {m.key}")
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
    print(report(done, args, elapsed))
    if args.json:
        args.json.write_text(json.dumps([{**asdict(o.mutant), "killed": o.killed, "how": o.how,
                                          "seconds": round(o.seconds, 1)} for o in done], indent=2) + "\n")
    return 0


def report(outcomes: list[Outcome], args: argparse.Namespace, elapsed: float) -> str:
    lines = [f"mutation sample: {len(outcomes)} mutants, seed {args.seed}, {args.jobs} jobs, "
             f"timeout {args.timeout:.0f}s, {elapsed / 60:.1f} min", "",
             "| area | mutants | killed | kill rate |", "|---|---:|---:|---:|"]
    for area in AREAS:
        mine = [o for o in outcomes if o.mutant.area == area]
        if mine:
            killed = sum(o.killed for o in mine)
            lines.append(f"| {area} | {len(mine)} | {killed} | {100 * killed / len(mine):.0f}% |")
    killed = sum(o.killed for o in outcomes)
    lines.append(f"| all | {len(outcomes)} | {killed} | {100 * killed / max(1, len(outcomes)):.0f}% |")
    survivors = [o.mutant for o in outcomes if not o.killed]
    lines += ["", f"survivors ({len(survivors)}):"] + [f"- {m.area}: {m.key}" for m in survivors]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
