"""The bundled data (sklearn_ae/datasets.py)."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils import Bunch

from sklearn_ae.datasets import load_docstrings, load_mnist_10k


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_10k()


def test_bunch_shapes_and_dtypes(mnist):
    assert isinstance(mnist, Bunch)
    assert mnist.data.shape == (10000, 784) and mnist.data.dtype == np.float32
    assert mnist.target.shape == (10000,) and mnist.target.dtype == np.int64
    assert mnist.images.shape == (10000, 28, 28)
    assert_array_equal(mnist.images[17].ravel(), mnist.data[17])
    assert isinstance(mnist.DESCR, str) and "MNIST" in mnist.DESCR


def test_float_pixels_lie_in_unit_interval(mnist):
    assert mnist.data.min() == 0.0 and mnist.data.max() == 1.0
    # real digits: mostly background, a good share of ink
    assert 0.05 < np.mean(mnist.data > 0.5) < 0.3


def test_targets_are_the_ten_digits(mnist):
    labels, counts = np.unique(mnist.target, return_counts=True)
    assert_array_equal(labels, np.arange(10))
    assert counts.min() > 800 and counts.max() < 1200  # roughly balanced


def test_conventional_split(mnist):
    assert_array_equal(mnist.train_idx, np.arange(8000))
    assert_array_equal(mnist.test_idx, np.arange(8000, 10000))
    assert np.intersect1d(mnist.train_idx, mnist.test_idx).size == 0
    # both halves contain every digit (rows are shuffled)
    assert_array_equal(np.unique(mnist.target[mnist.test_idx]), np.arange(10))


def test_return_X_y_and_raw_grey_levels(mnist):
    X, y = load_mnist_10k(return_X_y=True, as_float=False)
    assert X.dtype == np.uint8 and X.shape == (10000, 784)
    assert X.min() == 0 and X.max() == 255
    assert_array_equal(y, mnist.target)
    assert_array_equal(X.astype(np.float32) / np.float32(255.0), mnist.data)


def test_loads_are_independent_copies():
    X1, _ = load_mnist_10k(return_X_y=True)
    X1[0, :] = -1
    X2, _ = load_mnist_10k(return_X_y=True)
    assert X2.min() == 0.0


def test_docstrings_corpus_is_labelled_by_package_and_repeatable():
    corpus = load_docstrings(["json", "email"], min_words=10)
    assert corpus.target_names == ["json", "email"]
    assert set(corpus.target.tolist()) == {0, 1}
    assert len(corpus.data) == len(corpus.target)
    assert all(len(text.split()) >= 10 for text in corpus.data)
    # sorted and deduplicated within each package: two builds are identical
    again = load_docstrings(["json", "email"], min_words=10)
    assert again.data == corpus.data
    email = [t for t, y in zip(corpus.data, corpus.target) if y == 1]
    assert email == sorted(set(email))
    assert corpus.versions == {"json": None, "email": None}  # the standard library's


def test_docstrings_corpus_refuses_a_missing_package():
    with pytest.raises(ValueError, match="'no_such_package_xyz' is not installed"):
        load_docstrings(["no_such_package_xyz"])
