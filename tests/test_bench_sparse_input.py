"""Quick run of benchmarks/bench_sparse_input.py: a small CSR fit in a subprocess, and the
LSA pipelines on a tiny docstring corpus."""

import json

import pytest

from benchmarks import bench_sparse_input


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("sparse") / "sparse_input.json"
    result = bench_sparse_input.main(["--quick", "--threads", "1", "--output", str(out)])
    return out, result


def test_the_memory_case_measures_the_fit_in_its_own_process(quick):
    out, result = quick
    memory = json.loads(out.read_text())["memory"]
    assert (memory["rows"], memory["features"], memory["nnz"]) == (2000, 3000, 60_000)
    assert memory["peak_mb"] >= memory["rss_before_fit_mb"] > 0
    assert memory["fit_s"] > 0
    assert memory["meets_target"] == (memory["peak_mb"] < 2 * 1024)
    assert "cpu_model" in result["environment"]


def test_every_reducer_runs_the_same_pipeline(quick):
    _, result = quick
    runs = result["text"]["runs"]
    assert [r["reducer"] for r in runs] == ["TruncatedSVD", "PCA", "AutoencoderTransformer"]
    for run in runs:
        assert 0 < run["accuracy"] <= 1 and 0 < run["macro_f1"] <= 1 and run["fit_s"] > 0
    assert result["text"]["classes"] == ["json", "email"]
    assert "| AutoencoderTransformer |" in bench_sparse_input.text_table(result["text"])
