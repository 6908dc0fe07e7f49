"""Small text helpers shared by every module that turns an error into a one-line message."""

from __future__ import annotations


def one_line(text: object, limit: int | None = None) -> str:
    """Whitespace (newlines, tabs) collapsed to single spaces, cut at ``limit`` characters."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        return flat[: limit - 3] + "..."
    return flat
