"""AutoencoderClassifier and AutoencoderRegressor: semi-supervised fitting, fine-tuning
choices, inference, transfer, bad input. The scikit-learn contract (checks, pipelines, grid
search, pickling, feature names) is in test_common.py, save/load in test_persistence.py."""

import io

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SUPERVISED, make_estimator, make_supervised
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

import sklearn_ae
from sklearn_ae import (
    AutoencoderClassifier,
    AutoencoderRegressor,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

each_supervised = pytest.mark.parametrize("Estimator", SUPERVISED)


def _blobs(n_samples=120, n_labeled=30, seed=0):
    """Three well separated blobs in 6 dimensions; all but ``n_labeled`` rows unlabeled."""
    X, y = make_blobs(n_samples, n_features=6, centers=3, cluster_std=1.0, random_state=seed)
    y_semi = y.copy()
    y_semi[n_labeled:] = -1
    return X, y, y_semi


def _rows_per_epoch(est, kind="train"):
    """How many rows the last epoch trained on (``kind="train"``) or scored."""
    batches = est.history_[-1, "batches"]
    return sum(b[f"{kind}_batch_size"] for b in batches if f"{kind}_batch_size" in b)


def _labeled_only(Estimator):
    """Parameters that switch off every training term reading unlabeled rows."""
    terms = {"reconstruction_weight": 0.0, "consistency_weight": 0.0}
    if Estimator is AutoencoderClassifier:
        terms["entropy_weight"] = 0.0
    return terms


def _targets(Estimator, y, y_semi):
    """``y_semi`` in the estimator's convention: -1 labels, or NaN targets."""
    if Estimator is AutoencoderClassifier:
        return y_semi
    return np.where(y_semi == -1, np.nan, y.astype(float))


# ----------------------------------------------------------------- semi-supervised
@each_supervised
def test_every_row_pretrains_and_labeled_rows_fine_tune(Estimator):
    X, y, y_semi = _blobs()
    est = make_supervised(Estimator, reconstruction_weight=1.0)
    est.fit(X, _targets(Estimator, y, y_semi))
    # the autoencoder saw every row: its centring is the mean of all of them
    assert_allclose(est.autoencoder_.mean_, X.mean(axis=0))
    # the reconstruction term makes fine-tuning run over every row too
    assert _rows_per_epoch(est) == 120


@each_supervised
def test_without_terms_on_unlabeled_rows_fine_tunes_on_labeled_rows_only(Estimator):
    X, y, y_semi = _blobs()
    est = make_supervised(Estimator, **_labeled_only(Estimator))
    est.fit(X, _targets(Estimator, y, y_semi))
    assert _rows_per_epoch(est) == 30  # the labeled rows


@pytest.mark.parametrize(
    "Estimator, term",
    [(Estimator, term) for Estimator in SUPERVISED
     for term in ["reconstruction_weight", "entropy_weight", "consistency_weight"]
     if term in Estimator().get_params()],  # the regressor has no entropy term
)
def test_each_term_on_unlabeled_rows_trains_on_every_row(Estimator, term):
    X, y, y_semi = _blobs()
    est = make_supervised(Estimator, **{**_labeled_only(Estimator), term: 1.0})
    est.fit(X, _targets(Estimator, y, y_semi))
    assert _rows_per_epoch(est) == 120
    # and the term is in the training loss: a fit on the same rows and batches, with the
    # term all but off, ends elsewhere
    faint = make_supervised(Estimator, **{**_labeled_only(Estimator), term: 1e-12})
    faint.fit(X, _targets(Estimator, y, y_semi))
    assert _rows_per_epoch(faint) == 120
    assert not np.allclose(est.loss_curve_, faint.loss_curve_)


@each_supervised
def test_early_stopping_holds_out_labeled_rows(Estimator):
    X, y, y_semi = _blobs()
    est = make_supervised(Estimator, early_stopping=True, validation_fraction=0.2,
                          max_epochs=2, reconstruction_weight=1.0)
    est.fit(X, _targets(Estimator, y, y_semi))
    # 6 of the 30 labeled rows are scored; the other 114 rows train
    assert _rows_per_epoch(est, "valid") == 6
    assert _rows_per_epoch(est) == 114
    assert est.validation_loss_curve_.shape == (2,)
    assert 0 <= est.best_epoch_ <= est.n_iter_


def test_classifier_learns_from_few_labels():
    X, y, y_semi = _blobs(n_labeled=9)
    clf = make_supervised(AutoencoderClassifier, max_epochs=10).fit(X, y_semi)
    assert clf.score(X, y) > 0.95
    assert_array_equal(clf.classes_, [0, 1, 2])


def test_regressor_learns_from_few_labels():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 0.0]) + 3.0
    y_semi = y.copy()
    y_semi[40:] = np.nan
    ae = make_estimator(AutoencoderTransformer, n_components=5)
    reg = make_supervised(AutoencoderRegressor, ae, max_epochs=10).fit(X, y_semi)
    assert reg.score(X, y) > 0.9
    assert reg.predict(X).shape == (200,)


