"""The fast reading of hand-written YAML (libyaml's parser, ruamel's resolver and constructors)
gives exactly what ruamel.yaml itself gives: the same data (types included), the same line for
every key path, the same error (message, file, line) -- over tricky scalars, every YAML file of
the repository and a seeded fuzz of them. When the fast reader cannot be sure it hands the text
to ruamel; the test also checks that plain documents do take the fast path (or it would prove
nothing)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rayfleet import yamlio
from rayfleet.errors import InputError

REPO = Path(__file__).resolve().parents[2]

SCALARS = [
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "false", "True", "FALSE", "tRue", "~", "null",
    "Null", "NULL", "", "0", "-0", "+1", "0o17", "017", "0x1F", "0X1f", "0b101", "1_000", "1__0", "_1",
    "123456789012345678901234567890", "-9223372036854775809", ".inf", "-.Inf", "+.INF", ".NaN", ".nan",
    "1e3", "1E3", "1.0e+3", "1.", ".5", "-.5", "1.5_0", "6.8523015e+5", "685.230_15e+03", "190:20:30",
    "12:30:45", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "0.1.0",
    "1.33", "v1.33", "'1.33'", '"yes"', "'~'", '"\\u00e9t\\u00e9 \\x41"', "'it''s'", "a b  c", "é",
    "x # not a comment? ", "http://x/y?a=1&b=2", "@at", "`tick", "%pct", "!bang", "*star", "&amp",
    "a: b", "[1, 2]", "{a: 1}", "[]", "{}", "- item", "|", ">", "|-\n  lit\n", ">+\n  fold\n  ed\n\n",
    "|2\n    two\n", '"multi\n  line"', "plain\n  continued", "'single\n\n  para'", "9" * 5000,
    "!!int 0x", "!!int 0.1.0", "!!float abc", "!!bool maybe", "!!str 1", "!!int '7'", "!custom x",
    "! nonspecific", "&a 1", "*undefined", "!!binary aGVsbG8=", "!!timestamp 2001-12-14", "!!null ''",
]
DOCUMENTS = [
    "", "# only a comment\n", "---\n", "~\n", "just a string\n", "- a\n- b\n", "a: 1\nb:\n  c: [1, {d: e}]\n",
    "a: 1\na: 2\n", "a: 1\n'a': 2\n", "1: one\n", "true: t\n", "null: n\n", "~: x\n", "1.5: f\n", "? [a]\n: b\n",
    "? a\n: b\n", "a: &x {b: 1}\nc: *x\n", "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n", "a: !!str 1\n",
    "%YAML 1.1\n---\na: yes\n", "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", "a: 1\n---\nb: 2\n",
    "---\n---\na: 1\n", "a: 1\n...\n", "a: 1\r\nb:\r\n  - x\r\n  - y\r\n", "a:\tb\n", "a: b\tc\n",
    "\ufeffa: 1\n", "a: x\x85y\n", "a: x\u2028y\n", "a:\n- 1\n- 2\nb: [\n  1,\n  2]\n", "a: [1, 2\n",
    "a: {b: 1\n", "a: b: c\n", "  a: 1\n b: 2\n", "a:\n  - b\n  c: d\n", "'a\n", '"a\n', "a: 'b\n",
    "- &a [x]\n- *a\n", "&top\na: 1\nb: *top\n", "a: [[[[[1]]]]]\n", "[" * 101 + "]" * 101 + "\n",
    "a: " + "[" * 150 + "]" * 150 + "\n", "a: |\n  x\n b: 1\n", "list:\n  - name: a\n    v: 1\n  -   name: b\n",
    "a:\n  # c\n  b: 1 # c\n\n\n  c: 2\n", "x: >\n  folded\n  text\n\n  para\n    more\n  back\n",
    "k: 'quoted: colon'\n\"dq key\": 1\n? explicit\n: value\n", "empty:\nnone: ~\nlist: []\nmap: {}\n",
    "a: 1 # comment\n#b: 2\n", "anchors_in_text: 'a & b && c'\nurl: http://x?a=1&b=2\n",
    "a: -\n", "- - a\n  - b\n- - c\n", "a: !!binary |\n  aGVsbG8=\n", "a: !!set {x, y}\n", "a: !!omap [x: 1, x: 2]\n",
    "é: ü\n中文: 値\n", "a: \"\\t\\n\\\\ \\/ \\_\"\n", "a: '\\t'\n", "{a: 1, b: [x, y], c: {d: e}}\n",
    "[a, b, {c: d}]\n", "a: 1\n\x01: bad\n", "a: \x07\n",
]


def _typed(value: object) -> object:
    """Data with its types spelled out: 1, 1.0 and True compare equal in Python, not here."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _outcome(read, text: str) -> tuple:
    try:
        doc = read(text)
    except InputError as exc:
        return ("error", str(exc), exc.file, exc.line)
    return ("ok", _typed(doc.data), sorted(doc.lines.items(), key=repr), doc.path)


def _ruamel(text: str):
    return yamlio._load_with_ruamel(text, "f.yaml", allow_empty=True)


def _fast(text: str):
    return yamlio.load_document(text, "f.yaml")


def _same(text: str) -> None:
    assert _outcome(_fast, text) == _outcome(_ruamel, text), repr(text)


def _corpus() -> list[str]:
    texts = list(DOCUMENTS)
    for scalar in SCALARS:
        texts += [f"key: {scalar}\n", f"- {scalar}\n", f"outer:\n  inner: {scalar}\n  next: 1\n",
                  f"{scalar}: value\n", f"flow: [{scalar}, x]\n"]
    return texts


def _repo_yaml() -> list[Path]:
    roots = [REPO / "examples", REPO / "charts" / "ray-aks", REPO / "benchmarks", REPO / "tests"]
    files = [p for root in roots for p in sorted(root.rglob("*.y*ml")) if "templates" not in p.parts]
    return [p for p in files if p.stat().st_size < 200_000]


@pytest.mark.parametrize("text", _corpus())
def test_tricky_documents_read_as_ruamel_reads_them(text: str):
    _same(text)


def test_every_yaml_file_of_the_repository_reads_the_same():
    files = _repo_yaml()
    assert len(files) > 50
    fast = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        _same(text)
        fast += yamlio._fast_document(text, "f.yaml") is not None
    assert fast > len(files) // 2, "the fast path is almost never taken: this test would prove nothing"


def test_seeded_fuzz_of_the_examples_reads_the_same():
    rng = random.Random(2311)
    sources = [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").rglob("*.yaml"))]
    pieces = [*SCALARS, ":", "- ", "  ", "\n", "#", "'", '"', "[", "]", "{", "}", ",", "? ", "&a ", "*a", "<<: "]
    for _ in range(600):
        text = rng.choice(sources)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            cut = rng.choice((0, 0, 1, 3))
            text = text[:at] + rng.choice(pieces) + text[at + cut:]
        _same(text)


def test_plain_documents_take_the_fast_path():
    text = (REPO / "examples" / "fleet.yaml").read_text(encoding="utf-8")
    assert yamlio._fast_document(text, "f.yaml") is not None
    assert yamlio._fast_document("a: &x 1\nb: *x\n", "f.yaml") is None
    assert yamlio._fast_document("a: 1\na: 2\n", "f.yaml") is None


def test_deep_nesting_is_refused_on_the_fast_path_as_before():
    with pytest.raises(InputError, match="nests deeper than 100") as caught:
        yamlio.load_document("a:\n  b: " + "[" * 120 + "]" * 120 + "\n", "f.yaml")
    assert caught.value.line == 2
