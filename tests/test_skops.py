"""skops persistence (``skops.io``) of the family, alone and in pipelines.

The fitted state (``__getstate__``) holds numpy arrays and plain Python values only, so skops
stores it and reports the estimator's own class as the only type to trust.
"""

import numpy as np
import pytest
from conftest import ESTIMATORS, SUPERVISED, make_estimator, make_supervised
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import AutoencoderTransformer, VAETransformer

sio = pytest.importorskip("skops.io")


def _class_path(Estimator):
    return f"{Estimator.__module__}.{Estimator.__qualname__}"


def _round_trip(obj):
    """``obj`` through skops, trusting exactly the types skops reports as untrusted,
    with those types."""
    data = sio.dumps(obj)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=untrusted), untrusted


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fitted_member_round_trips_through_skops(Estimator, X_small):
    est = make_estimator(Estimator).fit(X_small)
    Z = est.transform(X_small)

    loaded, untrusted = _round_trip(est)

    assert untrusted == [_class_path(Estimator)]
    assert type(loaded) is Estimator
    assert_array_equal(loaded.transform(X_small), Z)
    assert_array_equal(loaded.inverse_transform(Z), est.inverse_transform(Z))
    assert_array_equal(loaded.score_samples(X_small), est.score_samples(X_small))
    assert loaded.get_params() == est.get_params()
    assert_array_equal(loaded.loss_curve_, est.loss_curve_)
    assert list(loaded.history_) == list(est.history_)


@pytest.mark.parametrize("Estimator", SUPERVISED)
def test_fitted_classifier_and_regressor_round_trip_through_skops(Estimator, X_small):
    y = (X_small[:, 0] > 1).astype(int)
    est = make_supervised(Estimator).fit(X_small, y)

    loaded, untrusted = _round_trip(est)

    # the estimator and the autoencoder inside it, nothing of torch or skorch
    ae = type(est.autoencoder_)
    assert sorted(untrusted) == sorted([_class_path(Estimator), _class_path(ae)])
    assert_array_equal(loaded.predict(X_small), est.predict(X_small))
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))
    # the fine-tuning network still runs on the loaded autoencoder's network
    assert loaded.net_.module_.network is loaded.autoencoder_.net_.module_


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (AutoencoderTransformer, {"architecture": "conv", "image_shape": (6, 6),
                                  "hidden_layer_sizes": (4,)}),
        (VAETransformer, {"loss": "bce"}),
    ],
)
def test_conv_and_bce_networks_round_trip(Estimator, params):
    X = np.random.RandomState(0).uniform(0, 1, size=(40, 36))
    est = make_estimator(Estimator, n_components=3, **params).fit(X)
    loaded, untrusted = _round_trip(est)
    assert untrusted == [_class_path(Estimator)]
    assert_array_equal(loaded.transform(X), est.transform(X))
    assert_array_equal(loaded.reconstruct(X), est.reconstruct(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("step", ["warm_start", "partial_fit"])
def test_loaded_model_trains_on_exactly_as_the_original(Estimator, step, X_small):
    # the optimizer's state (Adam's moments) travels with the weights: training on
    # after loading gives, bit for bit, what training on without saving gives
    est = make_estimator(
        Estimator, optimizer="adam", warm_start=True, early_stopping=False, max_epochs=2
    ).fit(X_small)
    loaded, _ = _round_trip(est)
    for model in (est, loaded):
        if step == "warm_start":
            model.fit(X_small)
        else:
            model.partial_fit(X_small)
    assert loaded.n_iter_ == est.n_iter_ == (4 if step == "warm_start" else 3)
    assert_array_equal(loaded.loss_curve_, est.loss_curve_)
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pipeline_round_trips_trusting_only_the_member(Estimator, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    pipe = make_pipeline(
        StandardScaler(), make_estimator(Estimator, n_components=3), LogisticRegression()
    ).fit(X, y)
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)

    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [_class_path(Estimator)]
    loaded = sio.load(path, trusted=untrusted)
    assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_load_refuses_the_member_unless_trusted(X_small):
    data = sio.dumps(make_estimator(AutoencoderTransformer).fit(X_small))
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="Autoencoder"):
        sio.loads(data)
