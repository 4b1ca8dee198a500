"""Sparsity penalties (sparsity=, losses.l1_activity / kl_sparsity) and code sparsity."""

import math

import numpy as np
import pytest
import torch
from conftest import make_estimator
from sklearn.datasets import load_digits

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.losses import hoyer_sparsity, kl_sparsity, l1_activity


def test_l1_activity_known_value():
    rows = l1_activity(torch.tensor([[1.0, -2.0], [0.0, 3.0]]))
    assert rows.tolist() == pytest.approx([1.5, 1.5]) and rows.mean().item() == pytest.approx(1.5)


def test_kl_sparsity_is_zero_at_target_and_grows_away_from_it():
    at_target = torch.full((4, 3), math.log(0.05 / 0.95))  # sigmoid = 0.05
    assert kl_sparsity(at_target, 0.05).item() == pytest.approx(0.0, abs=1e-6)
    half = torch.zeros(4, 3)  # sigmoid = 0.5
    expected = 0.05 * math.log(0.05 / 0.5) + 0.95 * math.log(0.95 / 0.5)
    assert kl_sparsity(half, 0.05).item() == pytest.approx(expected, rel=1e-5)


def test_hoyer_sparsity_known_values():
    a = torch.tensor([[0.0, 0.0, 5.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    assert torch.allclose(hoyer_sparsity(a), torch.tensor([1.0, 0.0, 1.0]))
    # scale-free
    assert torch.allclose(hoyer_sparsity(7 * a), hoyer_sparsity(a))


def _digits():
    return load_digits().data[:400] / 16.0


def _fit(**params):
    params = {"hidden_layer_sizes": (32,), "max_epochs": 15, "early_stopping": False, **params}
    return make_estimator(AutoencoderTransformer, **params).fit(_digits())


@pytest.mark.parametrize("init", ["pca", "random"])
@pytest.mark.parametrize("n_components", [8, 100])  # 100 > 64 features: over-complete
def test_l1_penalty_lowers_code_activation(init, n_components):
    X = _digits()
    # an over-complete code is only allowed with a penalty: a zero weight is "plain"
    plain = _fit(init=init, n_components=n_components, sparsity="l1", sparsity_weight=0.0)
    sparse = _fit(init=init, n_components=n_components, sparsity="l1", sparsity_weight=1.0)
    assert sparse.transform(X).shape == (400, n_components)
    mean_plain = plain.code_activations(X).mean()
    mean_sparse = sparse.code_activations(X).mean()
    assert mean_sparse < 0.7 * mean_plain
    assert sparse.code_sparsity(X) > plain.code_sparsity(X)


@pytest.mark.parametrize("init", ["pca", "random"])
def test_kl_penalty_pulls_mean_activation_towards_target(init):
    X = _digits()
    params = dict(init=init, n_components=100, sparsity_target=0.05)
    plain = _fit(**params, sparsity="kl", sparsity_weight=0.0)
    sparse = _fit(**params, sparsity="kl", sparsity_weight=1.0)
    # with sparsity="kl" the activations are sigmoids of the codes
    gap_plain = abs(plain.code_activations(X).mean() - 0.05)
    gap_sparse = abs(sparse.code_activations(X).mean() - 0.05)
    assert gap_sparse < 0.5 * gap_plain
    assert np.all((sparse.code_activations(X) > 0) & (sparse.code_activations(X) < 1))


def test_penalty_enters_the_training_loss():
    X = _digits()
    same = dict(n_components=100, sparsity="l1", max_epochs=1, lr=1e-12)
    a = _fit(**same, sparsity_weight=0.0)
    b = _fit(**same, sparsity_weight=2.0)
    # the untrained model is the same; the loss differs by weight * mean |codes| (scaled)
    extra = 2.0 * a.code_activations(X).mean()
    assert b.loss_curve_[0] - a.loss_curve_[0] == pytest.approx(extra, rel=0.05)


def test_code_sparsity_is_between_zero_and_one():
    X = _digits()
    est = _fit(n_components=8, max_epochs=2)
    assert 0.0 <= est.code_sparsity(X) <= 1.0
    assert est.code_activations(X).shape == (400, 8)
    assert np.all(est.code_activations(X) >= 0)


@pytest.mark.parametrize("params, match", [
    ({"sparsity": "l2"}, "sparsity"),
    ({"sparsity_target": 1.5}, "sparsity_target"),
    ({"sparsity_weight": -1.0}, "sparsity_weight"),
])
def test_invalid_sparsity_params_are_rejected(params, match):
    with pytest.raises(ValueError, match=match):
        make_estimator(AutoencoderTransformer, **params).fit(_digits())


def test_over_complete_pca_start_on_data_with_constant_features_trains():
    # digits have always-dark pixels: PCA directions of zero variance must not get a
    # code scale of 1/0 (NaN losses, and early stopping silently keeping the start)
    X = _digits()
    assert np.any(X.std(axis=0) == 0)
    est = _fit(n_components=100, sparsity="l1", sparsity_weight=1.0, max_epochs=3)
    assert np.all(np.isfinite(est.loss_curve_))
    assert est.loss_curve_[-1] < est.loss_curve_[0]
