"""AutoencoderTransformer (sklearn_ae/_autoencoder.py): what the model computes.

The PCA starting point, improvement over PCA on curved data, training actually moving the
weights, and units handled for raw data.
"""

import numpy as np
import pytest
import torch
from conftest import Snapshot, initial_weights, make_arc, make_estimator
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.datasets import load_mnist_10k


def _pca_reconstruction(pca, X):
    return pca.inverse_transform(pca.transform(X))


def _mse(X, R):
    return float(np.mean((np.asarray(X, dtype=np.float64) - R) ** 2))


def _untrained(**params):
    """A model fitted with a step so small that its weights are the initial ones."""
    params = {"max_epochs": 1, "lr": 1e-12, "early_stopping": False, **params}
    return make_estimator(AutoencoderTransformer, **params)


def _ill_scaled_data(n_samples=150, seed=0):
    """6 correlated features of scales 1e-3 .. 1e4 and offsets up to 1e5."""
    rng = np.random.RandomState(seed)
    latent = rng.randn(n_samples, 3) @ rng.randn(3, 6) + 0.3 * rng.randn(n_samples, 6)
    return latent * np.logspace(-3, 4, 6) + np.logspace(0, 5, 6)


# ---------------------------------------------------------------- PCA start
@pytest.mark.parametrize("n_components", [1, 3])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_untrained_model_is_pca(n_components, activation):
    rng = np.random.RandomState(0)
    X = rng.randn(150, 6) * np.array([5, 3, 2, 1, 0.5, 0.1]) @ np.linalg.qr(rng.randn(6, 6))[0]
    X = X * 100 + 1000
    est = _untrained(n_components=n_components, activation=activation).fit(X)
    pca = PCA(n_components=n_components, svd_solver="full").fit(X)

    Z = est.transform(X)
    scores = pca.transform(X)
    assert_allclose(Z, scores, rtol=0, atol=1e-5 * np.abs(scores).max())
    R = est.inverse_transform(Z)
    R_pca = _pca_reconstruction(pca, X)
    assert_allclose(R, R_pca, rtol=0, atol=1e-5 * np.abs(X).max())
    assert_allclose(est.score_samples(X), -np.mean((X - R_pca) ** 2, axis=1), rtol=1e-3)
    # decoding PCA's own scores gives PCA's reconstruction too
    assert_allclose(est.inverse_transform(scores), R_pca, rtol=0, atol=1e-5 * np.abs(X).max())


def test_untrained_over_complete_model_extends_pca_with_zeros(X_small):
    # over-complete codes need a penalty; a zero weight keeps the start pure PCA
    est = _untrained(n_components=7, sparsity="l1", sparsity_weight=0.0).fit(X_small)
    pca = PCA(svd_solver="full").fit(X_small)  # all 5 components
    Z = est.transform(X_small)
    assert Z.shape == (60, 7)
    assert_allclose(Z[:, :5], pca.transform(X_small), rtol=0, atol=1e-5)
    assert_allclose(Z[:, 5:], 0, atol=1e-6)
    # a full set of components reconstructs exactly
    assert_allclose(est.inverse_transform(Z), X_small, rtol=0, atol=1e-5)


@pytest.mark.parametrize("max_epochs", [1, 3])
def test_linear_data_is_reconstructed_exactly_with_pca_init(max_epochs, X_low_rank):
    # rank-3 data, 3 components: the PCA start is already perfect, and early stopping must
    # not trade it for anything training finds
    est = make_estimator(AutoencoderTransformer, n_components=3, max_epochs=max_epochs)
    R = est.fit(X_low_rank).inverse_transform(est.transform(X_low_rank))
    assert est.best_epoch_ == 0
    centred = X_low_rank - X_low_rank.mean(axis=0)
    assert _mse(X_low_rank, R) < 1e-9 * np.mean(centred**2)


def test_linear_data_is_reconstructed_after_training_with_random_init(X_low_rank):
    est = make_estimator(
        AutoencoderTransformer,
        n_components=3,
        init="random",
        activation="identity",
        hidden_layer_sizes=(8,),
        lr=1e-2,
        max_epochs=60,
        early_stopping=False,
        weight_decay=0.0,  # decay would pull an exact linear fit towards smaller weights
    )
    R = est.fit(X_low_rank).inverse_transform(est.transform(X_low_rank))
    centred = X_low_rank - X_low_rank.mean(axis=0)
    assert _mse(X_low_rank, R) < 1e-3 * np.mean(centred**2)


