"""Severity order, which ``--fail-on`` and the report order rest on. (Written after the seed-46817
sample, whose `findings.py:25:45:number:1->2` survived: not counted in that measurement.)"""

from __future__ import annotations

import pytest
from rayfleet.findings import Severity


@pytest.mark.parametrize(("severity", "threshold", "reached"), [
    (Severity.WARNING, Severity.ERROR, False), (Severity.INFO, Severity.ERROR, False),
    (Severity.INFO, Severity.WARNING, False), (Severity.ERROR, Severity.ERROR, True),
    (Severity.WARNING, Severity.WARNING, True), (Severity.ERROR, Severity.WARNING, True),
    (Severity.WARNING, Severity.INFO, True), (Severity.INFO, Severity.INFO, True),
])
def test_a_severity_reaches_only_its_own_and_lower_thresholds(severity, threshold, reached) -> None:
    assert severity.at_least(threshold) is reached


def test_ranks_are_distinct_and_ordered() -> None:
    assert Severity.INFO.rank < Severity.WARNING.rank < Severity.ERROR.rank
