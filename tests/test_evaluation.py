"""Tests of sklearn_ae.evaluation: the measurements shared by the CLI and the benchmarks."""

import doctest

import numpy as np
import pytest
import sklearn
import torch
from sklearn.decomposition import PCA

import sklearn_ae
from sklearn_ae import evaluation
from sklearn_ae.datasets import load_mnist_10k
from sklearn_ae.evaluation import (
    environment,
    knn_accuracy,
    load_mnist_split,
    mse,
    reconstruction_mse,
)


def test_docstring_examples_run():
    result = doctest.testmod(evaluation, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_mse_known_value_and_zero_for_identical_arrays():
    A = np.array([[0.0, 0.0], [1.0, 1.0]])
    B = np.array([[0.0, 1.0], [1.0, 3.0]])
    # squared errors 0, 1, 0, 4 -> mean 1.25
    assert mse(A, B) == 1.25
    assert mse(B, A) == 1.25
    assert mse(A, A) == 0.0
    assert isinstance(mse(A, B), float)


def test_mse_of_float32_arrays_is_computed_in_float64():
    rng = np.random.RandomState(0)
    A = (rng.rand(300, 7) * 1e4).astype(np.float32)
    B = (A + rng.randn(300, 7)).astype(np.float32)
    expected = np.mean((A.astype(np.float64) - B.astype(np.float64)) ** 2)
    assert mse(A, B) == expected
    assert mse(np.full((1000, 10), 1e4, np.float32), np.full((1000, 10), 1e4 + 0.5)) == 0.25


def test_mse_refuses_arrays_of_different_shapes():
    with pytest.raises(ValueError, match=r"shapes differ: \(2, 2\) vs \(2, 3\)"):
        mse(np.zeros((2, 2)), np.zeros((2, 3)))
    # a row that would broadcast is still an error
    with pytest.raises(ValueError, match=r"shapes differ: \(3, 2\) vs \(2,\)"):
        mse(np.zeros((3, 2)), np.zeros(2))


def test_reconstruction_mse_of_pca_with_all_components_is_zero():
    X = np.random.RandomState(0).randn(50, 4)
    assert reconstruction_mse(PCA(n_components=4).fit(X), X) == pytest.approx(0.0, abs=1e-24)


def test_reconstruction_mse_equals_the_hand_computation():
    rng = np.random.RandomState(0)
    X_train, X_test = rng.randn(60, 5), rng.randn(20, 5)
    pca = PCA(n_components=2).fit(X_train)
    # projection onto the two leading directions, by hand
    V = pca.components_
    X_hat = (X_test - pca.mean_) @ V.T @ V + pca.mean_
    expected = np.mean((X_test - X_hat) ** 2)
    assert reconstruction_mse(pca, X_test) == pytest.approx(expected, rel=1e-12)
    assert reconstruction_mse(pca, X_test) > 0.1


def test_reconstruction_mse_of_float32_model_output_is_float64():
    X = np.random.RandomState(0).rand(40, 6).astype(np.float32) * 1e3
    pca = PCA(n_components=2).fit(X)
    X_hat = pca.inverse_transform(pca.transform(X))
    expected = np.mean((X.astype(np.float64) - X_hat.astype(np.float64)) ** 2)
    assert reconstruction_mse(pca, X) == expected


def test_knn_accuracy_on_separable_codes_is_one():
    rng = np.random.RandomState(0)
    Z = np.r_[rng.randn(40, 2) - 10, rng.randn(40, 2) + 10]
    y = np.r_[np.zeros(40), np.ones(40)]
    assert knn_accuracy(Z[::2], y[::2], Z[1::2], y[1::2]) == 1.0
    # the opposite labels are all wrong
    assert knn_accuracy(Z[::2], y[::2], Z[1::2], 1 - y[1::2]) == 0.0


def test_knn_accuracy_known_values():
    Z_train = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]])
    y_train = np.array([0, 0, 0, 1, 1, 1])
    Z_test = np.array([[0.05], [10.05], [9.0], [1.0]])
    assert knn_accuracy(Z_train, y_train, Z_test, np.array([0, 1, 1, 0]), 3) == 1.0
    # two of four test labels wrong -> 0.5
    assert knn_accuracy(Z_train, y_train, Z_test, np.array([0, 1, 0, 1]), 3) == 0.5
    # 1-NN: the test point at 0.14 takes the label of 0.1
    y_mixed = np.array([0, 1, 0, 1, 1, 1])
    assert knn_accuracy(Z_train, y_mixed, np.array([[0.14]]), np.array([1]), 1) == 1.0


def test_knn_accuracy_uses_five_neighbours_by_default():
    # from the test point at 0: two codes of class 1, then three of class 0, so 3-NN says 1
    # and 5-NN says 0
    Z_train = np.array([[0.1], [0.2], [0.3], [0.4], [0.5], [9.0]])
    y_train = np.array([1, 1, 0, 0, 0, 1])
    Z_test, y_test = np.array([[0.0]]), np.array([0])
    assert knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=3) == 0.0
    assert knn_accuracy(Z_train, y_train, Z_test, y_test) == 1.0


def test_knn_accuracy_with_fewer_training_codes_than_neighbours():
    # 3 training codes: the probe uses all three instead of failing
    Z_train, y_train = np.array([[0.0], [0.1], [5.0]]), np.array([0, 0, 1])
    assert knn_accuracy(Z_train, y_train, np.array([[0.05]]), np.array([0])) == 1.0


def test_mnist_split_is_the_first_8000_and_last_2000_rows():
    X, y = load_mnist_10k(return_X_y=True)
    X_train, X_test, y_train, y_test = load_mnist_split()
    assert X_train.shape == (8000, 784) and X_test.shape == (2000, 784)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert X_train.dtype == np.float32
    np.testing.assert_array_equal(X_train, X[:8000])
    np.testing.assert_array_equal(X_test, X[-2000:])
    np.testing.assert_array_equal(y_train, y[:8000])
    np.testing.assert_array_equal(y_test, y[-2000:])


def test_mnist_split_keeps_the_first_rows_of_each_part():
    X_train, X_test, y_train, y_test = load_mnist_split(n_train=100, n_test=30)
    full = load_mnist_split()
    assert X_train.shape == (100, 784) and X_test.shape == (30, 784)
    np.testing.assert_array_equal(X_train, full[0][:100])
    np.testing.assert_array_equal(X_test, full[1][:30])
    np.testing.assert_array_equal(y_train, full[2][:100])
    np.testing.assert_array_equal(y_test, full[3][:30])


def test_environment_has_what_the_cli_and_the_benchmarks_report():
    env = environment()
    # the keys the CLI's --output JSON, the benchmark reports and docs/benchmarks.md read
    assert set(env) >= {
        "timestamp", "python", "platform", "cpu_model", "cpu_count", "torch_threads",
        "torch", "numpy", "sklearn", "skorch", "sklearn_ae", "device",
    }
    assert env["device"] == "cpu" and "gpu" not in env
    assert env["sklearn_ae"] == sklearn_ae.__version__
    assert env["sklearn"] == sklearn.__version__
    assert env["torch"] == torch.__version__
    assert env["numpy"] == np.__version__
    assert env["torch_threads"] == torch.get_num_threads()
    assert isinstance(env["cpu_model"], str) and env["cpu_model"]


def test_environment_records_the_device_it_is_given(monkeypatch):
    assert environment("cpu")["device"] == "cpu"
    # a CUDA device also gets its name, whether or not this machine has one
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: f"GPU of {device}")
    env = environment("cuda:1")
    assert env["device"] == "cuda:1" and env["gpu"] == "GPU of cuda:1"
