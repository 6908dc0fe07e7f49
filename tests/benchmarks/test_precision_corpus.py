"""The realistic-manifest corpus (benchmarks/realworld): every error rayfleet reports is a real
problem the truth file lists, and every listed problem is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.precision import CORPUS, load_truth, score, to_markdown

CRDS = Path(__file__).parents[2].parent / "shared" / "crds" / "kuberay"


@pytest.fixture(scope="module")
def result():
    return score(CORPUS, CRDS)


def test_no_false_alarms_and_no_misses(result) -> None:
    details = {f.file: (f.false_alarms, f.missed) for f in result.files if f.false_alarms or f.missed}
    assert details == {}
    assert result.precision == 1.0 and result.recall == 1.0


def test_truth_names_only_corpus_files_and_the_corpus_has_real_problems(result) -> None:
    files = {p.name for p in (CORPUS / "manifests").glob("*.yaml")}
    assert sorted(set(load_truth()) - files) == []
    assert result.true >= 20, "the corpus must hold real problems, not only clean files"
    assert any(not load_truth().get(name) for name in files), "and clean files"


def test_markdown_lists_each_file_and_the_figures(result) -> None:
    text = to_markdown(result)
    assert "precision 100.0%" in text and "recall 100.0%" in text
    for f in result.files:
        assert f"`{f.file}`" in text


def test_readme_states_the_measured_figures(result) -> None:
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert f"{result.true} of {result.true + result.missed} real errors, {result.false_alarms} false alarms" in readme
