"""``helm lint`` of the umbrella, with Helm's own linter."""

from __future__ import annotations

import helm_python

from .chartkit import UMBRELLA, load_yaml

# Both upstream charts are declared by reference and fetched by `helm dependency build`.
MISSING_OPERATOR = "chart directory is missing these dependencies: kuberay-operator,kueue"


def test_umbrella_lints_clean_except_the_unfetched_operator():
    for ci_values in sorted((UMBRELLA / "ci").glob("*-values.yaml")):
        report = helm_python.lint(
            UMBRELLA, load_yaml(ci_values), strict=False, with_subcharts=True, namespace="ray", kube_version="v1.31.0"
        )
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert [m["error"] for m in problems] == [MISSING_OPERATOR], ci_values.name
        assert problems[0]["severity"] == 2  # a warning, not an error


def test_lint_reports_schema_errors_for_defaults_without_identity():
    report = helm_python.lint(UMBRELLA, {}, strict=False)
    assert any("at '/clientId': minLength: got 0, want 1" in e for e in report["errors"])
