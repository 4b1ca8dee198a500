"""Evaluation shared by the ``sklearn-ae compare`` command and the scripts in benchmarks/.

One copy of each measurement, so that the command line and the benchmarks report the same
numbers for the same models:

* :func:`mse` and :func:`reconstruction_mse`: mean squared error over all entries, in the
  data's own units, accumulated in float64;
* :func:`knn_accuracy`: the kNN probe of the codes (a k-nearest-neighbour classifier fitted
  on the training codes, scored on the test codes);
* :func:`load_mnist_split`: the bundled MNIST subset with the project's fixed split, first
  8000 rows train and last 2000 test;
* :func:`environment`: the versions and hardware that the numbers depend on.

These are plain functions of arrays and fitted models; nothing here parses arguments or
prints.
"""

import datetime
import os
import platform

import numpy as np
import sklearn
import skorch
import torch
from sklearn.neighbors import KNeighborsClassifier

from .datasets import load_mnist_10k

__all__ = [
    "KNN_NEIGHBORS",
    "environment",
    "knn_accuracy",
    "load_mnist_split",
    "mse",
    "reconstruction_mse",
]

#: Neighbours of the kNN probe (the "kNN-5 accuracy" of the reports).
KNN_NEIGHBORS = 5


def mse(A, B):
    """Mean squared difference of two arrays over all entries.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        First array, e.g. the original data.

    B : array-like of shape (n_samples, n_features)
        Second array, e.g. its reconstruction. Must have the shape of ``A``.

    Returns
    -------
    mse : float
        ``mean((A - B) ** 2)``, computed in float64 whatever the input dtypes, so that
        float32 data of large magnitude does not lose the error to rounding.

    Raises
    ------
    ValueError
        If the shapes differ (broadcasting would silently average something else).

    Examples
    --------
    >>> from sklearn_ae.evaluation import mse
    >>> mse([[0.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 3.0]])
    1.25
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.shape != B.shape:
        raise ValueError(f"shapes differ: {A.shape} vs {B.shape}")
    return float(np.mean((A - B) ** 2))


def reconstruction_mse(model, X):
    """Reconstruction error of a fitted model on ``X``, in the data's own units.

    Parameters
    ----------
    model : estimator
        A fitted transformer with ``transform`` and ``inverse_transform``: PCA, an
        autoencoder of this package, ...

    X : array-like of shape (n_samples, n_features)
        Data to encode and decode, usually a held-out split.

    Returns
    -------
    mse : float
        ``mean((X - model.inverse_transform(model.transform(X))) ** 2)`` over all entries,
        in float64 (see :func:`mse`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_ae.evaluation import reconstruction_mse
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> round(reconstruction_mse(PCA(n_components=1).fit(X), X), 12)
    0.0
    """
    return mse(X, model.inverse_transform(model.transform(X)))


def knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=KNN_NEIGHBORS):
    """Accuracy of a k-nearest-neighbour probe of the codes.

    A :class:`~sklearn.neighbors.KNeighborsClassifier` (Euclidean distance, uniform
    weights) is fitted on the training codes and scored on the test codes.

    Parameters
    ----------
    Z_train : array-like of shape (n_train, n_components)
        Codes of the training split.

    y_train : array-like of shape (n_train,)
        Class labels of the training split.

    Z_test : array-like of shape (n_test, n_components)
        Codes of the test split.

    y_test : array-like of shape (n_test,)
        Class labels of the test split.

    n_neighbors : int, default=5
        Neighbours of the classifier; at most ``n_train`` are used, so a tiny training
        split still gives a number.

    Returns
    -------
    accuracy : float
        Fraction of test codes classified correctly, in [0, 1].

    Examples
    --------
    >>> from sklearn_ae.evaluation import knn_accuracy
    >>> knn_accuracy([[0.0], [0.1], [5.0], [5.1]], [0, 0, 1, 1], [[0.05], [5.05]], [0, 1],
    ...              n_neighbors=1)
    1.0
    """
    k = min(n_neighbors, len(Z_train))
    clf = KNeighborsClassifier(n_neighbors=k).fit(Z_train, y_train)
    return float(clf.score(Z_test, y_test))


def load_mnist_split(n_train=None, n_test=None):
    """The bundled MNIST subset with its fixed split: first 8000 rows train, last 2000 test.

    The split is the one :func:`~sklearn_ae.datasets.load_mnist_10k` names (``train_idx``,
    ``test_idx``).

    Parameters
    ----------
    n_train : int, default=None
        Keep only the first ``n_train`` rows of the training split (for quick runs);
        ``None`` keeps all 8000.

    n_test : int, default=None
        Keep only the first ``n_test`` rows of the test split; ``None`` keeps all 2000.

    Returns
    -------
    X_train : ndarray of shape (n_train, 784), dtype float32
        Training pixels in [0, 1] (grey level / 255).

    X_test : ndarray of shape (n_test, 784), dtype float32
        Test pixels in [0, 1].

    y_train : ndarray of shape (n_train,)
        Digits of the training rows.

    y_test : ndarray of shape (n_test,)
        Digits of the test rows.

    See Also
    --------
    sklearn_ae.datasets.load_mnist_10k : The whole subset, unsplit.

    Examples
    --------
    >>> from sklearn_ae.evaluation import load_mnist_split
    >>> X_train, X_test, y_train, y_test = load_mnist_split()
    >>> X_train.shape, X_test.shape
    ((8000, 784), (2000, 784))
    """
    data = load_mnist_10k()
    train, test = data.train_idx[:n_train], data.test_idx[:n_test]
    return data.data[train], data.data[test], data.target[train], data.target[test]


def _cpu_model():
    """The CPU's marketing name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or platform.machine()


def environment(device="cpu"):
    """The versions and hardware that measured numbers depend on.

    Parameters
    ----------
    device : str, default="cpu"
        The torch device the models ran on (already resolved: ``"cpu"``, ``"cuda:0"``,
        not ``"auto"``).

    Returns
    -------
    environment : dict
        ``timestamp`` (ISO 8601, seconds), ``python``, ``platform``, ``cpu_model``,
        ``cpu_count``, ``torch_threads``, the versions ``torch``, ``numpy``, ``sklearn``,
        ``skorch`` and ``sklearn_ae``, ``device``, and ``gpu`` (the device's name) for a
        CUDA device.
    """
    from . import __version__

    env = {
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "sklearn_ae": __version__,
        "device": device,
    }
    if str(device).startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return env
