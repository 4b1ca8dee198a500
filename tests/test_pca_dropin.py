"""The family where PCA stood: the PCA attributes client code reads."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
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
