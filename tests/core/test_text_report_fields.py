"""The text report's summary table: one line per region whatever the width, so a region's counts
can be read (or grepped) from a single line."""

from __future__ import annotations

import pytest
from rayfleet.report.text import format_result
from rayfleet.result import RegionSummary, Result

LONG = "a-very-long-region-name-westeurope"


@pytest.mark.parametrize("width", [60, 100])
def test_summary_table_rows_never_wrap(width: int):
    result = Result("validate", [], [RegionSummary(LONG, 123), RegionSummary("b", 4)])
    lines = format_result(result, width=width).splitlines()
    title = lines.index("rayfleet validate")
    # the title, the header, one line per region, the verdict: no cell continues on a line of its own
    assert len(lines) == title + 5
    assert lines[title + 1].startswith("region")
    assert lines[title + 2].startswith("a-very-long-region-name")  # cut at a narrow width, never wrapped
    assert lines[title + 3].split() == ["b", "4", "0", "0", "0", "0"]
    assert lines[title + 4].startswith("PASSED: 0 errors")