def test_regressor_multi_output():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 5)
    Y = np.c_[X[:, 0], -X[:, 1] * 10 + 100]
    Y[50:] = np.nan
    reg = make_supervised(AutoencoderRegressor).fit(X, Y)
    assert reg.n_outputs_ == 2
    assert reg.predict(X).shape == (100, 2)
    assert_allclose(reg.y_mean_, np.nanmean(Y, axis=0))


def test_head_starts_at_logistic_regression_on_the_codes():
    """A linear head starts exactly at LogisticRegression on the standardised codes."""
    X, y, y_semi = _blobs()
    clf = make_supervised(AutoencoderClassifier, early_stopping=False, lr=1e-12, max_epochs=1)
    clf.fit(X, y_semi)
    codes = clf.transform(X)
    centred = (codes - codes.mean(axis=0)) / np.sqrt(np.mean(codes.var(axis=0)))
    logistic = LogisticRegression(max_iter=1000).fit(centred[:30], y[:30])
    assert_allclose(clf.predict_proba(X), logistic.predict_proba(centred), atol=1e-4)


# ------------------------------------------------------------- the autoencoder
@pytest.mark.parametrize("Member", [AutoencoderTransformer, DenoisingAutoencoder, VAETransformer])
def test_any_member_pretrains(Member):
    X, y, y_semi = _blobs()
    ae = make_estimator(Member, n_components=3)
    clf = make_supervised(AutoencoderClassifier, ae).fit(X, y_semi)
    assert type(clf.autoencoder_) is Member
    assert clf.autoencoder is ae and not hasattr(ae, "net_")  # cloned, not fitted in place
    assert clf.transform(X).shape == (120, 3)


def test_default_autoencoder():
    X, y, y_semi = _blobs()
    clf = AutoencoderClassifier(max_epochs=2, random_state=0).fit(X, y_semi)
    assert type(clf.autoencoder_) is AutoencoderTransformer
    assert clf.autoencoder_.n_components == 6  # min(32, n_features)
    assert clf.autoencoder is None


def test_unseeded_autoencoder_is_seeded_by_the_estimator():
    X, y, y_semi = _blobs()
    ae = make_estimator(AutoencoderTransformer, n_components=3, random_state=None)
    first = make_supervised(AutoencoderClassifier, ae).fit(X, y_semi)
    second = make_supervised(AutoencoderClassifier, ae).fit(X, y_semi)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert ae.random_state is None


def test_prefit_autoencoder_is_copied_and_fine_tuned():
    X, y, y_semi = _blobs()
    ae = make_estimator(AutoencoderTransformer, n_components=3).fit(X[60:])
    before = ae.transform(X)
    clf = make_supervised(AutoencoderClassifier, FrozenEstimator(ae)).fit(X, y_semi)
    assert_array_equal(ae.transform(X), before)  # the object passed is left alone
    assert_array_equal(clf.autoencoder_.mean_, ae.mean_)  # not refitted
    assert not np.allclose(clf.transform(X), before)  # fine-tuned
    assert_array_equal(clf.transform(X), clf.autoencoder_.transform(X))


