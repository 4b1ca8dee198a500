"""Smoke run of benchmarks/bench_precision.py on a few hundred rows."""

import json

import numpy as np

from benchmarks import bench_precision


def test_alternating_run_reports_every_variant(tmp_path):
    out = tmp_path / "precision.json"
    bench_precision.main(
        ["--n-train", "300", "--epochs", "1", "--rounds", "2", "--threads", "1",
         "--out", str(out)]
    )
    result = json.loads(out.read_text())
    assert len(result["rounds"]) == 2
    for row in result["rounds"]:
        for key in ("plain", "plain_bf16", "float32", "bfloat16", "auto"):
            assert row[f"{key}_samples_per_s"] > 0
        assert row["auto_precision"] in ("float32", "bfloat16")
        assert row["auto_vs_best_plain"] == row["auto_samples_per_s"] / max(
            row["plain_samples_per_s"], row["plain_bf16_samples_per_s"])
        assert row["speedup_vs_plain"] == (
            row["bfloat16_samples_per_s"] / row["plain_samples_per_s"]
        )
        assert np.isfinite(row["float32_test_mse"]) and np.isfinite(row["bfloat16_test_mse"])
    summary = result["summary"]
    assert summary["speed_passed"] == (summary["speedup_vs_plain"] >= 1.5)
    assert summary["auto_passed"] == (summary["auto_vs_best_plain"] >= 0.95)


def test_large_run_reports_a_fraction_of_the_matmul_peak(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_precision, "LARGE_HIDDEN", (32, 16))
    monkeypatch.setattr(bench_precision, "matmul_peak", lambda device, dtype: 1e12)
    out = tmp_path / "large.json"
    bench_precision.main(
        ["--large", "--large-rows", "500", "--n-train", "300", "--epochs", "1",
         "--threads", "1", "--out", str(out)]
    )
    large = json.loads(out.read_text())["large"]
    assert large["rows"] == 500
    for precision in ("float32", "bfloat16"):
        run = large[precision]
        assert run["fraction_of_matmul_peak"] == run["training_flop_per_s"] / 1e12
        assert 0 < run["fraction_of_matmul_peak"] < 1


def test_compile_comparison_reports_each_variant(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch, "compile", lambda module, **kw: module)  # no real compiling
    out = tmp_path / "precision.json"
    bench_precision.main(
        ["--n-train", "300", "--epochs", "2", "--rounds", "1", "--threads", "1",
         "--compile", "--out", str(out)]
    )
    compiled = json.loads(out.read_text())["compile"]
    assert set(compiled) == {"float32", "float32_compiled", "bfloat16", "bfloat16_compiled"}
    for variant in compiled.values():
        assert variant["fit_s"] > variant["first_epoch_s"] > 0
        assert variant["steady_samples_per_s"] > 0