@pytest.mark.parametrize("lr", [1e3, 10.0])
def test_early_stopping_keeps_pca_when_training_diverges(lr, X_small):
    est = make_estimator(
        AutoencoderTransformer, n_components=2, lr=lr, n_iter_no_change=2, max_epochs=10
    )
    est.fit(X_small)
    assert est.best_epoch_ == 0
    # every epoch was far worse (or not finite at all)
    assert not np.any(est.validation_loss_curve_ <= 1e3)
    pca = PCA(n_components=2, svd_solver="full").fit(X_small)
    assert_allclose(est.transform(X_small), pca.transform(X_small), rtol=0, atol=1e-4)
    pca_error = _mse(X_small, _pca_reconstruction(pca, X_small))
    assert -est.score(X_small) == pytest.approx(pca_error, rel=1e-4)


# ------------------------------------------------------------ beyond PCA
@pytest.mark.parametrize("init", ["pca", "random"])
def test_held_out_error_below_pca_on_curved_data(init):
    X_train, X_test = make_arc(seed=0), make_arc(n_samples=200, seed=1)
    pca = PCA(n_components=1).fit(X_train)
    pca_error = _mse(X_test, _pca_reconstruction(pca, X_test))
    est = make_estimator(
        AutoencoderTransformer,
        n_components=1,
        init=init,
        hidden_layer_sizes=(32,),
        lr=1e-2,
        max_epochs=10,
    ).fit(X_train)
    # PCA's one component misses the curvature; the autoencoder's does not
    assert -est.score(X_test) < 0.2 * pca_error
    assert est.best_epoch_ > 0


def test_held_out_error_below_pca_on_digits():
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = X[:600], X[1200:1500]
    pca = PCA(n_components=8).fit(X_train)
    pca_error = _mse(X_test, _pca_reconstruction(pca, X_test))
    est = make_estimator(
        AutoencoderTransformer, n_components=8, hidden_layer_sizes=(64,), max_epochs=5, lr=3e-3
    ).fit(X_train)
    assert -est.score(X_test) < pca_error


def test_one_step_changes_random_init_weights(X_small):
    est = make_estimator(
        AutoencoderTransformer,
        init="random",
        max_epochs=1,
        batch_size=60,
        early_stopping=False,
        callbacks=[Snapshot()],
    ).fit(X_small)
    before = initial_weights(est)
    after = est.net_.module_.state_dict()
    assert est.n_iter_ == 1
    for name, value in after.items():
        moved = (value - before[name]).abs() > 1e-4  # one Adam step moves a weight by ~lr
        # every tensor moves; only inputs of never-active ReLU units may stay put
        assert moved.float().mean() > 0.5, name


def test_one_step_grows_the_residual_path_of_pca_init(X_small):
    est = make_estimator(
        AutoencoderTransformer,
        max_epochs=1,
        batch_size=60,
        early_stopping=False,
        callbacks=[Snapshot()],
    ).fit(X_small)
    before = initial_weights(est)
    module = est.net_.module_
    for path in ("encoder", "decoder"):
        last = len(getattr(module, path).nonlinear) - 1
        for kind in ("weight", "bias"):
            name = f"{path}.nonlinear.{last}.{kind}"
            assert torch.all(before[name] == 0), name  # starts at zero...
            assert torch.count_nonzero(module.state_dict()[name]) > 0, name  # ...then grows
    pca = PCA(n_components=2, svd_solver="full").fit(X_small)
    assert not np.allclose(est.transform(X_small), pca.transform(X_small), atol=1e-4)


# ------------------------------------------------------------ units
def test_raw_pixels_train_in_original_units():
    X_raw, _ = load_mnist_10k(return_X_y=True, as_float=False)
    X = X_raw[:300]
    X_test = X_raw[8000:8200]
    assert X.dtype == np.uint8 and X.max() == 255
    est = make_estimator(
        AutoencoderTransformer, n_components=10, hidden_layer_sizes=(32,), max_epochs=3
    ).fit(X)
    Z = est.transform(X_test)
    R = est.inverse_transform(Z)
    assert np.all(np.isfinite(Z)) and np.all(np.isfinite(R))
    # reconstructions are grey levels, not standardised values
    R_mean = est.inverse_transform(est.transform(X.mean(axis=0, keepdims=True)))[0]
    assert_allclose(R_mean, X.mean(axis=0), rtol=0, atol=5)
    assert R.max() > 100
    pca = PCA(n_components=10).fit(X)
    pca_error = _mse(X_test, _pca_reconstruction(pca, X_test))
    assert _mse(X_test, R) < 1.05 * pca_error
    assert -est.score(X_test) == pytest.approx(_mse(X_test, R), rel=1e-5)


