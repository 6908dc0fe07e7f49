"""Hostile YAML in every file a user hands us (manifests on disk and on stdin, values files, the
fleet file): one line naming the file and line, exit 2, quickly, never a traceback (issue #12,
items 1-3 and 5)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from rayfleet.errors import InputError
from rayfleet.values import load_values_file

from ..core.helpers import copy_example, run_cli, snapshot

BAD_SCALARS = {
    "hex-without-digits": "!!int 0x",
    "version-as-int": "!!int 0.1.0",
    "word-as-float": "!!float abc",
    "maybe-as-bool": "!!bool maybe",
    "5000-digit-int": "9" * 5000,
}
RECURSIVE = {
    "flow-map-contains-itself": "hostile: &a {x: *a}\n",
    "block-seq-contains-itself": "hostile: &a\n  - 1\n  - *a\n",
}


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _bomb() -> str:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        rows.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(rows) + "\n"


MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"


def _assert_clean_error(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("rayfleet: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


# --- item 1: scalars a tag cannot hold ----------------------------------------------------------

@pytest.mark.parametrize("scalar", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
def test_bad_scalar_in_a_manifest_file(tmp_path: Path, scalar: str):
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST + f"  a: {scalar}\n")
    _assert_clean_error(run_cli("scan", path), "m.yaml:6:", "not a valid")


@pytest.mark.parametrize("scalar", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
def test_bad_scalar_on_stdin(scalar: str):
    _assert_clean_error(run_cli("scan", "-", input=MANIFEST + f"  a: {scalar}\n"), "<stdin>:6:", "not a valid")


@pytest.mark.parametrize("scalar", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
def test_bad_scalar_in_a_values_file(fleet: Path, scalar: str):
    values = fleet.parent / "values" / "platform.yaml"
    values.write_text(f"first: 1\nhostile: {scalar}\n")
    before = snapshot(fleet.parent)
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml:2:", "not a valid")
    assert snapshot(fleet.parent) == before


@pytest.mark.parametrize("scalar", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
def test_bad_scalar_in_the_fleet_file(fleet: Path, scalar: str):
    lines = len(fleet.read_text().splitlines())
    fleet.write_text(fleet.read_text() + f"hostile: {scalar}\n")
    _assert_clean_error(run_cli("validate", fleet), f"fleet.yaml:{lines + 1}:", "not a valid")


# --- item 2: an anchor that contains its own alias ---------------------------------------------

@pytest.mark.parametrize("text", RECURSIVE.values(), ids=RECURSIVE.keys())
def test_recursive_anchor_in_a_manifest(tmp_path: Path, text: str):
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST.replace("data:\n", "") + text)
    _assert_clean_error(run_cli("scan", path), "m.yaml:", "recursive anchor")
    _assert_clean_error(run_cli("scan", "-", input=path.read_text()), "<stdin>:", "recursive anchor")


def test_document_that_is_its_own_anchor(tmp_path: Path, fleet: Path):
    text = "&top\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nself: *top\n"
    _assert_clean_error(run_cli("scan", "-", input=text), "<stdin>:", "recursive anchor")
    (fleet.parent / "values" / "platform.yaml").write_text("&top\na: 1\nb: *top\n")
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml:", "recursive anchor")


@pytest.mark.parametrize("text", RECURSIVE.values(), ids=RECURSIVE.keys())
def test_recursive_anchor_in_values_and_fleet(fleet: Path, text: str):
    (fleet.parent / "values" / "platform.yaml").write_text(text)
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml:1:", "recursive anchor")
    fleet.write_text(fleet.read_text() + text)
    _assert_clean_error(run_cli("validate", fleet), "fleet.yaml:", "recursive anchor")


# --- item 3: nesting, at every depth -----------------------------------------------------------

@pytest.mark.parametrize("depth", [101, 150, 500, 980, 989, 990, 991, 999, 1000, 1001, 5000])
def test_deep_nesting_is_refused_at_any_depth(tmp_path: Path, fleet: Path, depth: int):
    text = MANIFEST + f"  a: {_nested(depth)}\n"
    # libyaml stops at 1000 levels with its own words ("exceeded maximum nesting depth")
    _assert_clean_error(run_cli("scan", "-", input=text), "<stdin>:6:", "nest")
    (fleet.parent / "values" / "platform.yaml").write_text(f"hostile: {_nested(depth)}\n")
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml:1:", "nest")


@pytest.mark.parametrize("depth", [10, 60, 95])
def test_nesting_below_the_limit_is_checked_not_refused(depth: int):
    result = run_cli("scan", "-", input=MANIFEST + f"  a: {_nested(depth)}\n")
    assert result.exit_code == 1, result.output  # ConfigMap data must be strings: a finding
    assert "Traceback" not in result.output


def test_nesting_through_an_alias_counts(tmp_path: Path):
    # 60 levels, aliased inside another 60: each half is fine, the expansion is 120 deep
    text = f"a: &deep {_nested(60)}\nb: {'[' * 60}*deep{']' * 60}\n"
    with pytest.raises(InputError, match="nests deeper than 100"):
        load_values_file_text(tmp_path, text)


def load_values_file_text(tmp_path: Path, text: str):
    path = tmp_path / "v.yaml"
    path.write_text(text)
    return load_values_file(path)


# --- item 5: alias bombs, early and small ------------------------------------------------------

def test_alias_bomb_in_values_is_refused_fast_and_small(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())
    started = time.perf_counter()
    with pytest.raises(InputError, match="alias bomb"):
        load_values_file(path)
    assert time.perf_counter() - started < 2.0
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            load_values_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_alias_bomb_in_the_fleet_file(fleet: Path):
    fleet.write_text(fleet.read_text() + "hostile:\n" + "".join(f"  {row}\n" for row in _bomb().splitlines()))
    started = time.perf_counter()
    _assert_clean_error(run_cli("validate", fleet), "fleet.yaml:", "alias bomb")
    assert time.perf_counter() - started < 2.0


def test_alias_bomb_on_stdin():
    text = MANIFEST.replace("data:\n", "") + "bomb:\n" + "".join(f"  {row}\n" for row in _bomb().splitlines())
    # 10**9 nodes: over the manifest limit too
    _assert_clean_error(run_cli("scan", "-", input=text), "<stdin>:", "alias bomb")


def test_ordinary_aliases_and_merge_keys_still_load(tmp_path: Path):
    doc = load_values_file_text(tmp_path, "base: &b {cpu: 1, mem: 2}\nhead: *b\nworker: {<<: *b, cpu: 4}\n")
    assert doc.data == {"base": {"cpu": 1, "mem": 2}, "head": {"cpu": 1, "mem": 2},
                                 "worker": {"cpu": 4, "mem": 2}}
