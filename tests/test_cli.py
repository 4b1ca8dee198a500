"""The ``sklearn-ae compare`` command, run in-process on tiny data."""

import contextlib
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import sklearn_ae
from sklearn_ae._cli import format_table, main, verdict

FAST = ["--max-epochs", "2", "--random-state", "0"]


def run(argv):
    """``main(argv)``: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def table_rows(stdout):
    """The printed Markdown table as ``{method: {column: cell}}``."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert set(lines[1]) <= {"|", "-"}
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header)
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def make_table(n_samples=60, n_features=6, seed=0):
    """Two classes of points near a curve, in features of different scales."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n_samples)
    t = rng.uniform(-1, 1, n_samples) + 2.0 * y
    X = np.c_[t, t**2, np.sin(t)] @ rng.randn(3, n_features) + 0.05 * rng.randn(
        n_samples, n_features
    )
    return X * np.arange(1, n_features + 1), y


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "results.json"
    argv = ["compare", "--data", "digits", "--n-components", "5", *FAST, "--no-progress"]
    status, out, err = run([*argv, "--output", str(path)])
    return status, out, err, json.loads(path.read_text()), argv


def test_digits_table(digits_run):
    status, out, _, _, _ = digits_run
    assert status == 0
    assert "digits, 1797 samples x 64 features (1437 train / 360 test, with labels)" in out
    rows = table_rows(out)
    assert list(rows) == ["PCA", "autoencoder"]
    assert list(rows["PCA"]) == [
        "method", "test MSE", "ratio to PCA", "kNN-5 accuracy", "fit time (s)"
    ]  # fmt: skip
    assert rows["PCA"]["ratio to PCA"] == "1.000"
    for row in rows.values():
        assert float(row["test MSE"]) > 0
        assert 0 <= float(row["kNN-5 accuracy"]) <= 1
        assert float(row["fit time (s)"]) >= 0


def test_digits_json_matches_table(digits_run):
    _, out, _, report, argv = digits_run
    assert report["command"][1:] == [*argv, "--output", report["command"][-1]]
    assert report["data"]["n_train"] == 1437 and report["data"]["n_test"] == 360
    assert report["data"]["has_labels"] is True
    assert report["n_components"] == 5
    pca, ae = report["results"]["pca"], report["results"]["autoencoder"]
    for row in (pca, ae):
        assert set(row) >= {"test_mse", "ratio_to_pca", "knn_accuracy", "fit_time_s"}
        assert all(math.isfinite(row[k]) for k in ("test_mse", "knn_accuracy", "fit_time_s"))
    assert pca["ratio_to_pca"] == 1.0
    assert ae["ratio_to_pca"] == pytest.approx(ae["test_mse"] / pca["test_mse"])
    assert 1 <= ae["n_iter"] <= 2 and ae["max_epochs"] == 2 and ae["device"] == "cpu"
    # init="pca": early stopping never keeps a model worse than PCA on validation data, and
    # the held-out error stays close to PCA's even after two epochs
    assert ae["ratio_to_pca"] < 1.05
    rows = table_rows(out)
    assert float(rows["autoencoder"]["test MSE"]) == pytest.approx(ae["test_mse"], rel=1e-3)
    assert rows["autoencoder"]["ratio to PCA"] == f"{ae['ratio_to_pca']:.3f}"
    assert report["verdict"] in out
    assert f"{ae['ratio_to_pca']:.2f}x PCA's error at 5 components" in report["verdict"]
    assert report["environment"]["sklearn_ae"] == sklearn_ae.__version__


def test_csv_with_header_and_label_column(tmp_path):
    X, y = make_table()
    names = [f"f{i}" for i in range(X.shape[1])]
    lines = [",".join(["species", *names])]
    for label, row in zip(y, X):
        lines.append(",".join([["setosa", "virginica"][label], *map(str, row.tolist())]))
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    out_json = tmp_path / "r.json"
    status, out, _ = run(
        ["compare", "--data", str(path), "--label-column", "species", "--n-components", "2",
         "--test-size", "0.25", "--no-progress", "--output", str(out_json), *FAST]
    )  # fmt: skip
    assert status == 0
    data = json.loads(out_json.read_text())["data"]
    assert data == {
        "name": str(path), "n_samples": 60, "n_features": 6, "n_train": 45, "n_test": 15,
        "has_labels": True, "split": "train_test_split(test_size=0.25, random_state=0)",
    }  # fmt: skip
    assert table_rows(out)["autoencoder"]["kNN-5 accuracy"] != "n/a"


def test_csv_without_header_label_column_by_position(tmp_path):
    X, y = make_table(n_samples=40)
    path = tmp_path / "data.csv"
    # a text column all the way down is data, not a header
    rows = [",".join([*map(str, row.tolist()), ["no", "yes"][label]]) for label, row in zip(y, X)]
    path.write_text("\n".join(rows) + "\n")
    out_json = tmp_path / "r.json"
    status, out, _ = run(
        ["compare", "--data", str(path), "--label-column", "-1", "--n-components", "2",
         "--no-progress", "--output", str(out_json), *FAST]
    )  # fmt: skip
    assert status == 0
    data = json.loads(out_json.read_text())["data"]
    assert (data["n_samples"], data["n_features"], data["n_test"]) == (40, 6, 8)


def test_npy_without_labels_shows_na_and_progress(tmp_path):
    X, _ = make_table()
    path = tmp_path / "X.npy"
    np.save(path, X)
    out_json = tmp_path / "r.json"
    status, out, err = run(
        ["compare", "--data", str(path), "--n-components", "3", "--output", str(out_json),
         *FAST]
    )  # fmt: skip
    assert status == 0
    rows = table_rows(out)
    assert rows["PCA"]["kNN-5 accuracy"] == rows["autoencoder"]["kNN-5 accuracy"] == "n/a"
    results = json.loads(out_json.read_text())["results"]
    assert results["pca"]["knn_accuracy"] is None
    assert results["autoencoder"]["knn_accuracy"] is None
    assert "kNN" not in json.loads(out_json.read_text())["verdict"]
    # the progress bar (stderr) walks through the steps and ends full
    assert "autoencoder" in err and "100%" in err


def test_npy_with_labels_file(tmp_path):
    X, y = make_table()
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", y)
    status, out, _ = run(
        ["compare", "--data", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.npy"),
         "--n-components", "2", "--no-progress", *FAST]
    )  # fmt: skip
    assert status == 0
    assert 0 <= float(table_rows(out)["autoencoder"]["kNN-5 accuracy"]) <= 1


def _bad_inputs(tmp_path):
    X, y = make_table(n_samples=20)
    np.save(tmp_path / "flat.npy", X[:, 0])
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y_short.npy", y[:5])
    np.save(tmp_path / "words.npy", np.array([["a", "b"], ["c", "d"]]))
    (tmp_path / "text.csv").write_text("a,b,city\n1,2,Paris\n3,4,Rome\n5,6,Oslo\n")
    (tmp_path / "gaps.csv").write_text("a,b\n1,2\n3,\n5,6\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "data.txt").write_text("1 2\n")
    return {
        "missing file": (["--data", "nope.npy"], "no such file"),
        "1-d npy": (["--data", "flat.npy"], "1-d array of shape (20,); expected a 2-d"),
        "text npy": (["--data", "words.npy"], "expected numbers"),
        "text csv column": (["--data", "text.csv"], "column(s) 'city' are not numeric"),
        "csv gaps": (["--data", "gaps.csv"], "1 missing or infinite value"),
        "empty csv": (["--data", "empty.csv"], "is empty"),
        "unknown kind": (["--data", "data.txt"], "expected mnist, digits, or a path"),
        "no such column": (
            ["--data", "text.csv", "--label-column", "town"], "has no column 'town'"
        ),
        "label count": (
            ["--data", "X.npy", "--labels", "y_short.npy"], "has 5 labels but the data has 20"
        ),
        "labels on builtin": (["--data", "digits", "--labels", "y_short.npy"], "own labels"),
        "too many components": (
            ["--data", "X.npy", "--n-components", "7"], "at most min(n_train=16, n_features=6)"
        ),
        "output dir": (["--data", "X.npy", "--output", "no/such/dir/r.json"], "does not exist"),
        "output is data": (
            ["--data", "X.npy", "--output", "./X.npy", "--force"], "is the --data file"
        ),
        "output is labels": (
            ["--data", "X.npy", "--labels", "y_short.npy", "--output", "y_short.npy"],
            "is the --labels file",
        ),
        "output exists": (
            ["--data", "X.npy", "--output", "text.csv"], "exists; pass --force to overwrite"
        ),
        "output is a directory": (["--data", "X.npy", "--output", "."], "is a directory"),
        "bad device": (["--device", "tpu"], "device must be 'auto'"),
        "bad test size": (["--data", "X.npy", "--test-size", "2"], "expected a number in (0, 1)"),
    }


BAD_CASES = [
    "missing file", "1-d npy", "text npy", "text csv column", "csv gaps", "empty csv",
    "unknown kind", "no such column", "label count", "labels on builtin",
    "too many components", "output dir", "output is data", "output is labels",
    "output exists", "output is a directory", "bad device", "bad test size",
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_2_with_one_line_message(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args, message = _bad_inputs(tmp_path)[case]
    status, out, err = run(["compare", *args, "--no-progress", *FAST])
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    error_lines = [line for line in err.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(("sklearn-ae compare: error:", "python -m sklearn_ae"))
    assert message in error_lines[0]
    if case.startswith("output is"):  # the data files are untouched
        assert np.load(tmp_path / "X.npy").shape == (20, 6)
        assert np.load(tmp_path / "y_short.npy").shape == (5,)


def test_force_overwrites_an_existing_output(tmp_path):
    X, _ = make_table()
    np.save(tmp_path / "X.npy", X)
    out_json = tmp_path / "r.json"
    out_json.write_text("old")
    argv = ["compare", "--data", str(tmp_path / "X.npy"), "--n-components", "2",
            "--no-progress", "--output", str(out_json), *FAST]
    assert run(argv)[0] == 2 and out_json.read_text() == "old"
    assert run([*argv, "--force"])[0] == 0
    assert json.loads(out_json.read_text())["n_components"] == 2


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"sklearn-ae {sklearn_ae.__version__} (torch ")
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--help"])
    assert exc.value.code == 0
    assert "--n-components" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "sklearn_ae", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"sklearn-ae {sklearn_ae.__version__}")


# ------------------------------------------------------------------ report wording
def _results(pca_mse, ae_mse, *, knn=(0.9, 0.8), times=(0.5, 20.0), best_epoch=5, n_iter=15):
    pca = {"test_mse": pca_mse, "knn_accuracy": knn[0], "fit_time_s": times[0]}
    ae = {"test_mse": ae_mse, "knn_accuracy": knn[1], "fit_time_s": times[1]}
    for row in (pca, ae):
        row["ratio_to_pca"] = row["test_mse"] / pca_mse
    ae.update(n_iter=n_iter, best_epoch=best_epoch, max_epochs=200, device="cpu")
    return {"pca": pca, "autoencoder": ae}


def test_verdict_states_the_numbers_when_the_autoencoder_wins():
    text = verdict(_results(2.0, 1.1), 30)
    assert "0.55x PCA's error at 30 components (test MSE 1.1 vs 2)" in text
    assert "at 40x the fit time (20.0 s vs 0.500 s)" in text
    assert "0.800, lower than PCA's 0.900" in text
    assert "cutting the reconstruction error by 45% is worth" in text


def test_verdict_says_so_when_pca_is_as_good():
    text = verdict(_results(2.0, 2.4, knn=(None, None), best_epoch=0), 1)
    assert "1.20x PCA's error at 1 component " in text
    assert "kNN" not in text
    assert "Early stopping kept the untrained model, which is PCA itself" in text
    assert "PCA is the better choice" in text


def test_verdict_notes_training_cut_short():
    text = verdict(_results(2.0, 1.5, best_epoch=200, n_iter=200), 10)
    assert "still improving when it reached max_epochs=200" in text


def test_table_without_labels():
    rows = table_rows(format_table(_results(2.0, 1.0, knn=(None, None))))
    assert rows["autoencoder"] == {
        "method": "autoencoder", "test MSE": "1", "ratio to PCA": "0.500",
        "kNN-5 accuracy": "n/a", "fit time (s)": "20.0",
    }  # fmt: skip
