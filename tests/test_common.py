"""The scikit-learn contract, for every public estimator of the family: the autoencoders
(``ESTIMATORS``) and the classifiers and regressors built on them (``SUPERVISED``).

scikit-learn's array API checks run in a fresh interpreter (``test_array_api_checks``):
they need ``SCIPY_ARRAY_API=1`` set before scipy's first import."""

import json
import os
import pickle
import subprocess
import sys
import traceback
from functools import partial
from unittest import SkipTest

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ESTIMATORS, SUPERVISED, make_estimator, make_supervised
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

from sklearn_ae import (
    AutoencoderClassifier,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    NeighborEmbeddingAutoencoder,
    VAETransformer,
)
from sklearn_ae.nn import default_hidden_layer_sizes


def _checked_estimators():
    for Estimator in ESTIMATORS:
        yield Estimator(max_epochs=3, init="pca", random_state=0)
        yield Estimator(max_epochs=3, init="random", hidden_layer_sizes=(8,), random_state=0)


def _expected_failed_checks(estimator):
    if type(estimator).__name__ == "NeighborEmbeddingAutoencoder":
        return {
            "check_methods_subset_invariance": (
                "score_samples is each row's share of the trustworthiness of the rows given "
                "together (its neighbours are among them), not a function of the row alone"
            ),
        }
    return {}


def _check_name(check):
    while isinstance(check, partial):
        check = check.func
    return check.__name__


def _is_array_api_check(check):
    return _check_name(check).startswith("check_array_api")


def _in_process_checks(estimators, expected_failed_checks=None):
    """``parametrize_with_checks`` over ``estimators()``, less scikit-learn's array API
    checks, which would only skip here: ``test_array_api_checks`` runs them."""
    mark = parametrize_with_checks(
        list(estimators()), expected_failed_checks=expected_failed_checks).mark
    argnames, pairs = mark.args
    kept = [pair for pair in pairs if not _is_array_api_check(getattr(pair, "values", pair)[1])]
    return pytest.mark.parametrize(argnames, kept, **mark.kwargs)


