"""rayfleet folds values files exactly as `helm -f a -f b` does, then lets Helm coalesce them
with the chart defaults (where null deletes a default)."""

from __future__ import annotations

from pathlib import Path

import helm_python
import pytest
from rayfleet.errors import InputError
from rayfleet.values import ValuesStack, fold_values, load_values_file


def test_nested_maps_merge():
    assert fold_values([{"a": {"b": 1, "c": 2}}, {"a": {"c": 3, "d": 4}}]) == {"a": {"b": 1, "c": 3, "d": 4}}


def test_lists_replace_not_append():
    assert fold_values([{"a": [1, 2, 3]}, {"a": [9]}]) == {"a": [9]}


def test_later_scalar_replaces_map_and_map_replaces_scalar():
    assert fold_values([{"a": {"b": 1}}, {"a": "x"}]) == {"a": "x"}
    assert fold_values([{"a": "x"}, {"a": {"b": 1}}]) == {"a": {"b": 1}}


def test_null_survives_the_fold_and_deletes_a_chart_default(tmp_path: Path):
    folded = fold_values([{"image": {"tag": "1"}}, {"image": {"pullPolicy": None}}])
    assert folded == {"image": {"tag": "1", "pullPolicy": None}}
    chart_dir = tmp_path / "c"
    helm_python.Chart.create("c", tmp_path)
    with helm_python.Chart.load(chart_dir) as chart:
        merged = chart.merge_values(folded)
    assert merged["image"]["tag"] == "1"
    assert "pullPolicy" not in merged["image"]  # deleted by null
    assert merged["image"]["repository"] == "nginx"  # other defaults stay


def test_fold_order_is_left_to_right():
    assert fold_values([{"a": 1}, {"a": 2}, {"a": 3}]) == {"a": 3}
    assert fold_values([]) == {}


def test_fold_does_not_mutate_inputs():
    first, second = {"a": {"b": 1}}, {"a": {"c": 2}}
    fold_values([first, second])
    assert first == {"a": {"b": 1}} and second == {"a": {"c": 2}}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_values_are_read_by_helms_own_parser(tmp_path: Path):
    # YAML 1.1 booleans and big numbers are read as Helm reads them, not as a YAML 1.2 parser would.
    loaded = load_values_file(_write(tmp_path, "v.yaml", "flag: yes\ncount: 10\nwhen: 2027-01-01\n"))
    assert loaded.data["count"] == 10
    assert loaded.data["when"] == "2027-01-01"


def test_provenance_names_the_file_and_line_that_set_a_key_last(tmp_path: Path):
    a = load_values_file(_write(tmp_path, "a.yaml", "image:\n  repository: rayproject/ray\n  tag: '2.52.0'\n"))
    b = load_values_file(_write(tmp_path, "b.yaml", "# override\nimage:\n  tag: '2.53.0'\n"))
    stack = ValuesStack([a, b])
    assert stack.merged == {"image": {"repository": "rayproject/ray", "tag": "2.53.0"}}
    assert stack.origin(("image", "tag")).file.endswith("b.yaml")
    assert stack.origin(("image", "tag")).line == 3
    assert stack.origin(("image", "repository")).line == 2
    assert stack.locate_value("2.53.0").file.endswith("b.yaml")
    assert stack.locate_value("2.52.0") is None  # replaced: no longer in the merged values


def test_provenance_drops_keys_under_a_replaced_map(tmp_path: Path):
    a = load_values_file(_write(tmp_path, "a.yaml", "x:\n  y: secretish-value\n"))
    b = load_values_file(_write(tmp_path, "b.yaml", "x: plain\n"))
    stack = ValuesStack([a, b])
    assert stack.origin(("x", "y")) is None
    assert stack.origin(("x",)).file.endswith("b.yaml")


def test_short_or_boolean_values_are_not_traced(tmp_path: Path):
    stack = ValuesStack([load_values_file(_write(tmp_path, "a.yaml", "a: 'true'\nb: ab\n"))])
    assert stack.locate_value("true") is None
    assert stack.locate_value("ab") is None


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "must be a mapping, this one is a list"),
    ("a: 1\na: 2\n", "duplicate key"),
    ("a: [\n", "malformed YAML"),
])
def test_bad_values_files_are_input_errors(tmp_path: Path, text: str, message: str):
    with pytest.raises(InputError, match=message) as caught:
        load_values_file(_write(tmp_path, "bad.yaml", text))
    assert "bad.yaml" in str(caught.value)


