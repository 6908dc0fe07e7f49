"""Every kind of bad input: one line naming the file (and line or field), exit 2, no traceback,
no change to any file."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import copy_example, run_cli, snapshot


def _assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("rayfleet: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_missing_fleet_file(tmp_path: Path):
    _assert_clean_error(run_cli("validate", tmp_path / "nope.yaml"), "nope.yaml", "not found")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_fleet_file_says_it_is_empty(tmp_path: Path, text: str):
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    _assert_clean_error(run_cli("validate", path), f"{path}: is empty")


@pytest.mark.parametrize("text", ["[]\n", "just text\n"])
def test_fleet_file_that_is_not_a_mapping(tmp_path: Path, text: str):
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    _assert_clean_error(run_cli("validate", path), f"{path}: a fleet file must be a mapping")


def test_fleet_file_is_a_directory(tmp_path: Path):
    _assert_clean_error(run_cli("validate", tmp_path), str(tmp_path))


def test_unreadable_fleet_file(fleet: Path):
    import os

    if os.geteuid() == 0:
        # root reads anything; an unreadable file is simulated by a name that is a dangling link
        link = fleet.parent / "dangling.yaml"
        link.symlink_to(fleet.parent / "gone.yaml")
        _assert_clean_error(run_cli("validate", link), "dangling.yaml")
    else:
        fleet.chmod(0)
        _assert_clean_error(run_cli("validate", fleet), "fleet.yaml", "not readable")


def test_malformed_yaml_names_file_and_line(fleet: Path):
    fleet.write_text("apiVersion: rayfleet.dev/v1\nchart: [unclosed\n")
    _assert_clean_error(run_cli("validate", fleet), "fleet.yaml:", "malformed YAML")


def test_duplicate_keys(fleet: Path):
    _assert_clean_error(run_cli("validate", fleet.parent / "nope.yaml"), "not found")
    _edit(fleet, "release:\n  name: ray\n", "release:\n  name: ray\n  name: other\n")
    _assert_clean_error(run_cli("validate", fleet), "fleet.yaml:", "duplicate key")


def test_alias_bomb_in_a_values_file(fleet: Path):
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        rows.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    (fleet.parent / "values" / "platform.yaml").write_text("\n".join(rows) + "\n")
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml", "alias bomb")


def test_multi_megabyte_document(fleet: Path):
    big = fleet.parent / "values" / "platform.yaml"
    big.write_text("padding: '" + "x" * (3 * 1024 * 1024) + "'\n")
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml", "limit")


def test_values_file_that_is_a_list(fleet: Path):
    (fleet.parent / "values" / "platform.yaml").write_text("- a\n- b\n")
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml", "a list")


def test_missing_values_file(fleet: Path):
    (fleet.parent / "values" / "platform.yaml").unlink()
    _assert_clean_error(run_cli("validate", fleet), "platform.yaml", "not found")


def test_unknown_region(fleet: Path):
    _assert_clean_error(run_cli("validate", fleet, "--region", "mars1"), "unknown region 'mars1'", "eastus2")


def test_fleet_file_that_fails_its_schema_names_the_field_and_line(fleet: Path):
    _edit(fleet, "    wave: 1\n", "    wave: first\n")
    result = run_cli("validate", fleet)
    _assert_clean_error(result, "fleet.yaml:", "regions[0].wave", "not of type 'integer'")


def test_unknown_field_in_fleet_file(fleet: Path):
    _edit(fleet, "cloud: AzurePublicCloud\n", "cloud: AzurePublicCloud\nclowd: typo\n")
    _assert_clean_error(run_cli("validate", fleet), "unknown field", "clowd")


def test_chart_path_that_is_not_a_chart(fleet: Path, tmp_path: Path):
    text = fleet.read_text()
    fleet.write_text("\n".join(line if not line.startswith("chart:") else f"chart: {tmp_path}"
                               for line in text.splitlines()) + "\n")
    _assert_clean_error(run_cli("validate", fleet), "not a Helm chart")


def test_scan_document_that_is_not_a_kubernetes_object(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("---\nfoo: bar\n")
    _assert_clean_error(run_cli("scan", path), "m.yaml:2", "not a Kubernetes object")


def test_scan_scalar_document(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("just a string\n")
    _assert_clean_error(run_cli("scan", path), "m.yaml", "not a Kubernetes object")


def test_scan_binary_file(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_bytes(b"\x00\x01\x02")
    _assert_clean_error(run_cli("scan", path), "m.yaml", "binary")


def test_scan_duplicate_keys_on_stdin():
    _assert_clean_error(run_cli("scan", "-", input="apiVersion: v1\nkind: A\nkind: B\n"), "<stdin>:3", "duplicate key")


def test_scan_missing_path(tmp_path: Path):
    _assert_clean_error(run_cli("scan", tmp_path / "nope"), "nope", "not found")


def test_unknown_report_format(fleet: Path):
    result = run_cli("validate", fleet, "--report", "pdf")
    assert result.exit_code == 2 and "unknown format 'pdf'" in result.output


def test_report_into_a_missing_folder(fleet: Path, tmp_path: Path):
    _assert_clean_error(run_cli("validate", fleet, "--report", f"json={tmp_path}/no/such/dir/r.json"), "does not exist")


def test_kubernetes_version_without_schemas(fleet: Path):
    _edit(fleet, 'kubernetesVersion: "1.33"', 'kubernetesVersion: "1.99"')
    _assert_clean_error(run_cli("validate", fleet), "1.99", "newer than the bundled schemas")


def test_bad_input_never_changes_the_users_files(fleet: Path):
    folder = fleet.parent
    (folder / "values" / "platform.yaml").write_text("a: 1\na: 2\n")
    before = snapshot(folder)
    run_cli("validate", fleet, "--report", f"json={folder}/out/r.json")
    run_cli("render", fleet, "--region", "eastus2", "--out", str(folder / "rendered"))
    assert snapshot(folder) == before


def test_scan_of_empty_input_is_an_error_not_a_pass(tmp_path: Path):
    # An empty stream usually means the command that rendered it failed upstream.
    _assert_clean_error(run_cli("scan", "-", input=""), "<stdin>", "no Kubernetes objects")
    (tmp_path / "empty.yaml").write_text("---\n# nothing\n")
    _assert_clean_error(run_cli("scan", tmp_path / "empty.yaml"), "empty.yaml", "no Kubernetes objects")
