"""`rayfleet render --out` writes only its own folder: never through a symlink, never over a
person's files, never leaving an object from an earlier render behind (issue #12, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.rendered_output import MARKER

from ..core.helpers import REPO, run_cli

EXAMPLE = REPO / "examples" / "fleet.yaml"


def _render(out: Path, region: str = "westus3"):
    return run_cli("render", EXAMPLE, "--region", region, "--out", out)


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rayfleet: error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_a_symlink_inside_the_folder_is_not_written_through(tmp_path: Path):
    out = tmp_path / "out"
    assert _render(out).exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    name = sorted(p.name for p in out.glob("*.yaml"))[0]
    (out / name).unlink()
    (out / name).symlink_to(victim)
    _one_line_error(_render(out), name, "did not write")
    assert victim.read_text() == "keep me\n"
    assert (out / name).is_symlink()


def test_the_folder_itself_being_a_symlink_is_refused(tmp_path: Path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "out").symlink_to(target)
    _one_line_error(_render(tmp_path / "out"), "symlink")
    assert list(target.iterdir()) == []


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine\n")
    _one_line_error(_render(out), "not written by `rayfleet render`")
    assert [p.name for p in out.iterdir()] == ["README.md"]


def test_a_file_added_to_earlier_output_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    assert _render(out).exit_code == 0
    (out / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine}\n")
    before = sorted(p.name for p in out.iterdir())
    _one_line_error(_render(out), "extra.yaml")
    assert sorted(p.name for p in out.iterdir()) == before


def test_stale_objects_from_an_earlier_render_are_removed(tmp_path: Path):
    out = tmp_path / "out"
    assert _render(out, "eastus2").exit_code == 0
    marker = (out / MARKER).read_text()
    stale = out / "ray--configmap--from-an-earlier-release.yaml"
    stale.write_text("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n")
    (out / MARKER).write_text(marker + stale.name + "\n")  # as an earlier render would have listed it
    assert _render(out, "westus3").exit_code == 0
    assert not stale.exists()
    listed = (out / MARKER).read_text().splitlines()[1:]
    assert sorted(p.name for p in out.glob("*.yaml")) == listed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_a_file_where_the_folder_should_be_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    out.write_text("not a folder\n")
    _one_line_error(_render(out), "not a folder")
    assert out.read_text() == "not a folder\n"


def test_rendered_files_concatenate_into_a_stream_scan_reads(tmp_path: Path):
    out = tmp_path / "out"
    assert _render(out).exit_code == 0
    files = sorted(out.glob("*.yaml"))
    stream = "".join(p.read_text() for p in files)  # what `cat out/*.yaml` gives
    result = run_cli("scan", "-", "--report", "json", input=stream)
    assert result.exit_code in (0, 1), result.output
    import json

    assert json.loads(result.stdout)["summary"]["objects"] == len(files)


def test_an_empty_existing_folder_is_used(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    assert _render(out).exit_code == 0
    assert (out / MARKER).is_file() and list(out.glob("*.yaml"))
    assert out.stat().st_mode & 0o777 == 0o755  # not mkdtemp's private 0o700


@pytest.mark.parametrize("bad_marker_entry", ["../outside.yaml", "sub"])
def test_a_marker_cannot_vouch_for_a_folder_or_a_path_outside(tmp_path: Path, bad_marker_entry: str):
    out = tmp_path / "out"
    assert _render(out).exit_code == 0
    (out / "sub").mkdir()
    (out / MARKER).write_text((out / MARKER).read_text() + bad_marker_entry + "\n")
    _one_line_error(_render(out), "sub")
    assert (out / "sub").is_dir()
