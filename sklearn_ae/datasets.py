"""Data that ships with the package (no download at run time)."""

from importlib import resources

import numpy as np
from sklearn.utils import Bunch


def load_mnist_10k(*, return_X_y=False, as_float=True):
    """Load the bundled subset of 10,000 real MNIST digits.

    A subset of the MNIST database (LeCun, Cortes, Burges; CC BY-SA 3.0); provenance in
    ``sklearn_ae/data/README.md``. Rows are shuffled with a fixed seed; by the project's
    convention the first 8000 rows are the training split and the last 2000 the test split.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_float : bool, default=True
        Scale pixels to [0, 1] as float32 (``X / 255``); else keep uint8 grey levels 0..255.

    Returns
    -------
    data : Bunch with ``data`` (10000, 784), ``target`` (10000,), ``images`` (10000, 28, 28),
        ``train_idx`` and ``test_idx`` (the conventional split); or ``(X, y)``.

    Examples
    --------
    >>> from sklearn_ae.datasets import load_mnist_10k
    >>> X, y = load_mnist_10k(return_X_y=True)
    >>> X.shape, X.dtype, y.shape
    ((10000, 784), dtype('float32'), (10000,))
    """
    with resources.files("sklearn_ae").joinpath("data/mnist_10k.npz").open("rb") as f:
        arrays = np.load(f)
        X, y = arrays["X"], arrays["y"].astype(np.int64)
    if as_float:
        X = X.astype(np.float32) / np.float32(255.0)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        images=X.reshape(-1, 28, 28),
        train_idx=np.arange(8000),
        test_idx=np.arange(8000, 10000),
        DESCR="10,000 MNIST digits (28x28); first 8000 train, last 2000 test.",
    )
