"""Bad input against every public estimator: each kind of malformed data or parameter gets
a clear scikit-learn-style error raised before training starts (or is supported outright),
never a hang, a crash deep inside torch, or silent NaN output."""

import functools
import re

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ESTIMATORS, make_estimator
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from sklearn_ae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    NeighborEmbeddingAutoencoder,
    VAETransformer,
)

each_estimator = pytest.mark.parametrize("Estimator", ESTIMATORS)

N_COMPONENTS = 2


def _make_X(n_samples=40, n_features=5, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n_samples, n_features) * np.array([3.0, 2.0, 1.0, 0.5, 0.1]) + 1.0


X = _make_X()


class TrainingBegan(Callback):
    """Counts the fits that reached training.

    The estimator deep-copies its ``callbacks`` parameter, so the count lives on the class
    (shared by every copy), not on the instance.
    """

    count = 0

    def on_train_begin(self, net, **kwargs):
        type(self).count += 1


def assert_fit_raises(Estimator, X_bad, Error, match, **params):
    """``fit`` raises ``Error`` matching ``match``, and no training epoch ever began."""
    if "callbacks" not in params:
        params["callbacks"] = [TrainingBegan()]
    est = make_estimator(Estimator, **params)
    before = TrainingBegan.count
    with pytest.raises(Error, match=match):
        est.fit(X_bad)
    assert TrainingBegan.count == before, "the error came only after training had started"
    # a failed fit leaves nothing that looks fitted
    with pytest.raises(NotFittedError):
        est.transform(X)


@functools.lru_cache(maxsize=None)
def _fitted(Estimator):
    """A good fit on ``X`` (40 x 5), shared by the post-fit tests (which only read it)."""
    return make_estimator(Estimator, n_components=N_COMPONENTS).fit(X)


def assert_all_outputs_finite(est, X_in):
    Z = est.transform(X_in)
    assert Z.dtype == np.float32 and Z.shape == (X_in.shape[0], est.n_components)
    assert np.isfinite(Z).all(), "transform returned NaN/inf"
    R = est.inverse_transform(Z)
    assert R.shape == (X_in.shape[0], X_in.shape[1])
    assert np.isfinite(R).all(), "inverse_transform returned NaN/inf"
    assert np.isfinite(est.reconstruct(X_in)).all(), "reconstruct returned NaN/inf"
    scores = est.score_samples(X_in)
    assert scores.shape == (X_in.shape[0],)
    assert np.isfinite(scores).all(), "score_samples returned NaN/inf"


# --------------------------------------------------------- the guard itself
@each_estimator
def test_training_began_callback_sees_a_good_fit(Estimator):
    # without this the "training never began" assertions below would prove nothing
    before = TrainingBegan.count
    make_estimator(Estimator, callbacks=[TrainingBegan()]).fit(X)
    assert TrainingBegan.count == before + 1


# --------------------------------------------------------- fit-time data
def _with(value, row=3, col=2):
    X_bad = X.copy()
    X_bad[row, col] = value
    return X_bad


FIT_DATA_ERRORS = {
    "nan": (_with(np.nan), ValueError, "NaN"),
    "+inf": (_with(np.inf), ValueError, "infinity"),
    "-inf": (_with(-np.inf), ValueError, "infinity"),
    "nan-float32": (_with(np.nan).astype(np.float32), ValueError, "NaN"),
    "no-rows": (np.empty((0, 5)), ValueError, "0 sample"),
    "no-columns": (np.empty((10, 0)), ValueError, "0 feature"),
    "1d": (X[:, 0].copy(), ValueError, "Expected 2D array"),
    "3d": (X.reshape(40, 5, 1), ValueError, "dim 3|3D|Expected 2D"),
    "str-array": (
        np.array([["a", "b"], ["c", "d"]]),
        ValueError,
        "could not convert|string|dtype",
    ),
    "object-strings": (
        np.array([["a", 1.0], ["b", 2.0]] * 20, dtype=object),
        ValueError,
        "could not convert|string|dtype",
    ),
    "complex": (X + 1j * X, ValueError, "[Cc]omplex"),
    "dataframe-string-column": (
        pd.DataFrame({"a": X[:, 0], "b": ["x", "y"] * 20, "c": X[:, 1]}),
        ValueError,
        "could not convert|string|dtype",
    ),
    "beyond-float32-range": (X * 1e300, ValueError, "float32"),
    # inside float32, but without headroom for the float32 outputs
    "near-float32-max": ((X / np.abs(X).max() * 3.3e38).astype(np.float32), ValueError,
                         "3.3e\\+38.*float32"),
    # the spread underflows float32 codes and reconstructions in X's units
    "tiny-spread": (X * 1e-170, ValueError, "varies too little"),
    "tiny-spread-within-float32": (X * 1e-35, ValueError, "varies too little"),
    "single-sample": (X[:1], ValueError, r"1 sample|n_samples=1|minimum of 2"),
}