def test_freeze_encoder_keeps_the_encoder():
    X, y, y_semi = _blobs()
    ae = make_estimator(AutoencoderTransformer, n_components=3).fit(X)
    clf = make_supervised(AutoencoderClassifier, FrozenEstimator(ae), freeze_encoder=True,
                          entropy_weight=0.0, consistency_weight=0.0)
    clf.fit(X, y_semi)
    assert_array_equal(clf.transform(X), ae.transform(X))
    # only the head trained, on the labeled rows: the reconstruction term needs a
    # trainable encoder
    assert _rows_per_epoch(clf) == 30


def test_no_gradient_reaches_a_frozen_encoder():
    X, y, y_semi = _blobs()
    clf = make_supervised(AutoencoderClassifier, freeze_encoder=True).fit(X, y_semi)
    module = clf.net_.module_.train()
    out, recon, codes = module(torch.as_tensor(X[:4], dtype=torch.float32))
    assert recon is None and not codes.requires_grad
    out.sum().backward()
    assert all(p.grad is None for p in module.network.parameters())
    assert all(p.grad is not None for p in module.head.parameters())


# ------------------------------------------------------------------- inference
def test_classifier_outputs_agree():
    X, y, y_semi = _blobs()
    clf = make_supervised(AutoencoderClassifier).fit(X, y_semi)
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 3) and proba.dtype == np.float64
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    logits, log_proba = clf.decision_function(X), np.log(proba)
    # softmax: logits and log-probabilities differ by one constant per row
    assert_allclose(logits - logits.mean(1, keepdims=True),
                    log_proba - log_proba.mean(1, keepdims=True), atol=1e-5)


def test_binary_decision_function_is_the_logit_of_the_second_class():
    X, y, y_semi = _blobs()
    keep = y < 2
    clf = make_supervised(AutoencoderClassifier).fit(X[keep], y_semi[keep])
    proba = clf.predict_proba(X[keep])
    assert_allclose(clf.decision_function(X[keep]), np.log(proba[:, 1] / proba[:, 0]), rtol=1e-5,
                    atol=1e-5)
    assert_array_equal(clf.predict(X[keep]), (clf.decision_function(X[keep]) > 0).astype(int))


def test_string_labels_with_unlabeled_rows():
    X, y, y_semi = _blobs()
    names = np.array(["cat", "dog", "eel"], dtype=object)[y]
    names[30:] = -1
    clf = make_supervised(AutoencoderClassifier).fit(X, names)
    assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    assert set(clf.predict(X)) <= {"cat", "dog", "eel"}


@each_supervised
def test_to_torch_is_the_whole_network(Estimator):
    X, y, y_semi = _blobs()
    est = make_supervised(Estimator).fit(X, _targets(Estimator, y, y_semi))
    module = est.to_torch()
    assert not module.training
    with torch.no_grad():
        out = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    if Estimator is AutoencoderClassifier:
        assert_allclose(torch.softmax(torch.as_tensor(out), 1).numpy(), est.predict_proba(X),
                        atol=1e-5)
    else:
        assert_allclose(out.ravel(), est.predict(X), rtol=1e-4, atol=1e-4)
    # a copy: training it leaves the estimator alone
    before = est.transform(X)
    for p in module.parameters():
        p.data.add_(1.0)
    assert_array_equal(est.transform(X), before)


@each_supervised
def test_same_seed_same_model(Estimator):
    X, y, y_semi = _blobs()
    targets = _targets(Estimator, y, y_semi)
    state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = make_supervised(Estimator).fit(X, targets)
    b = make_supervised(Estimator).fit(X, targets)
    assert_array_equal(a.predict(X), b.predict(X))
    assert_array_equal(a.transform(X), b.transform(X))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert_array_equal(np.random.get_state()[1], np_state)


