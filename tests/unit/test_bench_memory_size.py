"""The pure parts of ``bench/memory_size.py``: Lambda's CPU share as a CFS quota, what this machine can emulate,
the memory a process needs, and the choice of the cheapest size within 10 % of the best latency."""

from pathlib import Path

import pytest

from bench.__main__ import targets
from bench.memory_size import (
    CgroupUnavailableError,
    SizeFigures,
    cheapest_within,
    cpu_cgroup,
    cpu_quota_us,
    emulable,
    function_choice,
    least_memory_mb,
    per_million,
)


def test_the_quota_is_the_memory_share_of_one_vcpu_per_1769_mb() -> None:
    assert cpu_quota_us(1769) == 100_000  # one full vCPU
    assert cpu_quota_us(3538) == 200_000  # two
    assert cpu_quota_us(512) == 28_943  # 0.29 of a core
    assert cpu_quota_us(128) == 7_236
    assert cpu_quota_us(10_240) == 578_858  # the largest: 5.79 cores by the rule (Lambda rounds up to 6)
    assert cpu_quota_us(1769, period_us=20_000) == 20_000


@pytest.mark.parametrize("memory_mb", [127, 10_241, 0])
def test_sizes_lambda_does_not_offer_are_refused(memory_mb: int) -> None:
    with pytest.raises(ValueError, match="128 to 10240"):
        cpu_quota_us(memory_mb)


def test_only_sizes_this_machines_cores_can_give_are_kept() -> None:
    kept, dropped = emulable([512, 1769, 3008, 3538, 3539, 10_240], cpus=2)

    assert kept == [512, 1769, 3008, 3538]
    assert dropped == [3539, 10_240]


def test_a_size_must_hold_the_peak_rss_with_head_room() -> None:
    assert least_memory_mb(80) == 144  # at least 64 MiB of head-room
    assert least_memory_mb(400) == 500  # 25 % above it
    assert least_memory_mb(400.2) == 501


def _rows(*figures: tuple[int, float, float]) -> list[SizeFigures]:
    return [SizeFigures(memory, p50, p50 * 2, gb_seconds) for memory, p50, gb_seconds in figures]


def test_the_cheapest_size_within_ten_per_cent_of_the_best_median_is_chosen() -> None:
    # I/O bound: the median hardly moves above 512 MB, so the bill grows with the size.
    rows = _rows((256, 40.0, 0.010), (512, 32.0, 0.016), (1024, 30.0, 0.030), (1769, 30.0, 0.052))

    assert cheapest_within(rows).memory_mb == 512  # 32 <= 30 x 1.1; 256 is 33 % slower
    assert cheapest_within(rows, tolerance=0.5).memory_mb == 256
    assert cheapest_within(rows, tolerance=0.0).memory_mb == 1024  # the best median, cheaper of the two


def test_a_larger_size_is_chosen_when_it_is_cheaper_because_faster() -> None:
    # CPU bound: twice the memory, more than twice as fast: the larger size costs less.
    rows = _rows((512, 100.0, 0.050), (1024, 45.0, 0.044), (1769, 44.0, 0.076))

    assert cheapest_within(rows).memory_mb == 1024


def test_equal_costs_go_to_the_smaller_size() -> None:
    rows = _rows((1024, 10.0, 0.01), (512, 10.0, 0.01))

    assert cheapest_within(rows).memory_mb == 512


def test_no_admissible_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="no admissible"):
        cheapest_within([])


def test_a_function_gets_the_cheapest_size_within_tolerance_in_every_scenario() -> None:
    batch = _rows((256, 50.0, 0.012), (512, 33.0, 0.016), (1024, 30.0, 0.030))  # alone: 512
    single = _rows((256, 20.0, 0.005), (512, 20.0, 0.010), (1024, 20.0, 0.020))  # alone: 256

    assert function_choice([batch, single]) == 512
    assert function_choice([single]) == 256


def test_with_no_size_within_tolerance_everywhere_the_fastest_overall_is_taken() -> None:
    first = _rows((512, 10.0, 0.1), (1024, 20.0, 0.1))
    second = _rows((512, 20.0, 0.1), (1024, 10.0, 0.1))

    assert function_choice([first, second], tolerance=0.1) == 512  # equal relative medians: the smaller


def test_the_price_per_million_is_compute_plus_the_request_shared_by_the_batch() -> None:
    assert per_million(0.0) == pytest.approx(0.20)
    assert per_million(0.015) == pytest.approx(0.015 * 0.0000133334 * 1e6 + 0.20)
    assert per_million(0.015, per=10) == pytest.approx((0.015 * 0.0000133334 * 1e6 + 0.20) / 10)


def test_without_a_cgroup_v1_cpu_controller_the_benchmark_stops(tmp_path: Path) -> None:
    with pytest.raises(CgroupUnavailableError, match="no cgroup v1 cpu controller"), cpu_cgroup(tmp_path):
        pass


def test_the_cgroup_is_removed_even_when_the_measurement_fails(tmp_path: Path) -> None:
    (tmp_path / "cpu.cfs_quota_us").write_text("-1")
    made: list[Path] = []

    def measure() -> None:
        with cpu_cgroup(tmp_path) as group:
            made.append(group)
            periods.append((group / "cpu.cfs_period_us").read_text())
            (group / "cpu.cfs_period_us").unlink()  # a real cgroup's files go with it; a plain folder's must not stay
            raise RuntimeError("the child failed")

    periods: list[str] = []
    with pytest.raises(RuntimeError, match="child failed"):
        measure()

    assert periods == ["100000"]
    assert len(made) == 1
    assert not made[0].exists()


def test_the_targets_table_shows_each_function_s_measured_size_beside_the_template_s() -> None:
    figures = {
        "memory_size": {
            "tolerance": 0.1,
            "choices": {
                "RunPredictionsFunction": {"memory_mb": 512, "x_best": 1.02, "peak_rss_mib": 76.4, "template_mb": 1024}
            },
        }
    }

    [row] = targets(figures, set())

    assert row.name == "RunPredictionsFunction: cheapest memory size within 10% of the best latency"
    assert row.measured == "512 MB (1.02x the best median; peak RSS 76 MiB); template 1,024 MB"
    assert row.met is None
