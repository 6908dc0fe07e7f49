"""A credential-named value quoted in text is cut down whether it is written ``name: value`` or
``name=value`` (an error message, Helm's stderr), and only then."""

from __future__ import annotations

import dataclasses

import pytest
from rayfleet import secrets
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


# --- detectors, names, decoding and walking, each written out by hand --------------------------

KEY88 = "A" * 86 + "=="  # the shape of a storage account key: 88 base64 characters ending in "=="
JWT_TEXT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.mark.parametrize(("value", "kind"), [
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", "private-key"),
    ("the words PRIVATE KEY alone are no key at all", None),
    ("-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE", None),
    ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abcdefgh12345678", "connection-string"),
    ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=abcdefgh12345678", "connection-string"),
    ("AccountName=a;EndpointSuffix=core.windows.net;Other=abcdefgh", None),  # neither a key nor a signature
    ("https://a.blob.core.windows.net/c?sv=2022-11-02&sig=abcdefghijklmnop1234", "sas-token"),
    ("https://a.blob.core.windows.net/c?sig=abcdefghijklmnop1234&x=1", None),  # a signature, no version
    ("https://a.blob.core.windows.net/c?sv=2022-11-02&sp=r&se=2030-01-01", None),  # a version, no signature
    (KEY88, "storage-account-key"),
    ("sha512-" + KEY88, None),  # a Subresource Integrity digest
    ("abc1Q~" + "x" * 34, "client-secret"),
    (JWT_TEXT, "jwt"),
    ("an ordinary sentence that is long enough", None),
    # each cheap substring test alone is not a detection
    ("accountkey= is empty; set it later", None),
    ("sharedaccess=<set it later>", None),
    ("the bucket == the one we had before", None),
    ("see the docs at Q~ for the details", None),
    ("a header eyJ alone is not a token", None),
])
def test_each_shape_is_detected_and_its_lookalikes_are_not(value: str, kind: str | None) -> None:
    found = detect_value(value)
    assert (found.kind if found else None) == kind


def test_a_detection_is_an_immutable_constant() -> None:
    found = detect_value(KEY88)
    assert found is secrets.STORAGE_ACCOUNT_KEY and found.label == "Azure storage account key"
    assert len({secrets.STORAGE_ACCOUNT_KEY, secrets.JWT, secrets.JWT}) == 2  # hashable: usable as keys
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.kind = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("name", "env", "key"), [
    ("AZURE_CLIENT_SECRET", True, True),
    ("azure_client_secret", True, True),  # env names compare without case
    ("AZURE_CLIENT_CERTIFICATE_PATH", True, False),  # a path names where a credential is, it is not one
    ("clientSecret", False, True),
    ("client-secret", False, True),
    ("azurestorageaccountkey", False, True),
    ("AZURE_CLIENT_ID", False, False),
    ("secretName", False, False),
])
def test_credential_names(name: str, env: bool, key: bool) -> None:
    assert secrets.is_credential_env_name(name) is env and secrets.is_credential_key(name) is key


@pytest.mark.parametrize(("name", "value", "kind"), [
    ("clientSecret", "notashape-but-named", "credential-name"),
    ("clientSecret", "  <set-me>  ", None),  # a placeholder, spaces around it
    ("clientSecret", "", None),
    ("clientId", "notashape-but-named", None),
    (None, "notashape-but-named", None),
    ("clientId", KEY88, "storage-account-key"),  # the shape wins over the name
])
def test_detect_by_shape_then_by_name(name: str | None, value: str, kind: str | None) -> None:
    found = secrets.detect(name, value)
    assert (found.kind if found else None) == kind


@pytest.mark.parametrize(("text", "shown"), [
    ("key: -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- done", "key: ----… done"),
    ("-----BEGIN EC PRIVATE KEY-----\nMIIE never ends", "----…"),
    ("Authorization: Bearer abcdefgh.ijk", "Authorization: Bearer abcd…"),
    ('{"access_token": "abcdefghijklmnopqrstuvwxyz"}', '{"access_token": "abcd…"}'),
    ("?sv=2022-11-02&sig=abcdefghijklmnop1234 failed", "?sv=2022-11-02&sig=abcd… failed"),
    ("?sig=abcdefghijklmnop1234 failed", "?sig=abcdefghijklmnop1234 failed"),  # no version: not a SAS
    ("got " + KEY88 + " back", "got AAAA… back"),
    ("no pair in this sentence at all", "no pair in this sentence at all"),
])
def test_every_shape_is_cut_down_inside_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown


@pytest.mark.parametrize(("value", "decoded"), [
    ("aGVsbG8=", "hello"),
    ("aGVs\n bG8=", "hello"),  # whitespace inside is ignored, as the API server does
    ("not base64!", None),
    ("aGVs*bG8=", None),  # a character outside the alphabet is an error, not skipped
    ("/w==", None),  # valid base64 of a byte that is not UTF-8
    (12, None),
])
def test_secret_data_is_decoded_only_when_it_is_base64_text(value: object, decoded: str | None) -> None:
    assert secrets.decode_secret_data(value) == decoded


def test_paths_and_walking_pair_env_names_with_their_values() -> None:
    assert secrets.child_path("", "a") == "a" and secrets.child_path("a", "b") == "a.b"
    assert secrets.child_path("a", 3) == "a[3]" and secrets.child_path("", 0) == "[0]"
    assert secrets.child_path("a", "x.io/y") == 'a["x.io/y"]'
    assert secrets.child_path("a", 'say "hi" \\') == 'a["say \\"hi\\" \\\\"]'
    assert secrets.format_path(("spec", 0, "env"), "root") == "root.spec[0].env"
    assert secrets.format_path(()) == ""
    tree = {"env": [{"name": "AZURE_CLIENT_SECRET", "value": "s3cret-value"},
                    {"name": 5, "value": "v"},
                    {"name": "ONLY_NAME"}],
            "tags": ["x", {"k": "y"}]}
    assert list(secrets.walk_strings(tree)) == [
        (("env", 0, "name"), "name", "AZURE_CLIENT_SECRET"),
        (("env", 0, "value"), "AZURE_CLIENT_SECRET", "s3cret-value"),
        (("env", 1, "value"), "value", "v"),  # a name that is not a string does not pair
        (("env", 2, "name"), "name", "ONLY_NAME"),
        (("tags", 0), "tags", "x"),  # list items carry the list's name
        (("tags", 1, "k"), "k", "y"),
    ]
    assert [(keys, kind.kind) for keys, _, _, kind in secrets.scan(tree)] == [
        (("env", 0, "value"), "credential-name")]