@each_supervised
def test_fine_tuning_weights_change(Estimator):
    X, y, y_semi = _blobs()
    ae = make_estimator(AutoencoderTransformer, n_components=3).fit(X)
    est = make_supervised(Estimator, FrozenEstimator(ae), early_stopping=False)
    est.fit(X, _targets(Estimator, y, y_semi))
    pretrained = ae.net_.module_.state_dict()
    tuned = est.autoencoder_.net_.module_.state_dict()
    assert any(not torch.equal(pretrained[k], tuned[k]) for k in pretrained)


# ------------------------------------------------------------------- bad input
def _fit_classifier(y):
    """Fit on ``y`` as given (an array) or as numpy makes it from a list (an object array
    where it mixes strings and numbers)."""
    if not isinstance(y, np.ndarray):
        y = np.array(y, dtype=object if len({type(v) for v in y}) > 1 else None)
    X = np.random.RandomState(0).randn(len(y), 4)
    return make_supervised(AutoencoderClassifier).fit(X, y)


@pytest.mark.parametrize(
    "y, match",
    [
        ([-1] * 20, r"no labeled rows: all 20 labels are -1"),
        ([3] * 10 + [-1] * 10, r"single class \(3\)"),
        (["a", 1] * 10, r"mixes label types: strings \(e.g. 'a'\) and non-strings \(e.g. 1\)"),
        ([0.0, 1.0, np.nan, 1.0] * 5, r"y contains NaN \(rows \[2, 6, 10, 14, 18\]\)"),
        (np.array(["a", "b", "-1", "a"] * 5), r"'-1'.*object array"),
        ([0.5, 1.5, 2.25, 3.0] * 5, r"Unknown label type"),
    ],
    ids=["all-unlabeled", "one-class", "mixed-types", "nan", "string-minus-one", "continuous"],
)
def test_classifier_bad_targets(y, match):
    with pytest.raises(ValueError, match=match):
        _fit_classifier(y)


def _string_labels_from_pandas():
    # pandas' own string column, as read_csv gives it
    return pd.read_csv(io.StringIO("label\n" + "\n".join(["cat", "dog", "-1"] * 7)))["label"]


@pytest.mark.parametrize(
    "make_y",
    [
        _string_labels_from_pandas,
        lambda: _string_labels_from_pandas().to_numpy(),
        lambda: _string_labels_from_pandas().astype(object),
        lambda: _string_labels_from_pandas().to_numpy().astype(object),
        lambda: list(_string_labels_from_pandas()),
        lambda: np.array(list(_string_labels_from_pandas())),
    ],
    ids=["series", "series-to-numpy", "object-series", "object-array", "list", "unicode-array"],
)
def test_string_minus_one_is_refused_in_every_container(make_y):
    # '-1' from a CSV is a class, not the unlabeled mark: every container gets the same
    # answer (pandas' string columns and object arrays made it a fourth class)
    y = make_y()
    X = np.random.RandomState(0).randn(len(y), 4)
    with pytest.raises(ValueError, match=r"strings holding '-1'.*object array"):
        make_supervised(AutoencoderClassifier).fit(X, y)


@pytest.mark.parametrize("factor", [1e160, 1e-160])
def test_regressor_targets_at_extreme_scales_fit_as_scaled_copies(factor, tmp_path):
    # the squares of 1e160 overflowed: y_scale_ was inf, predict gave NaN, and the saved
    # file could not be loaded
    X = np.random.RandomState(0).randn(60, 4)
    y = np.random.RandomState(1).randn(60)
    plain = make_supervised(AutoencoderRegressor).fit(X, y)
    scaled = make_supervised(AutoencoderRegressor).fit(X, y * factor)
    assert np.isfinite(scaled.y_scale_).all() and np.isfinite(scaled.y_mean_).all()
    assert_allclose(scaled.predict(X), plain.predict(X) * factor, rtol=1e-5)
    sklearn_ae.save(scaled, tmp_path / "m.safetensors")
    assert_array_equal(sklearn_ae.load(tmp_path / "m.safetensors").predict(X), scaled.predict(X))


