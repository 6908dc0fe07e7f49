"""rayfleet.report.layout at its limits: the terminal width ($COLUMNS, the 100-column default of
pipes, never under 40), hanging indents that never break a word or a hyphenated ID, the
unconstrained width of a table (exact up to 10,000 columns, colour or not), and stacked records,
compact and one field per line. Expected texts are worked out by hand in the comments."""

from __future__ import annotations

import io
import sys

import pytest
from rayfleet.report.layout import hanging, natural_width, records, terminal_width
from rich.table import Table


@pytest.fixture
def piped(monkeypatch: pytest.MonkeyPatch):
    """No $COLUMNS and an output that is not a terminal (a pipe, a CI log)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())


def test_terminal_width_of_a_pipe_is_100_columns(piped):
    assert terminal_width() == 100
    assert terminal_width(120) == 120


@pytest.mark.parametrize("default, width", [(39, 40), (40, 40), (41, 41)])
def test_terminal_width_is_never_under_40_columns(piped, default: int, width: int):
    assert terminal_width(default) == width


@pytest.mark.parametrize("columns, width", [("39", 40), ("40", 40), ("41", 41), ("250", 250)])
def test_columns_variable_wins(monkeypatch: pytest.MonkeyPatch, columns: str, width: int):
    monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width() == width


def test_hanging_indent_first_line_and_the_rest():
    # 20 columns, first line indented 2, the rest 4: "  alpha beta gamma" (18) + " delta" > 20.
    assert hanging("alpha beta gamma delta epsilon", 20, 4, 2) == "  alpha beta gamma\n    delta epsilon"
    assert hanging("alpha beta", 20, 4) == "alpha beta"


def test_hanging_keeps_long_words_and_hyphenated_ids_whole():
    policy = "kueue-worker-quota-fit-and-more-words"  # 37 characters, wider than the line
    assert hanging(f"waive {policy} now", 20, 2) == f"waive\n  {policy}\n  now"
    assert hanging("see ray-cluster-head-group-spec", 20, 2) == "see\n  ray-cluster-head-group-spec"


def test_hanging_of_nothing_keeps_the_first_indent():
    assert hanging("", 20, 4, 2) == "  "
    assert hanging("", 20, 4) == ""


def _table(cell_width: int) -> Table:
    table = Table()
    table.add_column("h")
    table.add_row("y" * cell_width)
    return table


def test_natural_width_is_exact_up_to_10000_columns():
    # One column: two borders and two pads around the cell.
    assert natural_width(_table(10)) == 14
    assert natural_width(_table(9_996)) == 10_000
    # Wider than any terminal: counted as 10,000 (it stacks either way).
    assert natural_width(_table(9_997)) == 10_000


def test_natural_width_ignores_colour(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # CI systems set it; escape codes are not columns
    table = _table(10)
    table.add_row("[bold red]short[/bold red]")
    assert natural_width(table) == 14


def test_compact_records_wrap_with_hanging_indents():
    items = [("RayCluster ray/ray-cluster in eastus2", [("nodes", "4"), ("GPUs", "8"), ("family", "NCadsH100v5")]),
             ("short", [("a", "b")])]
    # heading: "RayCluster ray/ray-cluster in" is 29 columns, "eastus2" goes below, indented 4;
    # fields: "  nodes 4 · GPUs 8 · family" is 27, "NCadsH100v5" goes below, indented 4.
    assert records(items, 30) == ("RayCluster ray/ray-cluster in\n    eastus2\n"
                                  "  nodes 4 · GPUs 8 · family\n    NCadsH100v5\n"
                                  "short\n  a b\n")


def test_one_field_per_line_records_align_their_values():
    url = "https://eastus2.oic.prod-aks.azure.com/tenant/1234567890abcdef/"
    items = [("identity id-eus2", [("url", url), ("issuer", "yes"),
                                   ("why", "one two three four five six seven eight nine ten")]),
             ("nothing", [])]
    # The longest label is "issuer": labels padded to "issuer:" (7), then a space: values start at
    # column 10 and wrap there (20 columns each); the URL is longer than the line and stays whole.
    assert records(items, 30, compact=False) == (
        "identity id-eus2\n"
        f"  url:    {url}\n"
        "  issuer: yes\n"
        "  why:    one two three four\n"
        "          five six seven eight\n"  # exactly 30 columns
        "          nine ten\n"
        "nothing\n")


def test_records_with_a_heading_wider_than_the_line():
    assert records([("a heading of many words", [("k", "v")])], 12, compact=False) == (
        "a heading of\n    many\n    words\n  k: v\n")  # "    many words" would be 14 columns