def test_ill_scaled_columns_train_in_original_units():
    X, X_test = _ill_scaled_data(seed=0), _ill_scaled_data(seed=1)
    est = make_estimator(AutoencoderTransformer, n_components=3, max_epochs=5).fit(X)
    Z = est.transform(X_test)
    R = est.inverse_transform(Z)
    assert np.all(np.isfinite(Z)) and np.all(np.isfinite(R))
    # the training mean reconstructs to itself, to within a small part of the data's spread
    R_mean = est.inverse_transform(est.transform(X.mean(axis=0, keepdims=True)))[0]
    assert_allclose(R_mean, X.mean(axis=0), rtol=0, atol=0.01 * est.scale_)
    pca = PCA(n_components=3).fit(X)
    pca_error = _mse(X_test, _pca_reconstruction(pca, X_test))
    assert _mse(X_test, R) < 1.05 * pca_error


# ------------------------------------------------------------ bce
def test_bce_on_unit_interval_data():
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test = X[:400], X[1000:1200]
    est = make_estimator(
        AutoencoderTransformer, loss="bce", n_components=8, hidden_layer_sizes=(32,),
        max_epochs=5, lr=3e-3,
    ).fit(X_train)
    assert np.all(np.diff(est.loss_curve_) < 0)  # the cross-entropy goes down
    R = est.inverse_transform(est.transform(X_test))
    assert R.dtype == np.float32
    assert R.min() >= 0 and R.max() <= 1
    # far better than predicting the mean image
    assert _mse(X_test, R) < 0.5 * _mse(X_test, X_train.mean(axis=0))
    assert est.score(X_test) == pytest.approx(-_mse(X_test, R), rel=1e-5)


def test_bce_accepts_the_interval_ends():
    X = np.random.RandomState(0).randint(0, 2, size=(40, 6)).astype(float)
    est = make_estimator(AutoencoderTransformer, loss="bce").fit(X)
    assert est.transform(X).shape == (40, 2)


# ------------------------------------------------- variance explained, beside PCA's
def test_explained_variance_of_kept_pca_state_equals_pca(X_low_rank):
    # training cannot beat PCA on exactly linear data, so the PCA start is kept and the
    # fraction of variance reconstructed is PCA's own (all of it, with 3 of 3 directions)
    X = X_low_rank + np.random.RandomState(1).randn(*X_low_rank.shape)  # full rank now
    est = make_estimator(AutoencoderTransformer, n_components=2, lr=1e3, max_epochs=3)
    est.fit(X)
    assert est.best_epoch_ == 0
    pca = PCA(n_components=2).fit(X)
    train = np.ones(len(X), dtype=bool)
    # the attribute reports the training rows only; recompute PCA's ratio on the same rows
    valid = est.net_.train_split.valid_idx
    train[valid] = False
    expected = 1 - _mse(X[train], _pca_reconstruction(pca, X[train])) / np.mean(
        (X[train] - X.mean(axis=0)) ** 2
    )
    assert est.train_explained_variance_ratio_ == pytest.approx(expected, rel=1e-5)
    assert 0 < est.validation_explained_variance_ratio_ < 1


def test_explained_variance_grows_beyond_pca_on_curved_data():
    X = make_arc(seed=0)
    pca = PCA(n_components=1).fit(X)
    est = make_estimator(
        AutoencoderTransformer, n_components=1, hidden_layer_sizes=(32,), lr=1e-2,
        max_epochs=10,
    ).fit(X)
    assert est.best_epoch_ > 0
    assert est.train_explained_variance_ratio_ > pca.explained_variance_ratio_.sum()
    assert est.validation_explained_variance_ratio_ > pca.explained_variance_ratio_.sum()


def test_explained_variance_without_validation_split(X_small):
    est = make_estimator(AutoencoderTransformer, early_stopping=False).fit(X_small)
    assert est.validation_explained_variance_ratio_ is None
    assert est.train_explained_variance_ratio_ == pytest.approx(
        1 - np.mean((X_small - est.inverse_transform(est.transform(X_small))) ** 2)
        / np.mean((X_small - X_small.mean(axis=0)) ** 2),
        rel=1e-4,
    )
