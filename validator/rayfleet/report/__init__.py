"""Reporters: pure functions from a ``Result`` to text. The CLI decides where the text goes."""

from __future__ import annotations

from collections.abc import Callable

from ..result import Result
from . import json_report, junit, markdown, sarif, text

Reporter = Callable[..., str]

FORMATS: dict[str, Reporter] = {
    "text": text.format_result,
    "json": json_report.format_result,
    "sarif": sarif.format_result,
    "junit": junit.format_result,
    "markdown": markdown.format_result,
}


def format_report(name: str, result: Result, *, color: bool = False) -> str:
    """Format ``result`` in format ``name``; only ``text`` uses colour."""
    reporter = FORMATS[name]
    return reporter(result, color=color) if name == "text" else reporter(result)


__all__ = ["FORMATS", "format_report"]
