"""Shared estimators, parameters and data for the test suite.

Every public estimator of the package (``sklearn_ae.__all__``) joins the family-wide tests
through ``ESTIMATORS``: a new member is tested without editing this file.
"""

import copy

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn.base import BaseEstimator

import sklearn_ae

# Tiny tensors gain nothing from intra-op threads, and with pytest-xdist workers sharing
# two cores the spinning threads slow each training step down by 50x.
torch.set_num_threads(1)

ESTIMATORS = [
    obj
    for obj in map(sklearn_ae.__dict__.get, sklearn_ae.__all__)
    if isinstance(obj, type) and issubclass(obj, BaseEstimator)
]

# Parameters that keep a fit to a fraction of a second on tiny data, in the constant-rate
# float32 regime the tests' learning rates and thresholds were chosen for: precision="auto"
# would pick bfloat16 on some CPUs only, and the suite must assert the same numbers on every
# machine. The defaults (one-cycle schedule, "auto") have tests of their own.
FAST = {
    "max_epochs": 3,
    "hidden_layer_sizes": (16,),
    "batch_size": 32,
    "random_state": 0,
    "lr": 1e-3,
    "lr_schedule": "constant",
    "precision": "float32",
}


def make_estimator(Estimator, **params):
    """``Estimator`` with the fast test parameters, overridden by ``params``."""
    return Estimator(**{**FAST, **params})


def make_low_rank(n_samples=200, n_features=10, rank=3, seed=0):
    """Data lying exactly on a ``rank``-dimensional affine subspace, in large units."""
    rng = np.random.RandomState(seed)
    scores = rng.randn(n_samples, rank) * np.array([3.0, 2.0, 1.0])[:rank]
    basis = np.linalg.qr(rng.randn(n_features, n_features))[0][:rank]
    return scores @ basis * 50.0 + rng.uniform(-100, 100, n_features)


def make_arc(n_samples=300, n_features=8, noise=0.01, seed=0):
    """A parabola ``(t, t**2)`` rotated into ``n_features`` dimensions, plus a little noise.

    One latent variable; PCA with one component misses the curvature, an autoencoder with a
    one-unit code does not. The rotation is the same for every ``seed``, so samples drawn with
    different seeds come from one distribution.
    """
    rng = np.random.RandomState(seed)
    t = rng.uniform(-1, 1, n_samples)
    rotation = np.linalg.qr(np.random.RandomState(42).randn(n_features, n_features))[0][:2]
    X = np.c_[t, t**2] @ rotation * 3.0 + 5.0
    return X + noise * rng.randn(n_samples, n_features)


class Snapshot(Callback):
    """Keeps a copy of the module's weights as they were when training began.

    Pass it in ``callbacks``; the estimator trains a copy, found in ``est.net_.callbacks_``
    (see :func:`initial_weights`).
    """

    def on_train_begin(self, net, **kwargs):
        self.weights_ = copy.deepcopy(net.module_.state_dict())


def initial_weights(est):
    """The weights a :class:`Snapshot` in ``est.callbacks`` saw when training began."""
    (snapshot,) = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, Snapshot)]
    return snapshot.weights_


@pytest.fixture
def seeded():
    """torch's global RNG seeded with 0 for the test, and restored after it."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


@pytest.fixture
def X_small():
    """60 x 5 Gaussian data with unequal feature variances."""
    rng = np.random.RandomState(0)
    return rng.randn(60, 5) * np.array([3.0, 2.0, 1.0, 0.5, 0.1]) + 1.0


@pytest.fixture
def X_low_rank():
    return make_low_rank()
