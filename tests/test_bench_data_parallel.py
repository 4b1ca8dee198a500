"""benchmarks/bench_data_parallel.py: the ratios and the split of the N-process epoch it
reports (the measurement itself launches torchrun and takes minutes: not a test)."""

from argparse import Namespace

import pytest

from benchmarks import bench_data_parallel as bench


def _row(config, processes, epoch_s, rows=60_000, batch=256, **extra):
    return {"config": config, "processes": processes, "epoch_s": epoch_s, "rows": rows,
            "batch_size": batch, "fit_s": epoch_s + 1.0, "rounds_epoch_s": [epoch_s, 30.0],
            "rounds_load": [1.0, 5.0], "rounds_allreduce_s": [extra.get("allreduce_s"), 1.0],
            **extra}


RESULTS = [
    _row("1 process x 1 thread", 1, 20.0),
    _row("1 process x 2 threads", 1, 12.0),
    _row("2 processes x 1 thread", 2, 10.0, allreduce_s=1.5),
    _row("1 process x 1 thread, one share (30000 rows, batch 128)", 1, 9.0, rows=30_000,
         batch=128),
]


def test_summary_compares_with_the_best_single_process_and_splits_the_epoch():
    s = bench.summary(RESULTS)
    assert s["best_single"] == "1 process x 2 threads"
    assert s["parallel_over_best_single_epoch"] == pytest.approx(10.0 / 12.0)
    assert s["parallel_over_one_thread_epoch"] == pytest.approx(0.5)
    assert s["ratio_by_round"] == pytest.approx([10.0 / 12.0, 1.0])
    # the split comes from the round with the least load, all from that round
    assert s["quiet_round"] == 1
    assert (s["share_compute_s"], s["allreduce_alone_s"]) == (9.0, 1.5)
    assert s["rest_s"] == pytest.approx(-0.5)  # the all-reduces overlapped the backward


def test_report_tabulates_every_configuration():
    result = {
        "command": "python -m benchmarks.bench_data_parallel", "results": RESULTS,
        "summary": bench.summary(RESULTS),
        "environment": {"cpu_model": "CPU", "cpu_count": 2, "torch": "2.13.0"},
        "config": {"network": "784-512-256-30", "epochs": 2, "device": "cpu",
                   "processes": 2, "quick": False, "rounds": 1, "batch": 256},
    }
    text = bench.report(result)
    for row in RESULTS:
        assert f"| {row['config']} " in text
    assert "the best single process (1 process x 2 threads): 0.833" in text
    assert "round by round: 0.83 1.00. In round 1 (the least load)" in text
    (line,) = [ln for ln in text.splitlines() if ln.startswith("| 2 processes")]
    assert " 128 |" in line  # the batch of each of the 2 processes


def test_run_reports_the_median_round_of_each_configuration(monkeypatch):
    epochs = iter([5.0, 9.0, 3.0, 4.0, 6.0, 7.0, 8.0, 1.0, 2.0])

    def fake_spawn(args, processes, threads, rows, batch):
        return _row("", processes, next(epochs), rows=rows, batch=batch, allreduce_s=0.5)

    monkeypatch.setattr(bench, "spawn", fake_spawn)
    args = Namespace(processes=2, threads=1, rows=600, rounds=3, global_batch=256)
    results = bench.run(args)
    assert [r["rounds_epoch_s"] for r in results] == [[5.0, 4.0, 8.0], [9.0, 6.0, 1.0],
                                                       [3.0, 7.0, 2.0]]
    assert [r["epoch_s"] for r in results] == [5.0, 6.0, 3.0]
