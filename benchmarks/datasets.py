"""Datasets of the benchmarks, each with a fixed held-out split.

Every loader returns a :class:`sklearn.utils.Bunch` with ``X_train``, ``X_test`` (float32),
``y_train``, ``y_test`` (class labels, or None), ``c_train``, ``c_test`` (a value to colour
2-d embeddings by: the label, or the manifold coordinate), ``image_shape`` (or None) and
``description``. Nothing is downloaded: scikit-learn's bundled sets and generators and the
MNIST subset that ships with the package.
"""

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_s_curve,
    make_swiss_roll,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from sklearn_ae.evaluation import load_mnist_split

DATASETS = ("digits", "mnist", "swiss_roll", "s_curve", "breast_cancer", "wine")


def _split(X, y, c, seed, description, image_shape=None, standardise=False):
    idx_train, idx_test = train_test_split(
        np.arange(len(X)), test_size=0.2, random_state=seed
    )
    X_train, X_test = X[idx_train], X[idx_test]
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return Bunch(
        X_train=X_train.astype(np.float32),
        X_test=X_test.astype(np.float32),
        y_train=None if y is None else y[idx_train],
        y_test=None if y is None else y[idx_test],
        c_train=c[idx_train],
        c_test=c[idx_test],
        image_shape=image_shape,
        description=description,
    )


def load(name, seed=0, n_samples=None):
    """Load benchmark dataset ``name`` (one of :data:`DATASETS`).

    ``n_samples`` subsamples the training split (for quick runs); the test split is kept.
    """
    if name == "mnist":
        X_train, X_test, y_train, y_test = load_mnist_split()
        data = Bunch(
            X_train=X_train,
            X_test=X_test,
            y_train=y_train,
            y_test=y_test,
            c_train=y_train,
            c_test=y_test,
            image_shape=(28, 28),
            description=f"MNIST subset, pixels / 255; first {len(X_train)} rows train, "
            f"last {len(X_test)} test",
        )
    elif name == "digits":
        X, y = load_digits(return_X_y=True)
        data = _split(X, y, y, 0, "scikit-learn digits, raw 0..16 pixels; 80/20 split", (8, 8))
    elif name in ("swiss_roll", "s_curve"):
        make = make_swiss_roll if name == "swiss_roll" else make_s_curve
        X, t = make(n_samples=2000, noise=0.05, random_state=seed)
        data = _split(X, None, t, seed, f"{name} (2000 points, noise 0.05); 80/20 split")
    elif name in ("breast_cancer", "wine"):
        load_fn = load_breast_cancer if name == "breast_cancer" else load_wine
        X, y = load_fn(return_X_y=True)
        data = _split(
            X, y, y, seed, f"{name}, standardised on the training split; 80/20 split",
            standardise=True,
        )
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from {DATASETS}")
    if n_samples is not None and n_samples < len(data.X_train):
        for key in ("X_train", "y_train", "c_train"):
            if data[key] is not None:
                data[key] = data[key][:n_samples]
    data.name = name
    return data


def components_for(data, ks=(2, 10, 30)):
    """The n_components values that are meaningful: fewer than the number of features."""
    return [k for k in ks if k < data.X_train.shape[1]]