@each_estimator
@pytest.mark.parametrize("case", list(FIT_DATA_ERRORS))
def test_bad_fit_data_raises_before_training(Estimator, case):
    X_bad, Error, match = FIT_DATA_ERRORS[case]
    assert_fit_raises(Estimator, X_bad, Error, match)


@each_estimator
def test_bce_with_data_outside_unit_interval_raises_before_training(Estimator):
    X_bad = np.clip(X, 0, 1)
    X_bad[0, 0] = 1.5
    assert_fit_raises(Estimator, X_bad, ValueError, "bce", loss="bce")


# ------------------------------------------------------ supported oddities
@each_estimator
def test_boolean_data_is_supported(Estimator):
    X_bool = np.random.RandomState(0).rand(40, 5) > 0.5
    X_bool[0], X_bool[1] = True, False  # both values in every column
    est = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X_bool)
    Z = est.transform(X_bool)
    assert Z.dtype == np.float32 and Z.shape == (40, N_COMPONENTS)
    assert np.isfinite(Z).all()


@each_estimator
def test_object_array_of_numbers_is_supported(Estimator):
    est = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X.astype(object))
    Z = est.transform(X.astype(object))
    assert Z.dtype == np.float32 and Z.shape == (40, N_COMPONENTS)
    assert np.isfinite(Z).all()


@each_estimator
def test_lists_of_lists_give_the_same_codes_as_arrays(Estimator):
    expected = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X).transform(X)
    est = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X.tolist())
    assert_allclose(est.transform(X.tolist()), expected, rtol=1e-5, atol=1e-6)


@each_estimator
def test_numeric_dataframe_is_supported(Estimator):
    df = pd.DataFrame(X, columns=list("abcde"))
    expected = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X).transform(X)
    est = make_estimator(Estimator, n_components=N_COMPONENTS).fit(df)
    assert_allclose(est.transform(df), expected, rtol=1e-5, atol=1e-6)


@each_estimator
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_values_fit_and_give_finite_outputs(Estimator, dtype):
    X_huge = (X * 1e30).astype(dtype)
    assert np.isfinite(X_huge).all()
    est = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X_huge)
    assert_all_outputs_finite(est, X_huge)


@each_estimator
@pytest.mark.parametrize("which", ["one-constant-column", "all-constant"])
def test_constant_data_fits_and_gives_finite_outputs(Estimator, which):
    X_const = X.copy()
    if which == "one-constant-column":
        X_const[:, 2] = 7.0
    else:
        X_const[:] = 7.0
    est = make_estimator(Estimator, n_components=N_COMPONENTS).fit(X_const)
    assert_all_outputs_finite(est, X_const)


@each_estimator
def test_transform_of_a_single_sample_works(Estimator):
    est = _fitted(Estimator)
    Z = est.transform(X[:1])
    assert Z.shape == (1, N_COMPONENTS)
    assert np.isfinite(Z).all()


# --------------------------------------------------- over-complete codes
def test_overcomplete_plain_autoencoder_raises_before_training():
    assert_fit_raises(
        AutoencoderTransformer, X, ValueError, "n_components=8", n_components=8, sparsity=None
    )


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (AutoencoderTransformer, {"sparsity": "l1"}),
        (DenoisingAutoencoder, {}),
        (VAETransformer, {}),
    ],
    ids=["sparse-l1", "denoising", "vae"],
)
def test_overcomplete_regularised_codes_are_allowed(Estimator, params):
    est = make_estimator(Estimator, n_components=8, **params).fit(X)
    Z = est.transform(X)
    assert Z.shape == (40, 8)
    assert_all_outputs_finite(est, X)


