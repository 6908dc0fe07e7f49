"""validate in a process pool: the same result, byte for byte, as in one process, in region order,
every time; small fleets stay in-process; errors in a worker are the usual one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet import parallel
from rayfleet.errors import InputError
from rayfleet.pipeline import validate_fleet
from rayfleet.render import EmbeddedHelm
from rayfleet.report import format_report

from .helpers import REPO, copy_example, run_cli
from .test_golden import TODAY, normalise

FLEET = REPO / "examples" / "fleet.yaml"
CRDS = REPO.parent / "shared" / "crds" / "kuberay"


def _reports(jobs: int | None, fleet: Path = FLEET, **kwargs) -> str:
    result = validate_fleet(fleet, jobs=jobs, today=TODAY, crds=CRDS, **kwargs)
    return normalise("".join(format_report(fmt, result) for fmt in ("text", "json", "sarif", "junit", "markdown")))


def test_pool_gives_the_single_process_result_byte_for_byte():
    single = _reports(1)
    assert _reports(3) == single  # as many workers as regions: one chunk each, merged in order


def test_pooled_result_keeps_region_order_and_releases():
    result = validate_fleet(FLEET, jobs=2, today=TODAY, crds=CRDS)
    names = [r.name for r in result.regions]
    assert names == [r.region_name for r in result.releases.values()] == list(result.releases)
    fleet = next(iter(result.releases.values())).fleet
    for name, release in result.releases.items():
        assert release.region is not None and release.region.name == name
        assert release.fleet is fleet  # rebuilt around the parent's one fleet, not a copy per region
        assert release.objects and release.values is not None
    assert result.timings.stages["render"] > 0  # the workers' stage times are summed in


def test_progress_is_reported_for_every_region_in_order():
    seen: list[str] = []
    result = validate_fleet(FLEET, jobs=2, today=TODAY, crds=CRDS, progress=seen.append)
    assert seen == [r.name for r in result.regions]


def test_pool_size():
    assert parallel.pool_size(None, parallel.POOL_MIN_REGIONS - 1) == 1
    assert parallel.pool_size(None, parallel.POOL_MIN_REGIONS) == parallel.available_cores()
    assert parallel.pool_size(1, 500) == 1
    assert parallel.pool_size(4, 3) == 3
    assert parallel.pool_size(2, 1) == 1


@pytest.mark.parametrize("count, processes", [(1, 2), (7, 2), (300, 2), (5, 8)])
def test_chunks_cover_every_region_once_in_order(count, processes):
    names = [f"r{i}" for i in range(count)]
    parts = parallel.chunks(names, processes)
    assert [n for part in parts for n in part] == names
    assert all(parts)
    assert len(parts) <= processes * parallel.CHUNKS_PER_WORKER



def test_an_engine_that_cannot_be_sent_to_a_worker_runs_in_process():
    class Unpicklable(EmbeddedHelm):
        pass

    assert not parallel.picklable(Unpicklable())
    assert _reports(2, engine=Unpicklable()) == _reports(1)


def test_an_error_in_a_worker_is_the_usual_input_error(tmp_path):
    fleet = copy_example(tmp_path)
    (fleet.parent / "values" / "platform.yaml").write_text("a: 1\na: 2\n")
    with pytest.raises(InputError) as single:
        validate_fleet(fleet, jobs=1, today=TODAY, crds=CRDS)
    with pytest.raises(InputError) as pooled:
        validate_fleet(fleet, jobs=2, today=TODAY, crds=CRDS)
    assert str(pooled.value) == str(single.value)
    assert "platform.yaml" in str(pooled.value)


def test_a_bad_crds_folder_in_the_workers_fails_once_not_forever(tmp_path):
    with pytest.raises(InputError):
        validate_fleet(FLEET, jobs=2, today=TODAY, crds=tmp_path / "missing")


def test_cli_jobs_option():
    single = run_cli("validate", FLEET, "--crds", CRDS, "--jobs", "1", "--report", "json")
    pooled = run_cli("validate", FLEET, "--crds", CRDS, "-j", "2", "--report", "json")
    assert single.exit_code == pooled.exit_code == 0
    assert '"findings"' in pooled.output
    assert normalise(pooled.output) == normalise(single.output)
    bad = run_cli("validate", FLEET, "--jobs", "0")
    assert bad.exit_code == 2 and "--jobs" in bad.output