def test_regressor_refuses_targets_whose_spread_overflows():
    X = np.random.RandomState(0).randn(20, 4)
    y = np.r_[1e305, -1e305, np.zeros(18)]
    est = make_supervised(AutoencoderRegressor)
    with pytest.raises(ValueError, match=r"y holds targets up to 1e\+305.*Rescale y"):
        est.fit(X, y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize(
    "y, match",
    [
        ([np.nan] * 20, r"no labeled rows: all 20 targets are NaN"),
        ([[1.0, np.nan]] + [[1.0, 2.0]] * 19, r"some but not all targets of rows \[0\]"),
        ([np.inf] + [1.0] * 19, r"infinity"),
    ],
    ids=["all-unlabeled", "partly-nan", "inf"],
)
def test_regressor_bad_targets(y, match):
    X = np.random.RandomState(0).randn(20, 4)
    with pytest.raises(ValueError, match=match):
        make_supervised(AutoencoderRegressor).fit(X, np.array(y))


@each_supervised
def test_prefit_autoencoder_of_another_width(Estimator):
    X, y, y_semi = _blobs()
    ae = make_estimator(AutoencoderTransformer, n_components=3).fit(X[:, :5])
    est = make_supervised(Estimator, FrozenEstimator(ae))
    with pytest.raises(ValueError, match="fitted on 5 features, but X has 6"):
        est.fit(X, _targets(Estimator, y, y_semi))
    assert not hasattr(est, "n_features_in_")  # a failed fit leaves nothing behind


def test_data_parallel_pretraining_is_refused_before_any_fit():
    ae = make_estimator(AutoencoderTransformer, data_parallel=True)
    clf = make_supervised(AutoencoderClassifier, ae)
    X, y, _ = _blobs()
    with pytest.raises(ValueError, match="data_parallel=True.*FrozenEstimator"):
        clf.fit(X, y)
    assert not hasattr(clf, "autoencoder_")


def test_frozen_non_member_is_refused():
    X, y, y_semi = _blobs()
    frozen = FrozenEstimator(LogisticRegression().fit(X, y))
    with pytest.raises(ValueError, match="must wrap a fitted member"):
        make_supervised(AutoencoderClassifier, frozen).fit(X, y_semi)


def test_too_few_labeled_rows_for_early_stopping():
    X, y, y_semi = _blobs()
    y_one = np.full_like(y_semi, -1)
    y_one[:2] = [0, 1]
    with pytest.raises(ValueError, match=r"n_samples=2 labeled rows"):
        make_supervised(AutoencoderClassifier, early_stopping=True,
                        validation_fraction=0.9).fit(X, y_one)


def test_every_class_keeps_a_training_row():
    X, y, y_semi = _blobs()
    y_few = np.full_like(y_semi, -1)
    rows = [np.flatnonzero(y == k)[0] for k in range(3)]
    y_few[rows] = y[rows]  # one row per class: none can be held out
    clf = make_supervised(AutoencoderClassifier, early_stopping=True, validation_fraction=0.5)
    clf.fit(X, y_few)
    assert clf.validation_loss_curve_ is None  # nothing was left to hold out
    assert len(set(clf.predict(X))) > 1


def test_consistency_noise_is_relative_to_the_first_principal_axis():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 2) * np.array([5.0, 1.0])
    y = (X[:, 1] > 0).astype(int)
    ae = make_estimator(AutoencoderTransformer, n_components=2)
    clf = make_supervised(AutoencoderClassifier, ae, consistency_noise=0.5).fit(X, y)
    # scaled by the RMS around the means, the first axis has std 5 / sqrt((25 + 1) / 2)
    rms = np.sqrt(np.mean((X - X.mean(0)) ** 2))
    expected = 0.5 * np.std(X[:, 0]) / rms
    assert clf.consistency_noise_ == pytest.approx(expected, rel=0.02)
    assert clf.net_.consistency_noise == clf.consistency_noise_
    without = make_supervised(AutoencoderClassifier, ae, consistency_weight=0.0).fit(X, y)
    assert without.consistency_noise_ is None
