"""ContractiveAutoencoder (sklearn_ae/_contractive.py): the contraction penalty and what it
buys. The family-wide contract (estimator checks, pipelines, save/load, bad input) comes
from conftest.ESTIMATORS."""

import numpy as np
import pytest
import torch
from conftest import make_estimator
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits

from sklearn_ae import AutoencoderTransformer, ContractiveAutoencoder
from sklearn_ae.losses import jacobian_frobenius_sq


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data
    return X[:500], X[500:700]


def _code_movement(est, X, scale=0.5, seed=1):
    """Mean distance between the codes of ``X`` and of ``X`` plus small Gaussian noise."""
    noise = np.random.RandomState(seed).normal(scale=scale, size=X.shape)
    return np.linalg.norm(est.transform(X + noise) - est.transform(X), axis=1).mean()


def _penalty(est, X):
    """Mean squared Frobenius norm of the fitted encoder's Jacobian, scaled units."""
    x = torch.as_tensor(((X - est.mean_) / est.scale_).astype(np.float32))
    encode = est.net_.module_.encode
    return jacobian_frobenius_sq(lambda v: encode(v) / est.scale_, x).mean().item()


def test_codes_move_less_than_the_plain_autoencoders(digits):
    X_train, X_test = digits
    params = dict(n_components=8, max_epochs=15, hidden_layer_sizes=(32,))
    plain = make_estimator(AutoencoderTransformer, **params).fit(X_train)
    contractive = make_estimator(ContractiveAutoencoder, contraction_weight=0.1, **params)
    contractive.fit(X_train)
    assert _penalty(contractive, X_test) < 0.5 * _penalty(plain, X_test)
    assert _code_movement(contractive, X_test) < 0.5 * _code_movement(plain, X_test)


def test_larger_weight_contracts_more(digits):
    X_train, X_test = digits
    fits = [
        make_estimator(ContractiveAutoencoder, n_components=4, contraction_weight=w).fit(X_train)
        for w in (0.01, 1.0)
    ]
    assert _penalty(fits[1], X_test) < _penalty(fits[0], X_test)


def test_zero_weight_is_the_plain_autoencoder(digits):
    X_train, X_test = digits
    plain = make_estimator(AutoencoderTransformer, n_components=4).fit(X_train)
    cae = make_estimator(ContractiveAutoencoder, n_components=4, contraction_weight=0).fit(X_train)
    assert_array_equal(cae.transform(X_test), plain.transform(X_test))


def test_training_loss_includes_the_penalty(digits):
    X_train, _ = digits
    params = dict(n_components=4, max_epochs=1, early_stopping=False, lr=1e-12)
    plain = make_estimator(AutoencoderTransformer, **params).fit(X_train)
    cae = make_estimator(ContractiveAutoencoder, contraction_weight=0.5, **params).fit(X_train)
    # lr ~ 0: both keep the PCA start, whose encoder has orthonormal rows: the penalty is
    # n_components, for every input
    assert cae.loss_curve_[0] == pytest.approx(plain.loss_curve_[0] + 0.5 * 4, rel=1e-4)


def test_over_complete_codes_are_allowed():
    X = np.random.RandomState(0).rand(60, 5)
    est = make_estimator(ContractiveAutoencoder, n_components=8).fit(X)
    assert est.transform(X).shape == (60, 8)
