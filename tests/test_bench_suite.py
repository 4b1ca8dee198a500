"""Smoke run of benchmarks/suite.py: one tiny dataset, one k, one epoch."""

import csv
import json

import numpy as np
import pytest

from benchmarks import suite

METRICS = ("mse", "trustworthiness", "knn5_acc", "knn1_acc", "logreg_acc")


def run(out, *extra):
    argv = [
        "--datasets", "wine", "--ks", "2", "--max-epochs", "1", "--threads", "1",
        "--methods", "pca", "isomap", "ae", "umap", "--no-progress",
        "--out-dir", str(out), "--report", str(out / "docs" / "benchmarks.md"), *extra,
    ]
    return suite.main(argv)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite")
    # umap may or may not be installed; force the "not installed" path so it is tested
    real_umap, suite.umap = suite.umap, None
    try:
        rows = run(out)
    finally:
        suite.umap = real_umap
    return out, rows


def test_raw_results_have_the_expected_columns(smoke):
    out, rows = smoke
    with (out / "suite.csv").open() as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == suite.COLUMNS
        csv_rows = list(reader)
    assert [(r["dataset"], r["method"], r["k"]) for r in csv_rows] == [
        ("wine", "pca", "2"), ("wine", "isomap", "2"), ("wine", "ae", "2"),
        ("wine", "umap", "2")]
    meta = json.loads((out / "suite.json").read_text())
    assert meta["command"].startswith("python -m benchmarks.suite --datasets wine")
    assert meta["environment"]["device"] == "cpu"
    assert {"torch", "sklearn", "skorch", "cpu_model"} <= set(meta["environment"])
    assert [r["method"] for r in meta["results"]] == ["pca", "isomap", "ae", "umap"]


def test_metrics_are_in_range_and_missing_where_undefined(smoke):
    _, rows = smoke
    by = {r["method"]: r for r in rows}
    for m in ("pca", "isomap", "ae"):
        r = by[m]
        assert r["status"] == "ok", r["note"]
        assert 0.5 < r["trustworthiness"] <= 1.0
        for key in ("knn5_acc", "knn1_acc", "logreg_acc"):
            assert 0.0 <= r[key] <= 1.0
        assert r["fit_s"] > 0 and r["transform_s_per_10k"] > 0
        assert r["peak_mem_mib"] >= 0
        assert r["n_fit"] == r["n_train"] == 142 and r["n_test"] == 36
    assert by["isomap"]["mse"] is None  # no inverse
    # wine is standardised: PCA's 2-d reconstruction loses a good part of unit variance
    assert 0.1 < by["pca"]["mse"] < 1.0
    # the AE starts at PCA and keeps the best state: never worse than PCA by much
    assert by["ae"]["mse"] <= by["pca"]["mse"] * 1.05
    assert by["ae"]["n_iter"] == 1
    assert by["umap"]["status"] == "skipped"
    assert "umap-learn is not installed" in by["umap"]["note"]


def test_report_and_figures_are_written(smoke):
    out, _ = smoke
    report = (out / "docs" / "benchmarks.md").read_text()
    for heading in ("## Command", "## Environment", "## Reading of the results",
                    "## Results", "## Published anchors", "### wine", "### Not run"):
        assert heading in report
    assert "python -m benchmarks.suite --datasets wine" in report
    assert "| method" in report and "trust. (k=5)" in report
    assert "13.87" in report and "0.0557" in report  # the anchors' fixed text
    figures = out / "docs" / "figures"
    assert (figures / "bench_embeddings_wine.png").stat().st_size > 1000
    assert (figures / "bench_mse_vs_k.png").stat().st_size > 1000
    assert "figures/bench_embeddings_wine.png" in report
    arrays = np.load(out / "suite_arrays.npz")
    assert arrays["wine/pca/k2/codes"].shape == (36, 2)


def test_same_seed_same_metrics(smoke, tmp_path):
    _, rows = smoke
    again = run(tmp_path, "--methods", "pca", "ae", "--no-report")
    first = {r["method"]: r for r in rows}
    for r in again:
        for key in METRICS:
            assert r[key] == first[r["method"]][key], (r["method"], key)
    assert not (tmp_path / "docs").exists()


def test_grid_caps_k_and_limits_truncated_svd_to_pixel_data():
    assert suite.applicable("truncated_svd", "mnist")
    assert not suite.applicable("truncated_svd", "wine")
    data = suite.bench_datasets.load("wine")
    assert suite.bench_datasets.components_for(data, (2, 10, 30)) == [2, 10]
    mnist = suite.bench_datasets.load("mnist")
    assert suite.fit_rows("isomap", mnist) == suite.MANIFOLD_MAX_FIT_ROWS
    assert suite.fit_rows("ae", mnist) == 8000