def test_values_inside_lists_are_traced_to_their_line(tmp_path: Path):
    a = load_values_file(_write(tmp_path, "a.yaml", "env:\n  - name: OLD\n    value: old-value-1\n"))
    b = load_values_file(_write(tmp_path, "b.yaml", "env:\n  - name: TOKEN\n    value: pasted-value-9\n"))
    stack = ValuesStack([a, b])
    location = stack.locate_value("pasted-value-9")
    assert location.file.endswith("b.yaml") and location.line == 3
    assert stack.locate_value("old-value-1") is None  # the list was replaced whole
    assert stack.origin(("env", 0, "name")).line == 2


def test_a_value_set_under_two_subcharts_is_traced_through_the_rendering_template(tmp_path: Path):
    # The example regions name each node pool twice: for the RayCluster and for Kueue's flavor.
    text = ("ray-cluster:\n  workerGroups:\n    gpu:\n      nodePool: h100-pool\n"
            "scheduling:\n  flavors:\n    - name: gpu\n      nodeLabels:\n        agentpool: h100-pool\n"
            "global:\n  clusterName: shared-name\n")
    stack = ValuesStack([load_values_file(_write(tmp_path, "r.yaml", text))])
    assert stack.locate_value("h100-pool") is None  # ambiguous without the template
    ray = stack.locate_value("h100-pool", "charts/ray-aks/charts/ray-cluster/templates/ray-cluster.yaml")
    assert ray.line == 4
    kueue = stack.locate_value("h100-pool", "charts/ray-aks/charts/scheduling/templates/resource-flavors.yaml")
    assert kueue.line == 9
    # Globals reach every template; a template no key feeds falls back to the unscoped answer.
    assert stack.locate_value("shared-name", "charts/ray-aks/charts/ray-cluster/templates/x.yaml").line == 11
    assert stack.locate_value("h100-pool", "charts/ray-aks/templates/test-pod.yaml") is None


def test_locate_all_lists_places_in_stack_then_line_order(tmp_path: Path):
    a = load_values_file(_write(tmp_path, "a.yaml", "px: same-value\npy: same-value\npz: other\n"))
    b = load_values_file(_write(tmp_path, "b.yaml", "py: same-value\npx: Same-Value\n"))
    c = load_values_file(_write(tmp_path, "c.yaml", "pw: same-value\n"))
    stack = ValuesStack([a, b, c])
    found = [(path, loc.file.rsplit("/", 1)[-1], loc.line) for path, loc in stack.locate_all(" SAME-value ")]
    assert found == [(("py",), "b.yaml", 1), (("px",), "b.yaml", 2), (("pw",), "c.yaml", 1)]
    assert stack.locate_all("  ") == [] and stack.locate_all("absent") == []


@pytest.mark.parametrize(("value", "traced"), [("abc", False), ("abcd", True), ("abcde", True), (1234, True),
                                               (123, False), ("None", False), (True, False)])
def test_values_of_four_characters_or_more_are_traced(tmp_path: Path, value, traced: bool):
    text = f"x: {value!r}\n" if isinstance(value, str) else f"x: {str(value).lower()}\n"
    stack = ValuesStack([load_values_file(_write(tmp_path, "a.yaml", text))])
    located = stack.locate_value(value)
    assert (located is not None) is traced
    if traced:
        assert located.file.endswith("a.yaml") and located.line == 1


def test_only_strings_and_integers_are_traced(tmp_path: Path):
    # a float (or a list) a policy quotes is not traced, even when a string of the same text was set
    stack = ValuesStack([load_values_file(_write(tmp_path, "a.yaml", 'x: "1234.5"\nw: 12345\nz: [abcd]\n'))])
    assert stack.locate_value(1234.5) is None and stack.locate_value(["abcd"]) is None
    assert stack.locate_value("1234.5").line == 1 and stack.locate_value(12345).line == 2