# ------------------------------------------------------- after a good fit
@each_estimator
@pytest.mark.parametrize("method", ["transform", "score_samples", "reconstruct", "score"])
def test_wrong_feature_count_after_fit_raises(Estimator, method):
    est = _fitted(Estimator)
    with pytest.raises(ValueError, match="4 features"):
        getattr(est, method)(X[:, :4])


@each_estimator
def test_inverse_transform_of_wrong_code_width_raises(Estimator):
    est = _fitted(Estimator)
    with pytest.raises(ValueError, match=f"{N_COMPONENTS + 1} features"):
        est.inverse_transform(np.zeros((4, N_COMPONENTS + 1)))


@each_estimator
@pytest.mark.parametrize("method", ["transform", "score_samples", "reconstruct"])
@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_input_after_fit_raises(Estimator, method, bad, match):
    est = _fitted(Estimator)
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(_with(bad))


@each_estimator
@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_codes_in_inverse_transform_raise(Estimator, bad, match):
    est = _fitted(Estimator)
    codes = np.zeros((3, N_COMPONENTS))
    codes[1, 0] = bad
    with pytest.raises(ValueError, match=match):
        est.inverse_transform(codes)


@each_estimator
@pytest.mark.parametrize(
    "method", ["transform", "score_samples", "reconstruct", "inverse_transform"]
)
@pytest.mark.parametrize(
    "factor, dtype",
    [(1e30, np.float32), (1e300, np.float64)],
    ids=["1e30-float32", "1e300-float64"],
)
def test_far_out_of_range_input_never_gives_non_finite_output(Estimator, method, factor, dtype):
    # either a clear error or finite output; never NaN/inf handed back silently
    est = _fitted(Estimator)
    if method == "inverse_transform":
        far = (est.transform(X).astype(np.float64) * factor).astype(dtype)
    else:
        far = (X * factor).astype(dtype)
    assert np.isfinite(far).all()
    try:
        out = getattr(est, method)(far)
    except ValueError as exc:
        # 1e300 cannot even be represented in the networks' float32
        allowed = "non-finite|finite" if dtype == np.float32 else "finite|float32|too large"
        assert re.search(allowed, str(exc)), f"unclear error: {exc}"
    else:
        assert np.isfinite(out).all(), f"{method} returned NaN/inf for far out-of-range input"


@each_estimator
@pytest.mark.parametrize("scale", [1e-25, 1e30])
def test_extreme_but_representable_scales_fit_and_stay_in_units(Estimator, scale):
    # the column statistics neither underflow nor overflow; outputs are in X's units
    est = make_estimator(Estimator).fit(X * scale)
    assert est.scale_ == pytest.approx(_fitted(Estimator).scale_ * scale, rel=1e-6)
    codes = est.transform(X * scale)
    assert np.isfinite(codes).all() and np.abs(codes).max() > 0
    assert np.isfinite(est.reconstruct(X * scale)).all()
    assert 0 < est.train_explained_variance_ratio_ <= 1


@each_estimator
def test_partial_fit_chunk_out_of_range_is_refused_before_training(Estimator):
    est = make_estimator(Estimator).partial_fit(X)
    weights = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    with pytest.raises(ValueError, match="beyond"):
        est.partial_fit(X * 1e38)
    assert est.n_iter_ == 1
    assert all(torch.equal(v, weights[k]) for k, v in est.net_.module_.state_dict().items())


@each_estimator
@pytest.mark.parametrize(
    "method", ["transform", "inverse_transform", "score_samples", "score", "reconstruct"]
)
def test_unfitted_estimator_raises_not_fitted(Estimator, method):
    est = make_estimator(Estimator)
    arg = np.zeros((3, est.n_components)) if method == "inverse_transform" else X
    with pytest.raises(NotFittedError, match=f"{Estimator.__name__} instance is not fitted"):
        getattr(est, method)(arg)


