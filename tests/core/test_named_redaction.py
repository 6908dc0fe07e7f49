"""A credential-named value quoted in text is cut down whether it is written ``name: value`` or
``name=value`` (an error message, Helm's stderr), and only then."""

from __future__ import annotations

import pytest
from rayfleet.secrets import detect_value, redact, redact_text


@pytest.mark.parametrize(("text", "shown"), [
    ("client_secret: abcDEF123456789xyz", "client_secret: abcD…"),  # a colon and no '='
    ("client_secret=abcDEF123456789xyz", "client_secret=abcD…"),  # an '=' and no colon
    ("the client_secret: abcDEF123456789xyz was set", "the client_secret: abcD… was set"),
    ("x client_secret abcDEF123456789xyz", "x client_secret abcDEF123456789xyz"),  # neither: not a pair
])
def test_named_values_in_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown


# Edges: how long an unquoted value must be, what a quote changes, trailing brackets, placeholders,
# a value already cut down, overlapping pairs. ``redact`` keeps the first four characters.

@pytest.mark.parametrize(("text", "shown"), [
    # unquoted, a credential has 8 or more characters and something besides letters
    ("password: abc1234", "password: abc1234"),  # 7: prose-sized, left alone
    ("password: abc12345", "password: abc1…"),  # 8: at the limit, cut down
    ("password: abc123456", "password: abc1…"),  # 9
    ("password: abcdefghij", "password: abcdefghij"),  # letters only: a word, not a credential
    # quoted, any length counts
    ('password: "abc"', 'password: "abc…"'),
    ("password: 'abcdefghij'", "password: 'abcd…'"),
    # closing brackets after the value stay as written
    ("{password: abc12345}", "{password: abc1…}"),
    ("[token=abc12345xyz])", "[token=abc1…])"),
    # placeholders are not credentials, with or without the brackets around them
    ("password: ${PASSWORD_FROM_ENV}", "password: ${PASSWORD_FROM_ENV}"),
    ("[password: <set-me-please>]", "[password: <set-me-please>]"),
    # nothing after the separator
    ("password:", "password:"),
    ("password: ", "password: "),
    # a name that does not say secret
    ("username: abc12345", "username: abc12345"),
    # the value itself looks like a pair: the first name wins, the rest is inside its value
    ("password=token=abc12345x", "password=toke…"),
    # two pairs, each cut down, the text between them kept
    ("password: abc12345 and token: xyz98765 end", "password: abc1… and token: xyz9… end"),
])
def test_named_values_in_text_edges(text: str, shown: str) -> None:
    assert redact_text(text) == shown


@pytest.mark.parametrize("text", [
    "password: abc12345", "AccountKey=abcdefgh12345678", "clientSecret: 'abcdefghij'",
    "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
])
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact_text(text)
    assert once != text and redact_text(once) == once


def test_redact_keeps_four_characters() -> None:
    assert redact("abcdefgh") == "abcd…" and redact("ab") == "ab…" and redact(12345678) == "1234…"


@pytest.mark.parametrize(("value", "kind"), [
    ("AccountKey=12345678", None),  # 19 characters: shorter than any shape (the pattern alone would match)
    ("AccountKey=123456789", "connection-string"),  # 20: the shortest detected
    ("x" * 19 + "=", None),
])
def test_the_shortest_value_a_shape_is_looked_for_in(value: str, kind: str | None) -> None:
    found = detect_value(value)
    assert (found.kind if found else None) == kind
