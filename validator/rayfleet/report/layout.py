"""Text that fits the terminal: hanging indents, tables that fall back to stacked records.

Words are never broken: policy IDs, paths, URLs and commands are copied from this output into
waivers and shells, so a line may only break at a space. Pure functions of a width; the CLI
picks the width (``terminal_width``).
"""

from __future__ import annotations

import io
import shutil
import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

DEFAULT_WIDTH = 100  # when the output is not a terminal (a pipe, a CI log) and $COLUMNS is unset
NARROWEST = 40


def terminal_width(default: int = DEFAULT_WIDTH) -> int:
    """The terminal's width ($COLUMNS first), else ``default``; never under 40 columns."""
    return max(NARROWEST, shutil.get_terminal_size((default, 24)).columns)


def hanging(text: str, width: int, indent: int, first: int = 0) -> str:
    """``text`` wrapped to ``width`` at spaces only: the first line indented ``first`` spaces, the
    rest ``indent`` (a hanging indent). A word longer than the line stays whole."""
    wrapper = textwrap.TextWrapper(width=width, initial_indent=" " * first, subsequent_indent=" " * indent,
                                   break_long_words=False, break_on_hyphens=False)
    return "\n".join(wrapper.wrap(text)) or " " * first


def natural_width(table: Table) -> int:
    """How wide ``table`` is when nothing constrains it."""
    buffer = io.StringIO()
    # No colour system: no escape codes, even when $FORCE_COLOR makes the console a terminal.
    Console(file=buffer, width=10_000, color_system=None).print(table)
    return max((len(line.rstrip()) for line in buffer.getvalue().splitlines()), default=0)


def records(items: Sequence[tuple[str, Sequence[tuple[str, str]]]], width: int, *, compact: bool = True) -> str:
    """Stacked records, for tables too wide for the terminal: a heading line per item, then its
    columns as ``label value · label value`` wrapped with a hanging indent (``compact``), or one
    ``label: value`` line each (for long values such as URLs, which are never broken)."""
    lines: list[str] = []
    for heading, fields in items:
        lines.append(hanging(heading, width, 4))
        if compact:
            lines.append(hanging(" · ".join(f"{label} {value}" for label, value in fields), width, 4, 2))
            continue
        label_width = max((len(label) for label, _ in fields), default=0) + 1
        for label, value in fields:
            prefix = f"  {label + ':':<{label_width}} "
            lines.append(prefix + hanging(value, width, len(prefix), len(prefix)).lstrip(" "))
    return "\n".join(lines) + "\n"