@_in_process_checks(_checked_estimators, _expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _checked_configurations():
    """Architecture, loss, sparsity and noise variants (issue 3).

    The checks feed data of 1 to 10 features, so the image configurations use
    ``image_shape=(1, -1)``: one row of as many pixels as X has features.
    """
    image = {"image_shape": (1, -1), "max_epochs": 3, "random_state": 0}
    small = {"hidden_layer_sizes": (8,), "max_epochs": 3, "random_state": 0}
    yield AutoencoderTransformer(architecture="conv", **image)
    yield AutoencoderTransformer(architecture="conv", init="random", **image)
    yield AutoencoderTransformer(loss="ssim", **{**small, **image})
    yield AutoencoderTransformer(sparsity="l1", n_components=6, **small)
    yield AutoencoderTransformer(sparsity="kl", init="random", n_components=6, **small)
    yield DenoisingAutoencoder(noise="masking", init="random", sparsity="l1", **small)
    yield DenoisingAutoencoder(noise="salt_and_pepper", architecture="conv", **image)


@_in_process_checks(_checked_configurations)
def test_sklearn_compatible_configuration(estimator, check):
    check(estimator)


# ----------------------------------------------------------------- composition
def _two_latent_factors(n_samples=120, seed=0):
    """8 features driven by two latent factors of equal size, plus noise."""
    rng = np.random.RandomState(seed)
    return rng.randn(n_samples, 2) @ rng.randn(2, 8) + 0.05 * rng.randn(n_samples, 8)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_grid_search_over_n_components_without_y(Estimator):
    X = _two_latent_factors()
    pipe = make_pipeline(StandardScaler(), make_estimator(Estimator, max_epochs=2))
    name = pipe.steps[-1][0]
    search = GridSearchCV(pipe, {f"{name}__n_components": [1, 2]}, cv=2, n_jobs=2)
    search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    if not issubclass(Estimator, (VAETransformer, NeighborEmbeddingAutoencoder)):
        # negative reconstruction errors (the VAE's ELBO, a log-density, may be positive;
        # the neighbour embedding's score is a trustworthiness, in [0, 1])
        assert np.all(scores <= 0)
    # the data has two latent factors: one component explains about half of it
    assert search.best_params_ == {f"{name}__n_components": 2}
    assert scores[1] > scores[0]
    assert search.best_estimator_.transform(X).shape == (120, 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pipeline_with_classifier_on_digits(Estimator):
    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_test, y_test = X[:500], y[:500], X[1000:1300], y[1000:1300]
    pipe = make_pipeline(
        StandardScaler(),
        make_estimator(Estimator, n_components=10, hidden_layer_sizes=(32,)),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X_train, y_train)
    # PCA(10) in the same pipeline scores about 0.9; chance is 0.1. The neighbour
    # embedding starts from random weights (its default) and has 3 epochs at the suite's
    # rate to bend them into a map: a lower bar (tests/test_neighbors.py checks its maps)
    low = 0.6 if Estimator is NeighborEmbeddingAutoencoder else 0.8
    assert pipe.score(X_test, y_test) > low
    assert pipe[:-1].transform(X_test).shape == (300, 10)


# ------------------------------------------------------------------ parameters
def _user_params():
    return dict(
        n_components=3,
        hidden_layer_sizes=[12, 6],
        activation="tanh",
        init="random",
        max_epochs=2,
        batch_size=16,
        lr=5e-3,
        optimizer=torch.optim.SGD,
        early_stopping=False,
        validation_fraction=0.2,
        n_iter_no_change=4,
        tol=1e-3,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_keeps_params(Estimator, X_small):
    est = Estimator(**_user_params()).fit(X_small)
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert cloned.get_params()["optimizer"] is torch.optim.SGD
    assert not hasattr(cloned, "net_")
    assert not hasattr(cloned, "n_features_in_")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("early_stopping", [True, False])
def test_fit_does_not_write_into_params(Estimator, early_stopping, X_small):
    rng = np.random.RandomState(0)
    callbacks = []
    params = {**_user_params(), "early_stopping": early_stopping}
    params.update(hidden_layer_sizes=None, random_state=rng, callbacks=callbacks)
    est = Estimator(**params)
    before = est.get_params()
    est.fit(X_small)
    after = est.get_params()
    assert after == before
    # objects are the user's own, not resolved or copied versions
    assert after["random_state"] is rng
    assert after["callbacks"] is callbacks and callbacks == []
    assert after["hidden_layer_sizes"] is None and after["device"] == "auto"
    # the resolved values live in fitted attributes instead
    expected = default_hidden_layer_sizes(5, est.n_components, None, 60 * 5)
    if Estimator is NeighborEmbeddingAutoencoder:  # five of the first width, at most 128
        expected = (min(128, expected[0]),) * 5
    assert est.hidden_layer_sizes_ == expected
    assert est.device_ in ("cpu", "cuda")


# ---------------------------------------------------------------------- pickle
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("init", ["pca", "random"])
def test_pickle_round_trip_is_bit_identical(Estimator, init, X_small, tmp_path):
    est = make_estimator(Estimator, init=init).fit(X_small)
    Z = est.transform(X_small)
    R = est.inverse_transform(Z)
    S = est.score_samples(X_small)

    from_pickle = pickle.loads(pickle.dumps(est))
    joblib.dump(est, tmp_path / "est.joblib")
    from_joblib = joblib.load(tmp_path / "est.joblib")

    for loaded in (from_pickle, from_joblib):
        assert_array_equal(loaded.transform(X_small), Z)
        assert_array_equal(loaded.inverse_transform(Z), R)
        assert_array_equal(loaded.score_samples(X_small), S)
        assert loaded.get_params() == est.get_params()
        assert loaded.n_iter_ == est.n_iter_
        assert_array_equal(loaded.loss_curve_, est.loss_curve_)


def _leaves(obj):
    if isinstance(obj, dict):
        return [leaf for value in obj.values() for leaf in _leaves(value)]
    if isinstance(obj, (list, tuple)):
        return [leaf for value in obj for leaf in _leaves(value)]
    return [obj]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickled_state_is_numpy_arrays_and_plain_values(Estimator, X_small):
    # what pickle, joblib and skops store: no torch or skorch object, so it loads on any
    # device and skops can hold it
    est = make_estimator(Estimator).fit(X_small)
    state = est.__getstate__()
    plain = (np.ndarray, np.generic, str, int, float, bool, type(None))
    assert {type(leaf) for leaf in _leaves(state) if not isinstance(leaf, plain)} == set()
    assert set(state["net_"]["module_state"]) == set(est.net_.module_.state_dict())
    assert "net_" in vars(est)  # pickling leaves the estimator as it was


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_torch_weights_only_load_refuses_a_pickled_estimator(X_small, tmp_path):
    # a pickle is code: torch's safe loader must keep refusing it, by its class (pickle
    # protocol 2, the one that loader reads) or by its protocol (joblib)
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    with open(tmp_path / "est.pkl", "wb") as f:
        pickle.dump(est, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="AutoencoderTransformer"):
        torch.load(tmp_path / "est.pkl", weights_only=True)
    joblib.dump(est, tmp_path / "est.joblib")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "est.joblib", weights_only=True)


def test_state_holding_the_net_itself_still_loads(X_small):
    # pickles written before the state became plain hold the skorch net itself
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    old = AutoencoderTransformer.__new__(AutoencoderTransformer)
    old.__setstate__(dict(vars(est)))
    assert old.net_ is est.net_
    assert_array_equal(old.transform(X_small), est.transform(X_small))


def test_pickle_from_before_a_parameter_existed_loads_with_its_default(X_small):
    # a DenoisingAutoencoder pickled before noise_units was added
    est = make_estimator(DenoisingAutoencoder).fit(X_small)
    state = est.__getstate__()
    del state["noise_units"]
    old = DenoisingAutoencoder.__new__(DenoisingAutoencoder)
    old.__setstate__(state)
    assert old.get_params()["noise_units"] == "rms"
    assert_array_equal(old.transform(X_small), est.transform(X_small))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickled_model_keeps_training_with_warm_start(Estimator, X_small):
    est = make_estimator(Estimator, warm_start=True, early_stopping=False, max_epochs=2)
    est.fit(X_small)
    loaded = pickle.loads(pickle.dumps(est))
    loaded.fit(X_small)
    assert loaded.n_iter_ == 4
    assert est.n_iter_ == 2


def test_optimizer_changed_after_fit_warm_starts_fresh_after_pickling(X_small):
    # the stored optimizer state belongs to the fitted kind (Adam): an SGD asked for
    # since then starts without it instead of failing on Adam's moments
    est = make_estimator(AutoencoderTransformer, optimizer="adam", warm_start=True,
                         early_stopping=False, max_epochs=2).fit(X_small)
    est.set_params(optimizer="sgd")
    loaded = pickle.loads(pickle.dumps(est))
    assert isinstance(loaded.net_.optimizer_, torch.optim.SGD)
    assert loaded.net_.optimizer_.state_dict()["state"] == {}
    loaded.fit(X_small)
    assert loaded.n_iter_ == 4


# ------------------------------------------------------------- feature names
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_set_output_pandas(Estimator, X_small):
    est = make_estimator(Estimator, n_components=3).set_output(transform="pandas")
    Z = est.fit_transform(X_small)
    prefix = Estimator.__name__.lower()
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == [f"{prefix}0", f"{prefix}1", f"{prefix}2"]
    assert Z.dtypes.unique().tolist() == [np.float32]
    assert_array_equal(Z.to_numpy(), est.set_output(transform="default").transform(X_small))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_feature_names_in_from_dataframe(Estimator, X_small):
    columns = [f"col_{i}" for i in range(X_small.shape[1])]
    df = pd.DataFrame(X_small, columns=columns)
    est = make_estimator(Estimator, n_components=2).fit(df)
    assert_array_equal(est.feature_names_in_, columns)
    prefix = Estimator.__name__.lower()
    assert_array_equal(est.get_feature_names_out(), [f"{prefix}0", f"{prefix}1"])
    Z = est.transform(df)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert_array_equal(est.transform(X_small), Z)
    with pytest.raises(ValueError, match="col_0"):
        est.transform(df.rename(columns={"col_0": "other"}))


# ------------------------------------------------- classifiers and regressors
def _checked_supervised():
    # a DenoisingAutoencoder may have codes wider than the checks' data (1 to 10 features)
    def autoencoder():
        return DenoisingAutoencoder(
            n_components=10, hidden_layer_sizes=(8,), max_epochs=3, random_state=0
        )

    for Estimator in SUPERVISED:
        yield Estimator(autoencoder(), max_epochs=3, random_state=0)
    # a hidden layer starts at random, not at a logistic regression: it needs more steps
    # to pass check_classifiers_train
    yield AutoencoderClassifier(
        autoencoder(), freeze_encoder=True, head_hidden_layer_sizes=(8,), early_stopping=True,
        max_epochs=30, lr=1e-2, random_state=0,
    )


def _expected_failures(estimator):
    if isinstance(estimator, AutoencoderClassifier):
        return {
            "check_classifiers_classes": (
                "the check's labels {-1, 1} are one class and the unlabeled mark here, as in "
                "sklearn.semi_supervised, whose classifiers the check exempts by name"
            )
        }
    return {}


@_in_process_checks(_checked_supervised, _expected_failures)
def test_sklearn_compatible_supervised(estimator, check):
    check(estimator)


def _hidden_factor(n_samples=160, seed=0):
    """8 features from a strong and a weak latent factor; the class is the weak one's sign,
    so one code (PCA's strong direction) cannot predict it and two can."""
    rng = np.random.RandomState(seed)
    z = rng.randn(n_samples, 2) * np.array([3.0, 1.0])
    X = z @ np.linalg.qr(rng.randn(8, 8))[0][:2] + 0.05 * rng.randn(n_samples, 8)
    return X, (z[:, 1] > 0).astype(int)


@pytest.mark.parametrize("Estimator", SUPERVISED)
def test_grid_search_over_pretraining_and_fine_tuning(Estimator):
    X, y = _hidden_factor()
    ae = make_estimator(AutoencoderTransformer, max_epochs=5)
    pipe = make_pipeline(StandardScaler(), make_supervised(Estimator, ae, max_epochs=5))
    name = pipe.steps[-1][0]
    grid = {f"{name}__autoencoder__n_components": [1, 2], f"{name}__lr": [1e-3, 3e-3]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert search.best_params_[f"{name}__autoencoder__n_components"] == 2
    best = search.best_estimator_[-1]
    assert best.autoencoder_.n_components == 2 and best.lr == search.best_params_[f"{name}__lr"]


def test_semi_supervised_classifier_in_a_pipeline():
    X, y = load_digits(return_X_y=True)
    y_few = y[:1000].copy()
    y_few[200:] = -1
    ae = make_estimator(AutoencoderTransformer, n_components=16, hidden_layer_sizes=(32,))
    pipe = make_pipeline(StandardScaler(), make_supervised(AutoencoderClassifier, ae))
    pipe.fit(X[:1000], y_few)
    # 200 labels: a logistic regression on the pixels scores about 0.85; chance is 0.1
    assert pipe.score(X[1000:1300], y[1000:1300]) > 0.8
    assert pipe[-1].autoencoder_.n_features_in_ == 64


@pytest.mark.parametrize("Estimator", SUPERVISED)
def test_supervised_pickle_round_trip(Estimator, X_small):
    y = (X_small[:, 0] > 1).astype(int)
    est = make_supervised(Estimator).fit(X_small, y)
    for loaded in (pickle.loads(pickle.dumps(est)), clone(est).fit(X_small, y)):
        assert_array_equal(loaded.predict(X_small), est.predict(X_small))
        assert_array_equal(loaded.transform(X_small), est.transform(X_small))
    assert clone(est).get_params()["autoencoder"] is not est.autoencoder
    assert not hasattr(est.autoencoder, "net_")  # the parameter is never fitted in place


def test_supervised_pickle_keeps_no_fine_tuning_optimizer_state(X_small):
    # without a warm start nothing could continue it; the autoencoder inside keeps its own
    y = (X_small[:, 0] > 1).astype(int)
    est = make_supervised(AutoencoderClassifier).fit(X_small, y)
    state = est.__getstate__()
    assert state["net_"]["optimizer_state"] is None
    assert state["autoencoder_"].__getstate__()["net_"]["optimizer_state"] is not None
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.net_.optimizer_.state_dict()["state"] == {}
    assert_array_equal(loaded.predict_proba(X_small), est.predict_proba(X_small))


@pytest.mark.parametrize("Estimator", SUPERVISED)
def test_supervised_set_output_and_feature_names(Estimator, X_small):
    columns = [f"col_{i}" for i in range(X_small.shape[1])]
    df = pd.DataFrame(X_small, columns=columns)
    y = (X_small[:, 0] > 1).astype(int)
    est = make_supervised(Estimator).set_output(transform="pandas").fit(df, y)
    assert_array_equal(est.feature_names_in_, columns)
    Z = est.transform(df)
    prefix = Estimator.__name__.lower()
    assert isinstance(Z, pd.DataFrame) and list(Z.columns) == [f"{prefix}{i}" for i in range(3)]
    assert est.predict(df).shape == (60,)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(X_small)
    with pytest.raises(ValueError, match="col_0"):
        est.predict(df.rename(columns={"col_0": "other"}))


# ------------------------------------------------------------------- array API
# The estimators the checks above run over, with the checks each is expected to fail
_CHECKED = {
    "estimator": (_checked_estimators, _expected_failed_checks),
    "configuration": (_checked_configurations, lambda estimator: {}),
    "supervised": (_checked_supervised, _expected_failures),
}
_RESULT = "array-api-check: "


def _namespaces_needed(check):
    """The (namespace, device) pairs a check's arrays are made in."""
    keywords = {}
    while isinstance(check, partial):
        keywords = {**check.keywords, **keywords}
        check = check.func
    pairs = [keywords.get(key) for key in ("X_ns_and_device", "other_ns_and_device")]
    pairs.append((keywords.get("array_namespace"), keywords.get("device_name")))
    return [list(pair) for pair in pairs if pair and pair[0]], keywords


def _array_api_outcome(check, estimator, reasons):
    """``(outcome, detail)`` of one array API check: passed, skipped or failed, or xfailed
    and xpassed for the checks with a written reason."""
    name = _check_name(check)
    try:
        check(estimator)
        return ("xpassed", reasons[name]) if name in reasons else ("passed", "")
    except SkipTest as exc:
        return "skipped", str(exc)
    except Exception:
        return (("xfailed", reasons[name]) if name in reasons
                else ("failed", traceback.format_exc()[-2000:]))


def _report_array_api_checks():
    """In an interpreter started with SCIPY_ARRAY_API=1: run every array API check that
    scikit-learn yields for the estimators of every family and print each outcome as
    JSON."""
    for family, (estimators, expected_failed_checks) in _CHECKED.items():
        for estimator in estimators():
            reasons = expected_failed_checks(estimator)
            for est, check in estimator_checks_generator(estimator, legacy=True):
                if not _is_array_api_check(check):
                    continue
                needs, keywords = _namespaces_needed(check)
                outcome, detail = _array_api_outcome(check, est, reasons)
                result = {"id": f"[{family}] {estimator!r}-{_check_name(check)}({keywords})",
                          "family": family, "estimator": repr(estimator),
                          "outcome": outcome, "detail": detail, "needs": needs}
                print(_RESULT + json.dumps(result, default=str), flush=True)


def _runs_here(namespace, device):
    """Whether the array API checks in ``namespace`` on ``device`` must run: NumPy,
    array_api_strict (the ``test`` extra), torch on the CPU and on CUDA where there is a
    device. The others (CuPy, dpnp, MPS, XPU) skip for a library or device missing here."""
    if namespace == "torch":
        return device == "cpu" or (device == "cuda" and torch.cuda.is_available())
    return namespace in ("numpy", "array_api_strict")


def _namespaces_passed(results):
    """``{(family, estimator's repr): namespaces}``: where each estimator checked passed
    the array API checks."""
    passed = {(family, repr(estimator)): set()
              for family, (estimators, _) in _CHECKED.items() for estimator in estimators()}
    for result in results:
        if result["outcome"] == "passed":
            passed[result["family"], result["estimator"]].update(
                pair[0] for pair in result["needs"])
    return passed


def test_array_api_checks():
    # every estimator the in-process runs check, with every array API check they leave
    # out; one interpreter for all the families (one start, one import of the stack)
    code = "import test_common; test_common._report_array_api_checks()"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=os.path.dirname(__file__),
        env={**os.environ, "SCIPY_ARRAY_API": "1"}, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line[len(_RESULT):]) for line in done.stdout.splitlines()
               if line.startswith(_RESULT)]
    wrong = [
        result for result in results
        if result["outcome"] in ("failed", "xpassed") or (
            result["outcome"] == "skipped" and all(_runs_here(*pair) for pair in result["needs"]))
    ]
    assert not wrong, "\n".join(f"{r['id']}: {r['outcome']}: {r['detail']}" for r in wrong)
    # every estimator claims array API support (its tags) and passes the checks in each
    # namespace that runs here
    short = [f"[{family}] {estimator}: passed in {sorted(namespaces)} only"
             for (family, estimator), namespaces in _namespaces_passed(results).items()
             if not namespaces >= {"numpy", "array_api_strict", "torch"}]
    assert not short, "\n".join(short)
