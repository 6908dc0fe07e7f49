"""Bounded fuzz of the two gates a pull request feeds: `scan` over mutated manifests (text and
structure) and `validate` over mutated values and fleet files. Whatever the input, the answer is
exit 0, 1 or 2, an exit 2 is one line, and no exception escapes (issue #12, "Done when")."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml

from ..core.helpers import copy_example, run_cli
from ..policies.fixturekit import fixture_dirs
from .mutate import mutate

SEED = 12_2026
HOSTILE_SNIPPETS = [
    "x: !!int 0x", "x: !!float abc", "x: !!bool maybe", "x: !!int 0.1.0", "x: " + "9" * 5000,
    "x: &a {y: *a}", "x: " + "[" * 300 + "1" + "]" * 300, "x: !!binary 'not base64!'", "x: !!python/name:os.system",
    "x: !!set {a, b}", "x: !!omap [a: 1, a: 2]", "<<: 5", "x: *undefined", "? [a, b]\n: c", "x: .nan",
    "x: 0o9", "x:\t1", "x: '\\ud800'", "%YAML 9.9", "--- !!str", "x: |\n  text\n y: 1", "{", "]", "x: @",
    "apiVersion: [v1]", "kind: {a: 1}", "metadata: 7", "metadata: {name: [x]}", "items: 5", "x: 2026-13-45",
]
SCAN_ROUNDS = 160
VALIDATE_ROUNDS = 10


def _assert_contract(result, what: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{what}: {type(result.exception).__name__}: {result.exception}"
    assert result.exit_code in (0, 1, 2), f"{what}: exit {result.exit_code}"
    if result.exit_code == 2:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), f"{what}: {result.output[:500]}"


def _text_mutation(text: str, rng: random.Random) -> str:
    lines = text.splitlines() or [""]
    index = rng.randrange(len(lines))
    choice = rng.randrange(6)
    if choice == 0:
        indent = len(lines[index]) - len(lines[index].lstrip())
        lines.insert(index, " " * indent + rng.choice(HOSTILE_SNIPPETS))
    elif choice == 1:
        del lines[index]
    elif choice == 2:
        lines.insert(index, lines[index])  # a duplicate key, usually
    elif choice == 3:
        line = lines[index]
        cut = rng.randrange(len(line) + 1)
        lines[index] = line[:cut] + rng.choice([":", "-", "&a", "*a", "!", "'", '"', "{", "[", "#", "|"]) + line[cut:]
    elif choice == 4:
        lines[index] = " " * rng.randrange(1, 5) + lines[index]
    else:
        other = rng.randrange(len(lines))
        lines[index], lines[other] = lines[other], lines[index]
    return "\n".join(lines) + "\n"


def _structure_mutation(text: str, rng: random.Random) -> str | None:
    try:
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError:
        return None
    if not docs:
        return None
    return yaml.safe_dump_all([mutate(d, rng, rng.randint(1, 4)) for d in docs], sort_keys=False)


def _manifests() -> list[str]:
    texts = []
    for folder in fixture_dirs():
        for case in ("pass.yaml", "fail.yaml"):
            if (folder / case).exists():
                texts.append((folder / case).read_text())
    return texts


def test_scan_never_crashes_on_mutated_manifests():
    rng = random.Random(SEED)
    texts = _manifests()
    exits: set[int] = set()
    for round_ in range(SCAN_ROUNDS):
        base = rng.choice(texts)
        mutated = _structure_mutation(base, rng) if round_ % 3 == 0 else None
        if mutated is None:
            mutated = base
            for _ in range(rng.randint(1, 3)):
                mutated = _text_mutation(mutated, rng)
        result = run_cli("scan", "-", "--report", "json", input=mutated)
        _assert_contract(result, f"scan round {round_}:\n{mutated[:1500]}")
        exits.add(result.exit_code)
    assert exits >= {1, 2}, exits  # the fuzz reached both the policies and the refusals


@pytest.fixture(scope="module")
def example_copy(tmp_path_factory) -> Path:
    return copy_example(tmp_path_factory.mktemp("fuzz"))


def test_validate_never_crashes_on_mutated_values_and_fleet_files(example_copy: Path):
    rng = random.Random(SEED + 1)
    fleet = example_copy
    targets = [fleet, fleet.parent / "values" / "platform.yaml", fleet.parent / "values" / "regions" / "eastus2.yaml"]
    originals = {path: path.read_text() for path in targets}
    backup = fleet.parent.parent / "backup"
    shutil.copytree(fleet.parent, backup)
    try:
        for round_ in range(VALIDATE_ROUNDS):
            path = rng.choice(targets)
            text = originals[path]
            mutated = _structure_mutation(text, rng) if round_ % 2 == 0 else None
            if mutated is None:
                mutated = _text_mutation(_text_mutation(text, rng), rng)
            path.write_text(mutated)
            result = run_cli("validate", fleet, "--region", "eastus2", "--report", "json")
            _assert_contract(result, f"validate round {round_} ({path.name}):\n{mutated[:1500]}")
            path.write_text(originals[path])
    finally:
        for path, text in originals.items():
            path.write_text(text)
    # nothing but the files this test wrote changed
    for path in backup.rglob("*"):
        if path.is_file():
            assert (fleet.parent / path.relative_to(backup)).read_bytes() == path.read_bytes()