# ------------------------------------------------------ invalid parameters
# (parameter, invalid value); every parameter of every estimator must appear here
COMMON_INVALID = [
    ("n_components", 0),
    ("n_components", -1),
    ("n_components", 1.5),
    ("n_components", 1.0),  # neither an integer nor a fraction in (0, 1)
    ("n_components", "2"),
    ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (-3,)),
    ("hidden_layer_sizes", ("a",)),
    ("activation", "nope"),
    ("init", "nope"),
    ("loss", "nope"),
    ("max_epochs", 0),
    ("batch_size", 0),
    ("batch_size", -5),
    ("lr", -1),
    ("lr", 0),
    ("lr_schedule", "cosine"),
    ("optimizer", "nope"),
    ("weight_decay", -1),
    ("early_stopping", "yes"),
    ("validation_fraction", 0),
    ("validation_fraction", 1),
    ("validation_fraction", 1.5),
    ("n_iter_no_change", 0),
    ("tol", -1),
    ("callbacks", "nope"),
    ("device", "tpu"),
    ("device", "cuda:x"),
    ("random_state", "nope"),
    ("verbose", "loud"),
    ("warm_start", "yes"),
    ("architecture", "nope"),
    ("image_shape", (3, 3)),
    ("sparsity", "nope"),
    ("sparsity_weight", -1),
    ("sparsity_target", 0),
    ("sparsity_target", 1),
    ("inference_batch_size", 0),
    ("precision", "float8"),
    ("compile", "yes"),
    ("data_parallel", "yes"),
    ("whiten", "yes"),
    # a bool is not a size or a rate (as scikit-learn's Interval(Integral) intends)
    ("n_components", True),
    ("hidden_layer_sizes", True),
    ("hidden_layer_sizes", (True, 4)),
    ("max_epochs", True),
    ("batch_size", True),
    ("n_iter_no_change", True),
    ("inference_batch_size", True),
    ("lr", True),
    ("image_shape", (True, 5)),
    ("callbacks", [42]),
]
EXTRA_INVALID = {
    DenoisingAutoencoder: [("noise", "nope"), ("noise_level", -0.1), ("noise_units", "std")],
    VAETransformer: [
        ("beta", -1), ("kl_warmup_epochs", -1), ("kl_warmup_epochs", True), ("loss", "ssim")
    ],
    ContractiveAutoencoder: [("contraction_weight", -0.1), ("contraction_weight", "big")],
    NeighborEmbeddingAutoencoder: [
        ("n_neighbors", 1), ("min_dist", -0.1), ("spread", 0), ("negative_sample_rate", 0),
        ("reconstruction_weight", -1.0), ("knn_method", "ball_tree"), ("score_neighbors", 0),
        ("input_pca", 0), ("input_pca", 2.5), ("objective", "tsne"), ("jitter", -0.1),
        ("negative_sample_rate", "many"), ("target_weight", 1.5), ("exaggeration", 0.8),
        ("exaggeration", "high"),
    ],
}


def _invalid_cases():
    for Estimator in ESTIMATORS:
        for name, value in COMMON_INVALID + EXTRA_INVALID.get(Estimator, []):
            yield pytest.param(
                Estimator, name, value, id=f"{Estimator.__name__}-{name}={value!r}"
            )


@pytest.mark.parametrize("Estimator, name, value", list(_invalid_cases()))
def test_invalid_parameter_raises_before_training(Estimator, name, value):
    # a misspelt or removed parameter in the table must fail, not pass unnoticed
    assert name in Estimator().get_params(), name
    # the message names the parameter and shows the offending value
    match = rf"(?s)(?=.*{re.escape(name)})(?=.*{re.escape(repr(value))})"
    assert_fit_raises(Estimator, X, ValueError, match, **{name: value})


@each_estimator
def test_every_parameter_has_an_invalid_value_case(Estimator):
    covered = {name for name, _ in COMMON_INVALID + EXTRA_INVALID.get(Estimator, [])}
    parameters = set(Estimator().get_params()) | set(Estimator._parameter_constraints)
    missing = parameters - covered
    assert not missing, f"no invalid-value case for {sorted(missing)}"
