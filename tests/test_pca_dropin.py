"""The family where PCA stood: the PCA attributes client code reads."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from sklearn_ae import AutoencoderTransformer, load, save
from tests.conftest import ESTIMATORS, make_arc, make_estimator


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_n_components_and_n_samples_as_pca_has_them(Estimator):
    X = make_arc(90)
    est = make_estimator(Estimator, n_components=2).fit(X)
    assert (est.n_components_, est.n_samples_, est.n_features_in_) == (2, 90, 8)
    # the fitted width, not the parameter as changed afterwards
    est.set_params(n_components=1)
    assert est.n_components_ == 2
    assert est.transform(X).shape == (90, 2)
    assert est.get_feature_names_out().shape == (2,)


def test_partial_fit_counts_every_row_seen_and_fit_starts_over():
    X = make_arc(90)
    est = make_estimator(AutoencoderTransformer, n_components=1)
    est.partial_fit(X[:40]).partial_fit(X[40:])
    assert est.n_samples_ == 90
    assert est.fit(X[:30]).n_samples_ == 30


def test_saved_models_keep_n_components_and_n_samples(tmp_path):
    est = make_estimator(AutoencoderTransformer, n_components=2).fit(make_arc(70))
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert (loaded.n_components_, loaded.n_samples_) == (2, 70)


@pytest.mark.parametrize(
    "name, equivalent",
    [
        ("components_", "inverse_transform"),
        ("explained_variance_ratio_", "train_explained_variance_ratio_"),
        ("explained_variance_", "train_explained_variance_ratio_"),
        ("singular_values_", "train_explained_variance_ratio_"),
    ],
)
def test_pca_only_attributes_raise_naming_the_equivalent(name, equivalent):
    est = make_estimator(AutoencoderTransformer, n_components=1).fit(make_arc(60))
    with pytest.raises(AttributeError, match=f"AutoencoderTransformer has no {name}:"):
        getattr(est, name)
    with pytest.raises(AttributeError, match=equivalent):
        getattr(est, name)
    assert not hasattr(est, name)


def test_grid_search_best_step_reports_its_n_components_():
    # scikit-learn's plot_digits_pipe reads n_components_ after its search
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    pipe = Pipeline(
        [("ae", make_estimator(AutoencoderTransformer)),
         ("logistic", LogisticRegression(max_iter=200))]
    )
    search = GridSearchCV(pipe, {"ae__n_components": [2, 5]}, cv=2).fit(X, y)
    best = search.best_estimator_.named_steps["ae"]
    assert best.n_components_ == search.best_params_["ae__n_components"]
    assert np.isfinite(search.best_score_)


# ------------------------------------------------ n_components as a fraction, whiten
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_n_components_fraction_counts_the_pca_start_as_pca_does(Estimator):
    X = load_digits().data[:300]
    est = make_estimator(Estimator, n_components=0.7, hidden_layer_sizes=None).fit(X)
    expected = PCA(n_components=0.7).fit(X).n_components_
    assert 1 < expected < X.shape[1]
    assert est.n_components_ == expected
    assert est.get_params()["n_components"] == 0.7  # resolved, not overwritten
    assert est.transform(X).shape == (300, expected)
    assert est.get_feature_names_out().shape == (expected,)
    # the default widths follow the number chosen (never narrower than the code)
    assert min(est.hidden_layer_sizes_) >= expected


def test_n_components_fraction_keeps_the_pca_start_exactly():
    # with no training step kept, the start is PCA at the number of components chosen
    X = load_digits().data[:200]
    est = make_estimator(AutoencoderTransformer, n_components=0.5, lr=1e-12).fit(X)
    pca = PCA(n_components=0.5).fit(X)
    assert est.n_components_ == pca.n_components_
    np.testing.assert_allclose(
        est.inverse_transform(est.transform(X)), pca.inverse_transform(pca.transform(X)),
        atol=1e-3 * np.abs(X).max(),
    )


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, -0.2, True])
def test_n_components_outside_integers_and_fractions_is_refused(value):
    with pytest.raises(ValueError, match="n_components"):
        make_estimator(AutoencoderTransformer, n_components=value).fit(make_arc(40))


def test_n_components_fraction_with_partial_fit_counts_on_the_first_chunk():
    X = load_digits().data[:300]
    est = make_estimator(AutoencoderTransformer, n_components=0.6)
    est.partial_fit(X[:150]).partial_fit(X[150:])
    assert est.n_components_ == PCA(n_components=0.6).fit(X[:150]).n_components_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_whiten_gives_unit_variance_codes_and_inverse_transform_undoes_it(Estimator):
    X = make_arc(120)
    plain = make_estimator(Estimator, n_components=2, early_stopping=False).fit(X)
    white = make_estimator(Estimator, n_components=2, early_stopping=False,
                           whiten=True).fit(X)
    codes = white.transform(X)
    np.testing.assert_allclose(codes.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(codes.std(axis=0), 1.0, rtol=1e-4)
    # the same network: whiten only rescales its codes, and decoding undoes that
    raw = plain.transform(X)
    np.testing.assert_allclose(codes, (raw - white.code_mean_) / white.code_std_,
                               atol=1e-4 * np.abs(codes).max())
    np.testing.assert_allclose(white.inverse_transform(codes), plain.reconstruct(X),
                               atol=1e-4 * np.abs(X).max())
    assert not np.allclose(plain.code_std_, 1.0)  # the arc's codes were not unit already


def test_whiten_can_be_switched_after_fit_like_pca():
    X = make_arc(100)
    est = make_estimator(AutoencoderTransformer, n_components=2).fit(X)
    raw = est.transform(X)
    est.set_params(whiten=True)
    np.testing.assert_allclose(est.transform(X), (raw - est.code_mean_) / est.code_std_,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("part", ["encoder", "decoder"])
def test_whitened_codes_survive_save_load_and_to_torch(part, tmp_path):
    X = make_arc(100).astype(np.float32)
    est = make_estimator(AutoencoderTransformer, n_components=2, whiten=True).fit(X)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    codes = est.transform(X)
    np.testing.assert_array_equal(loaded.transform(X), codes)
    module = est.to_torch(part)
    inputs, expected = (X, codes) if part == "encoder" else (codes, est.inverse_transform(codes))
    with torch.no_grad():
        out = module(torch.from_numpy(inputs)).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5 * np.abs(expected).max())


def test_whiten_before_a_distance_based_step_in_a_grid_search():
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline([
        ("ae", make_estimator(AutoencoderTransformer, n_components=5)),
        ("knn", KNeighborsClassifier(3)),
    ])
    search = GridSearchCV(pipe, {"ae__whiten": [False, True]}, cv=2).fit(X[:200], y[:200])
    assert search.cv_results_["param_ae__whiten"].tolist() == [False, True]
    assert search.best_estimator_.named_steps["ae"].code_std_.shape == (5,)


def test_code_activations_are_the_network_codes_whether_whitened_or_not():
    X = make_arc(100)
    est = make_estimator(AutoencoderTransformer, n_components=2, sparsity="l1").fit(X)
    plain = est.code_activations(X)
    est.set_params(whiten=True)
    np.testing.assert_allclose(est.code_activations(X), plain, rtol=1e-5, atol=1e-6)
    assert est.code_sparsity(X) == pytest.approx(est.set_params(whiten=False).code_sparsity(X))
