"""A credential-named value quoted in text is cut down whether it is written ``name: value`` or
``name=value`` (an error message, Helm's stderr), and only then."""

from __future__ import annotations

import pytest
from rayfleet.secrets import redact_text


@pytest.mark.parametrize(("text", "shown"), [
    ("client_secret: abcDEF123456789xyz", "client_secret: abcD…"),  # a colon and no '='
    ("client_secret=abcDEF123456789xyz", "client_secret=abcD…"),  # an '=' and no colon
    ("the client_secret: abcDEF123456789xyz was set", "the client_secret: abcD… was set"),
    ("x client_secret abcDEF123456789xyz", "x client_secret abcDEF123456789xyz"),  # neither: not a pair
])
def test_named_values_in_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown
