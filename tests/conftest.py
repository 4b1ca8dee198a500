"""Shared estimators, parameters and data for the test suite.

Every public estimator of the package (``sklearn_ae.__all__``) joins the family-wide tests
without editing this file: the autoencoders (transformers fitted without ``y``) through
``ESTIMATORS``, the classifiers and regressors built on them through ``SUPERVISED``.
"""

import copy

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

import sklearn_ae

# Tiny tensors gain nothing from intra-op threads, and with pytest-xdist workers sharing
# two cores the spinning threads slow each training step down by 50x.
torch.set_num_threads(1)

_PUBLIC_ESTIMATORS = [
    obj
    for obj in map(sklearn_ae.__dict__.get, sklearn_ae.__all__)
    if isinstance(obj, type) and issubclass(obj, BaseEstimator)
]

# The autoencoder family: the tests over it fit without y and read the autoencoders'
# parameters (n_components, hidden_layer_sizes, init, ...) and methods (inverse_transform,
# score_samples, partial_fit, warm_start).
ESTIMATORS = [
    E for E in _PUBLIC_ESTIMATORS if not issubclass(E, (ClassifierMixin, RegressorMixin))
]

# Classifiers and regressors: fitted with y, on top of an autoencoder of the family.
SUPERVISED = [E for E in _PUBLIC_ESTIMATORS if issubclass(E, (ClassifierMixin, RegressorMixin))]

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
    # the family's default, which the suite's early-stopping tests read; the neighbour
    # member's default (False) is tested in tests/test_neighbors.py
    "early_stopping": True,
}


def make_estimator(Estimator, **params):
    """``Estimator`` with the fast test parameters, overridden by ``params``."""
    return Estimator(**{**FAST, **params})


def diverging(Estimator):
    """Parameters whose training diverges within a few epochs: a far too large AdamW
    step. The neighbour map's loss (logarithms of its codes' distances) stays finite
    however large the codes grow, so it also gets AdamW's usual decay, whose factor
    ``1 - lr * weight_decay`` then flips and multiplies the weights at every step (the
    other members decay by default)."""
    if Estimator is sklearn_ae.NeighborEmbeddingAutoencoder:
        return {"lr": 1e3, "weight_decay": 0.01}
    return {"lr": 1e3}


# The fine-tuning half of FAST (the autoencoder gets FAST itself)
FAST_FINE_TUNING = {
    key: FAST[key] for key in ("max_epochs", "batch_size", "random_state", "lr", "lr_schedule")
}


def make_supervised(Estimator, autoencoder=None, **params):
    """A classifier or regressor with the fast test parameters, overridden by ``params``,
    on an autoencoder (default: ``AutoencoderTransformer`` with FAST and ``n_components=3``)."""
    if autoencoder is None:
        autoencoder = make_estimator(sklearn_ae.AutoencoderTransformer, n_components=3)
    return Estimator(autoencoder, **{**FAST_FINE_TUNING, **params})


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
