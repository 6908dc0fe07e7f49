"""rayfleet.policies._provenance: which values key set a rendered number, and what earlier files
set it to (the "set by ... (over ...)" part of capacity and replica findings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.findings import SourceLocation
from rayfleet.policies import _provenance as pv
from rayfleet.values import ValuesStack, load_values_file


def stack(tmp_path: Path, *texts: str) -> ValuesStack:
    files = []
    for i, text in enumerate(texts):
        path = tmp_path / f"v{i}.yaml"
        path.write_text(text)
        files.append(load_values_file(path, display=path.name))
    return ValuesStack(files)


@pytest.mark.parametrize(("value", "expected"), [(True, None), (False, None), (3, 3.0), (0, 0.0), (2.5, 2.5),
                                                 ("4", 4.0), (" 1.5 ", 1.5), ("four", None), (None, None),
                                                 ([1], None)])
def test_number(value, expected):
    got = pv._number(value)
    assert got == expected and (got is None or isinstance(got, float))


DATA = {"a": {"b": [10, {"c": 3}]}, "z": None}


@pytest.mark.parametrize(("path", "expected"), [
    ((), DATA), (("a", "b", 0), 10), (("a", "b", 1, "c"), 3), (("a", "b", 1), {"c": 3}),
    (("a", "b", 2), None), (("a", "b", -1), None), (("a", "b", "0"), None), (("a", "x"), None),
    (("a", "b", 0, "c"), None), (("q",), None)])
def test_lookup(path, expected):
    assert pv._lookup(DATA, path) == expected


WORKERS = """\
ray-cluster:
  workerGroups:
    gpu:
      maxReplicas: 8
      replicas: 2
    cpu:
      maxReplicas: 8
      replicas: '3'
other:
  maxReplicas: 5
"""


def test_number_key_is_the_one_key_of_that_name_and_value(tmp_path):
    s = stack(tmp_path, WORKERS)
    assert pv.number_key(s, "maxReplicas", 5) == (("other", "maxReplicas"), SourceLocation("v0.yaml", 10))
    assert pv.number_key(s, "replicas", "3") == (("ray-cluster", "workerGroups", "cpu", "replicas"),
                                                SourceLocation("v0.yaml", 8))
    assert pv.number_key(s, "replicas", 2.0) == (("ray-cluster", "workerGroups", "gpu", "replicas"),
                                                SourceLocation("v0.yaml", 5))
    assert pv.number_key(s, "replicas", 9) is None
    assert pv.number_key(s, "maxReplicas", "lots") is None
    assert pv.number_key(s, "maxReplicas", True) is None  # a boolean is not the number 1


def test_number_key_prefers_keys_under_the_group_when_several_match(tmp_path):
    s = stack(tmp_path, WORKERS)
    assert pv.number_key(s, "maxReplicas", 8) is None  # two keys, no group to tell them apart
    assert pv.number_key(s, "maxReplicas", 8, near="gpu") == (
        ("ray-cluster", "workerGroups", "gpu", "maxReplicas"), SourceLocation("v0.yaml", 4))
    assert pv.number_key(s, "maxReplicas", 8, near="cpu") == (
        ("ray-cluster", "workerGroups", "cpu", "maxReplicas"), SourceLocation("v0.yaml", 7))
    assert pv.number_key(s, "maxReplicas", 8, near="tpu") is None  # nothing near: still ambiguous
    assert pv.number_key(s, "maxReplicas", 5, near="gpu") == (("other", "maxReplicas"), SourceLocation("v0.yaml", 10))


def test_earlier_settings_are_the_files_before_the_last(tmp_path):
    s = stack(tmp_path, "a:\n  k: 1\n", "b: 0\n", "# two\na:\n  k: 2\n", "a: {k: 3}\n")
    assert pv.earlier_settings(s, ("a", "k")) == [(1, SourceLocation("v0.yaml", 2)), (2, SourceLocation("v2.yaml", 3))]
    assert pv.earlier_settings(s, ("b",)) == []  # set once: nothing before it
    assert pv.earlier_settings(s, ("c",)) == []


def test_earlier_settings_skip_a_key_written_with_no_value(tmp_path):
    s = stack(tmp_path, "a:\n  k:\n", "a:\n  k: 4\n", "a:\n  k: 6\n")
    assert pv.earlier_settings(s, ("a", "k")) == [(4, SourceLocation("v1.yaml", 2))]


def test_describe_setting(tmp_path):
    s = stack(tmp_path, WORKERS, "ray-cluster:\n  workerGroups:\n    gpu:\n      maxReplicas: 12\n")
    assert pv.describe_setting(s, "maxReplicas", 12, near="gpu") == (
        "maxReplicas 12 is set by ray-cluster.workerGroups.gpu.maxReplicas at v1.yaml:4 (over 8 at v0.yaml:4)")
    assert pv.describe_setting(s, "replicas", 2) == \
        "replicas 2 is set by ray-cluster.workerGroups.gpu.replicas at v0.yaml:5"
    assert pv.describe_setting(s, "replicas", 7) == ""
    assert pv.describe_setting(None, "replicas", 2) == ""
