"""Smoke run of benchmarks/bench_scale.py: tiny sizes, every case in its own subprocess."""

import json

import pytest

from benchmarks import bench_scale


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale")
    result = bench_scale.main([
        "--rows", "2000", "--fit-rows", "1000", "--features", "20", "--n-components", "5",
        "--model-rows", "500",
        "--threads", "1", "--jobs", "3", "--quick", "--out", str(out), "--tmp-dir", str(out),
    ])
    return out, result


def test_every_case_is_measured(smoke):
    out, result = smoke
    data = json.loads((out / "scale.json").read_text())
    assert [r["case"] for r in data["results"]] == list(bench_scale.CASES)
    assert data["command"].startswith("python -m benchmarks.bench_scale --rows 2000")
    assert {"torch", "cpu_model", "torch_threads"} <= set(data["environment"])
    for r in data["results"]:
        assert r["rows_per_s"] > 0, r
        assert r["seconds"] > 0, r
        assert r["peak_rss_gb"] >= r["baseline_rss_gb"] > 0, r
        assert r["peak_rss_anon_gb"] > 0, r
        assert r["torch_threads"] == 1, r
    by = {r["case"]: r for r in data["results"]}
    assert by["transform"]["rows"] == 2000
    assert by["transform"]["output_gb"] == pytest.approx(2000 * 5 * 4 / 1e9)
    assert by["inverse_transform"]["output_gb"] == pytest.approx(2000 * 20 * 4 / 1e9)
    assert by["score_samples"]["output_gb"] == pytest.approx(2000 * 8 / 1e9)
    assert by["dask_transform"]["output_gb"] == by["transform"]["output_gb"]
    assert by["dask_transform"]["input_kind"] == bench_scale.DASK_INPUT
    for case in bench_scale.FIT_CASES:
        assert by[case]["rows"] == 1000
        assert by[case]["epochs"] >= 1
    # the temporary .npy file and model are cleaned up
    assert not list(out.glob("bench_scale_*"))


def test_markdown_table_is_written(smoke):
    out, _ = smoke
    md = (out / "scale.md").read_text()
    assert md.startswith("# Scale: memory and throughput")
    assert "| case " in md and "peak - baseline GB" in md
    for case in bench_scale.CASES:
        assert f"| {case} " in md


def test_fill_uniform_is_the_same_in_memory_and_in_a_file(tmp_path):
    import numpy as np

    X = bench_scale.make_rows(50, 7)
    path = bench_scale.write_npy(tmp_path / "x.npy", 50, 7)
    np.testing.assert_array_equal(np.load(path, mmap_mode="r"), X)
    assert X.dtype == np.float32 and 0 <= X.min() and X.max() < 1


def test_dask_rows_are_the_rows_in_memory_made_chunk_by_chunk():
    pytest.importorskip("dask.array")
    import numpy as np

    X = bench_scale.dask_rows(50, 7, chunk=16)
    assert X.chunks == ((16, 16, 16, 2), (7,))
    expected = bench_scale.fill_uniform(np.empty((50, 7), dtype=np.float32), chunk=16)
    np.testing.assert_array_equal(X.compute(), expected)
