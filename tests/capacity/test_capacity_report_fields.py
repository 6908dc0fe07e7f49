"""The capacity table as text (report/capacity.py) at its edges: the 90% warning colour at, below
and above the limit, the grid at exactly its natural width and one column narrower, column
alignment, the terminal's width as the default, and text that rich could take for markup."""

from __future__ import annotations

import re

import pytest
from rayfleet.capacity.table import CapacityRow, CapacityTable
from rayfleet.report.capacity import format_capacity_table

YELLOW, RED = "\x1b[33m", "\x1b[31m"


def _row(region: str, vcpus: int, quota: int | None, models: tuple[str, ...] = ()) -> CapacityRow:
    return CapacityRow(region, "FamA", "family", models, 1, vcpus, quota, None)


def _table(*rows: CapacityRow, notes: tuple[str, ...] = ()) -> CapacityTable:
    return CapacityTable(rows, (), notes, "live")


@pytest.mark.parametrize(("vcpus", "colour"), [(89, None), (90, None), (91, YELLOW), (100, YELLOW), (101, RED)])
def test_warning_colour_starts_above_90_percent(vcpus: int, colour: str | None):
    """Up to 90% of the quota a row is plain; above it yellow (a full quota still fits); over the
    quota red."""
    text = format_capacity_table(_table(_row("east", vcpus, 100)), width=200, color=True)
    [line] = [line for line in text.splitlines() if "east" in line]
    for code in (YELLOW, RED):
        assert (code in line) is (code == colour), (vcpus, line)


def test_no_quota_and_zero_quota_rows():
    text = format_capacity_table(_table(_row("noq", 5, None), _row("zero", 0, 0), _row("zover", 5, 0)),
                                 width=200, color=True)
    lines = {line.split("│")[1].strip(" \x1b[0123456789;m"): line for line in text.splitlines() if "│" in line
             and "FamA" in line}
    assert RED not in lines["noq"] and YELLOW not in lines["noq"]  # no quota: nothing to compare with
    assert RED not in lines["zero"] and YELLOW not in lines["zero"]  # 0 of 0 fits
    assert RED in lines["zover"]


def _natural(table: CapacityTable) -> int:
    return max(len(line) for line in format_capacity_table(table, width=500).splitlines() if "│" in line)


def test_grid_at_its_natural_width_and_records_below():
    table = _table(_row("east", 10, 100, ("H100",)), _row("west", 5, None))
    width = _natural(table)
    grid = format_capacity_table(table, width=width)
    assert "│ east" in grid and grid == format_capacity_table(table, width=500)
    records = format_capacity_table(table, width=width - 1)
    assert "│" not in records
    # one heading per row, its fields after it (wrapped with an indent of 4)
    assert re.sub(r"\n {4}", " ", records).splitlines() == [
        "GPU capacity (quota: live)", "east  FamA",
        "  GPU H100 · max GPUs 1 · max vCPUs 10 · quota vCPUs 100 · used 10% · after failover -",
        "west  FamA", "  GPU - · max GPUs 1 · max vCPUs 5 · quota vCPUs - · used - · after failover -"]


def test_names_left_numbers_right():
    table = _table(_row("east", 10, 100, ("H100",)), _row("west", 5, 200, ("A10, T4",)))
    lines = [line for line in format_capacity_table(table, width=200).splitlines() if "│" in line]
    cells = {line.split("│")[1].strip(): line.split("│")[1:-1] for line in lines}
    east, west = cells["east"], cells["west"]
    # region, quota and GPU columns flush left; the five number columns flush right
    assert east[0] == " east   " and east[2] == " H100    " and west[2] == " A10, T4 "
    assert east[3].endswith("1 ") and east[3].startswith("  ") and east[5].endswith(" 100 ")
    assert west[5].endswith(" 200 ") and east[6].endswith(" 10% ") and east[6].startswith("  ")


def test_width_defaults_to_the_terminal(monkeypatch: pytest.MonkeyPatch):
    table = _table(_row("east", 10, 100, ("H100",)))
    width = _natural(table)
    monkeypatch.setenv("COLUMNS", str(width))
    assert "│ east" in format_capacity_table(table)
    monkeypatch.setenv("COLUMNS", str(width - 1))
    assert "│" not in format_capacity_table(table) and "east  FamA" in format_capacity_table(table)


def test_text_is_never_read_as_markup_or_highlighted():
    """A note or a GPU model with square brackets (``[mig]`` would be a rich style tag) prints as
    written in notes and stacked records; numbers in records and notes are not coloured (only a
    row's state is)."""
    table = CapacityTable((_row("east", 10, 100, ("A100 [mig]",)),), (), ("sizes [gpu] unknown, 12 nodes",),
                          "live [cached]")
    assert format_capacity_table(table, width=40).startswith("GPU capacity (quota: live [cached])\n")
    for width in (200, 40):
        plain = format_capacity_table(table, width=width)
        assert "note: sizes [gpu] unknown, 12 nodes" in " ".join(line.strip() for line in plain.splitlines())
    assert "GPU A100 [mig] ·" in format_capacity_table(table, width=40)
    coloured = format_capacity_table(table, width=40, color=True)
    assert "\x1b" not in coloured, coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", format_capacity_table(table, width=200, color=True)).count("12 nodes") == 1


def test_brackets_print_as_written_in_the_grid_cells_and_title():
    """The grid (wide terminal) shows a bracketed GPU model and quota source as written: cells are
    data, never rich markup (``[mig]`` was swallowed as a style tag)."""
    table = CapacityTable((_row("east", 10, 100, ("A100 [mig]",)),), (), (), "live [cached]")
    grid = format_capacity_table(table, width=200)
    assert "│" in grid  # the grid, not the records
    assert grid.startswith("GPU capacity (quota: live [cached])")
    assert "A100 [mig]" in grid
