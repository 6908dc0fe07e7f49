"""The credential detectors: 100% recall on the corpus positives, no false alarms on its negatives."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.secrets import decode_secret_data, detect, redact

from .secret_corpus_report import evaluate, load_corpus, report

DOC = Path(__file__).parents[2] / "docs" / "secret-detection.md"
CORPUS = load_corpus()


@pytest.mark.parametrize("entry", CORPUS["positives"], ids=lambda e: f"{e['class']}: {e['note']}")
def test_positive_is_recognised_as_its_class(entry) -> None:
    found = detect(entry.get("name"), str(entry["value"]))
    assert found is not None and found.kind == entry["class"]


@pytest.mark.parametrize("entry", CORPUS["negatives"], ids=lambda e: e["note"])
def test_negative_is_not_recognised(entry) -> None:
    assert detect(entry.get("name"), str(entry["value"])) is None


def test_recall_and_false_alarms() -> None:
    positives, negatives = evaluate()
    assert [e["note"] for e, got in positives if got != e["class"]] == []
    assert [e["note"] for e, got in negatives if got is not None] == []


def test_docs_match_the_corpus() -> None:
    assert DOC.read_text() == report(), "regenerate docs/secret-detection.md (see its header)"


def test_redact_shows_four_characters() -> None:
    assert redact("UvImZaYMEtKJGF2VDuiB") == "UvIm…"


def test_secret_data_is_decoded() -> None:
    assert decode_secret_data("aGVsbG8=") == "hello"
    assert decode_secret_data("not base64!") is None
