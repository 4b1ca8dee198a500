"""Every documented feature, run at least once with the estimators' true defaults.

The rest of the suite builds its estimators from ``conftest.FAST`` (a constant learning
rate, ``precision="float32"``, tiny hidden layers, batches of 32), which keeps it fast and
its numbers machine-independent, but hid bugs that only the defaults reach: warm starts
under the default one-cycle schedule failed, for one (issue 24). Here each estimator keeps
its defaults (``lr_schedule="onecycle"``, ``precision="auto"``, the default hidden layers,
``batch_size=256``, early stopping, AdamW with its default weight decay); only
``max_epochs`` and the data size are reduced, ``random_state`` is fixed, and a test passes
the parameters that name the feature it runs (``sparsity="l1"``, ``architecture="conv"``,
``loss="bce"``, ...). ``precision="auto"`` measures bfloat16 against float32 on the
running machine, so ``precision_`` is only checked to be one of the two.
"""

import json
import pickle
import runpy
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, SUPERVISED, diverging
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import Callback
from sklearn.base import ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_ae
from sklearn_ae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    NeighborEmbeddingAutoencoder,
    VAETransformer,
)

EPOCHS = 3  # the only training parameter reduced from its default (60)
PRECISIONS = {"float32", "bfloat16"}

_DIGITS = load_digits()
# 8x8 digits, grey levels 0..16, flattened to 64 features: 160 training rows, 80 held out
X = _DIGITS.data[:160]
Y = _DIGITS.target[:160]
X_TEST = _DIGITS.data[160:240]
Y_TEST = _DIGITS.target[160:240]
X01 = X / 16.0  # pixels in [0, 1], for loss="bce"

each_estimator = pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
each_supervised = pytest.mark.parametrize("Estimator", SUPERVISED, ids=lambda E: E.__name__)


def default(Estimator, **params):
    """``Estimator`` with its defaults, ``max_epochs=EPOCHS`` and ``random_state=0``."""
    return Estimator(**{"max_epochs": EPOCHS, "random_state": 0, **params})


def assert_codes(codes, n_rows, n_components):
    assert isinstance(codes, np.ndarray)
    assert codes.shape == (n_rows, n_components)
    assert codes.dtype == np.float32
    assert np.isfinite(codes).all()


def assert_fitted_with_defaults(est, n_iter=EPOCHS):
    """The fitted attributes every member has after a default fit of ``n_iter`` epochs."""
    assert est.precision_ in PRECISIONS
    assert str(est.device_).startswith("cuda") == torch.cuda.is_available()
    assert est.n_iter_ == n_iter
    assert len(est.loss_curve_) == n_iter and np.isfinite(est.loss_curve_).all()
    assert len(est.history_) == n_iter


def supervised_targets(Estimator, n_labeled=60):
    """Labels for ``X`` with the rows after the first ``n_labeled`` unlabeled: -1 for a
    classifier, NaN for a regressor (whose target is the mean grey level of the top half
    of the image)."""
    if issubclass(Estimator, ClassifierMixin):
        y = Y.copy()
        y[n_labeled:] = -1
        return y, Y_TEST
    y, y_test = X[:, :32].mean(axis=1), X_TEST[:, :32].mean(axis=1)
    y[n_labeled:] = np.nan
    return y, y_test


def supervised_outputs(est, X):
    """What a fitted classifier or regressor predicts: probabilities, or predictions."""
    return est.predict_proba(X) if isinstance(est, ClassifierMixin) else est.predict(X)


# ---------------------------------------------------------------- the PCA interface
@each_estimator
def test_default_fit_gives_the_pca_interface(Estimator):
    est = default(Estimator)
    codes = est.fit_transform(X)
    assert_fitted_with_defaults(est)
    assert est.n_components_ == 2  # the default n_components
    assert est.hidden_layer_sizes_ and all(h > 0 for h in est.hidden_layer_sizes_)
    assert 0 <= est.best_epoch_ <= est.n_iter_
    if Estimator is NeighborEmbeddingAutoencoder:  # held-out rows would leave its graph
        assert est.validation_loss_curve_ is None
    else:
        assert len(est.validation_loss_curve_) == EPOCHS  # early stopping is on by default
    assert_codes(codes, len(X), 2)
    assert_allclose(est.transform(X), codes, rtol=1e-5, atol=1e-5)

    test_codes = est.transform(X_TEST)
    assert_codes(test_codes, len(X_TEST), 2)
    assert_array_equal(est.transform(X_TEST), test_codes)  # deterministic
    recon = est.inverse_transform(test_codes)
    assert recon.shape == X_TEST.shape and recon.dtype == np.float32
    assert np.isfinite(recon).all()
    assert_allclose(est.reconstruct(X_TEST), recon, rtol=1e-5, atol=1e-4)

    scores = est.score_samples(X_TEST)
    assert scores.shape == (len(X_TEST),) and np.isfinite(scores).all()
    assert est.score(X_TEST) == pytest.approx(scores.mean())
    # the VAE's score is the ELBO (tested below), the neighbour embedding's the
    # trustworthiness (tests/test_neighbors.py)
    if Estimator not in (VAETransformer, NeighborEmbeddingAutoencoder):
        mse = np.mean((X_TEST - recon) ** 2, axis=1)
        assert_allclose(-scores, mse, rtol=1e-4)
    names = est.get_feature_names_out()
    assert list(names) == [f"{Estimator.__name__.lower()}{i}" for i in range(2)]

    # inference in batches: any inference_batch_size gives the same codes
    est.set_params(inference_batch_size=7)
    assert_allclose(est.transform(X_TEST), test_codes, rtol=1e-5, atol=1e-5)


@each_estimator
def test_same_random_state_same_fit_and_clone_refits_identically(Estimator):
    est = default(Estimator).fit(X)
    again = clone(est)
    assert again.get_params() == est.get_params()
    assert not hasattr(again, "n_iter_")
    again.fit(X)
    assert_array_equal(again.transform(X_TEST), est.transform(X_TEST))
    assert_array_equal(again.loss_curve_, est.loss_curve_)


@each_estimator
def test_fit_leaves_the_global_random_state_alone(Estimator):
    torch.manual_seed(0)
    np.random.seed(0)
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    Estimator(max_epochs=EPOCHS).fit(X)  # random_state=None: a seed from the OS
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert_array_equal(np.random.get_state()[1], numpy_state)


@each_estimator
def test_bad_input_fails_before_training_and_changes_nothing(Estimator):
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    est = default(Estimator)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(X_nan)
    assert not hasattr(est, "mean_") and not hasattr(est, "net_")
    est.fit(X)
    codes = est.transform(X_TEST)
    with pytest.raises(ValueError, match="X has 63 features"):
        est.transform(X_TEST[:, 1:])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(X_nan)
    assert est.n_iter_ == EPOCHS
    assert_array_equal(est.transform(X_TEST), codes)


# ---------------------------------------------------------------- warm starts, partial_fit
@each_estimator
@pytest.mark.parametrize("after", ["fit", "partial_fit", "load", "pickle"])
def test_warm_start_continues_under_the_default_schedule(Estimator, after, tmp_path):
    est = default(Estimator).fit(X)
    if after == "partial_fit":
        est.partial_fit(X)
    elif after == "load":
        sklearn_ae.save(est, tmp_path / "model.safetensors")
        est = sklearn_ae.load(tmp_path / "model.safetensors")
    elif after == "pickle":
        est = pickle.loads(pickle.dumps(est))
    n_before = est.n_iter_
    est.set_params(warm_start=True).fit(X)
    assert est.n_iter_ == n_before + EPOCHS
    assert len(est.loss_curve_) == n_before + EPOCHS
    assert np.isfinite(est.loss_curve_).all()
    assert_codes(est.transform(X_TEST), len(X_TEST), 2)


@each_estimator
def test_warm_start_of_an_unpickled_model_continues_bit_for_bit(Estimator):
    est = default(Estimator).fit(X)
    copy = pickle.loads(pickle.dumps(est))
    est.set_params(warm_start=True).fit(X)
    copy.set_params(warm_start=True).fit(X)
    assert copy.n_iter_ == est.n_iter_ == 2 * EPOCHS
    assert_array_equal(copy.transform(X_TEST), est.transform(X_TEST))


@each_estimator
def test_partial_fit_from_scratch_and_after_fit(Estimator):
    est = Estimator(random_state=0)  # max_epochs is not used by partial_fit
    chunks = np.array_split(X, 4)
    for i, chunk in enumerate(chunks, start=1):
        est.partial_fit(chunk)
        assert est.n_iter_ == i and len(est.loss_curve_) == i
    assert_fitted_with_defaults(est, n_iter=4)
    assert_allclose(est.mean_, chunks[0].mean(axis=0))  # the first chunk sets the scaling
    assert_codes(est.transform(X_TEST), len(X_TEST), 2)

    fitted = default(Estimator).fit(X)
    fitted.partial_fit(X_TEST)
    assert fitted.n_iter_ == EPOCHS + 1
    assert np.isfinite(fitted.loss_curve_).all()


class InterruptInEpoch(Callback):
    """Raises ``KeyboardInterrupt`` (as Ctrl-C would) after the first training batch of
    epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            raise KeyboardInterrupt


class FailInEpoch(Callback):
    """Raises in the given epoch (counted over the whole history)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise RuntimeError(f"failed in epoch {self.epoch}")


@each_estimator
def test_ctrl_c_keeps_a_usable_model_that_warm_starts(Estimator):
    est = default(Estimator, callbacks=[InterruptInEpoch(2)]).fit(X)  # returns normally
    assert est.n_iter_ == 1 and len(est.history_) == 1  # the interrupted epoch is dropped
    assert_codes(est.transform(X_TEST), len(X_TEST), 2)
    est.set_params(callbacks=None, warm_start=True).fit(X)
    assert est.n_iter_ == 1 + EPOCHS


@each_estimator
def test_a_warm_start_failing_midway_changes_nothing(Estimator):
    est = default(Estimator).fit(X)
    codes, curve = est.transform(X_TEST), est.loss_curve_
    est.set_params(warm_start=True, callbacks=[FailInEpoch(EPOCHS + 2)])
    with pytest.raises(RuntimeError, match=f"failed in epoch {EPOCHS + 2}"):
        est.fit(X)
    assert est.n_iter_ == EPOCHS and len(est.history_) == EPOCHS
    assert est.loss_curve_ is curve
    assert_array_equal(est.transform(X_TEST), codes)
    est.set_params(callbacks=None).fit(X)  # and it trains on normally
    assert est.n_iter_ == 2 * EPOCHS


@each_estimator
def test_divergence_keeps_the_last_finite_weights(Estimator):
    # lr is the feature here: far too large, so training diverges (see conftest.diverging)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = default(Estimator, **diverging(Estimator), max_epochs=5).fit(X)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any("Training diverged" in m for m in messages), messages
    assert est.n_iter_ < 5
    assert np.isfinite(est.loss_curve_).all()
    assert_codes(est.transform(X_TEST), len(X_TEST), 2)


# ---------------------------------------------------------------- persistence
@each_estimator
def test_save_load_and_pickle_round_trip_bit_for_bit(Estimator, tmp_path):
    est = default(Estimator).fit(X)
    sklearn_ae.save(est, tmp_path / "model.safetensors")
    for loaded in (sklearn_ae.load(tmp_path / "model.safetensors"),
                   pickle.loads(pickle.dumps(est))):
        assert type(loaded) is Estimator
        assert loaded.get_params() == est.get_params()
        assert loaded.precision_ == est.precision_ and loaded.n_iter_ == est.n_iter_
        assert_array_equal(loaded.transform(X_TEST), est.transform(X_TEST))
        assert_array_equal(loaded.score_samples(X_TEST), est.score_samples(X_TEST))
        codes = est.transform(X_TEST)
        assert_array_equal(loaded.inverse_transform(codes), est.inverse_transform(codes))
        if Estimator is VAETransformer:
            assert_array_equal(loaded.sample(5, random_state=1), est.sample(5, random_state=1))


@each_estimator
def test_skops_round_trips_a_pipeline(Estimator, tmp_path):
    sio = pytest.importorskip("skops.io")
    pipe = make_pipeline(
        StandardScaler(), default(Estimator, n_components=8), LogisticRegression(max_iter=500)
    ).fit(X, Y)
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"{Estimator.__module__}.{Estimator.__name__}"]
    loaded = sio.load(path, trusted=untrusted)
    assert_array_equal(loaded.predict_proba(X_TEST), pipe.predict_proba(X_TEST))
    assert_array_equal(loaded[:-1].transform(X_TEST), pipe[:-1].transform(X_TEST))


# ---------------------------------------------------------------- export
@each_estimator
def test_to_torch_encoder_and_decoder(Estimator):
    est = default(Estimator).fit(X)
    codes = est.transform(X_TEST)
    encoder, decoder = est.to_torch(), est.to_torch("decoder")
    assert isinstance(encoder, torch.nn.Module) and not encoder.training
    with torch.no_grad():
        torch_codes = encoder(torch.from_numpy(X_TEST.astype(np.float32))).cpu().numpy()
        decoded = decoder(torch.from_numpy(codes)).cpu().numpy()
    assert_allclose(torch_codes, codes, rtol=1e-5, atol=1e-4)
    assert_allclose(decoded, est.inverse_transform(codes), rtol=1e-5, atol=1e-4)


# An export takes seconds, so one member exports both halves here and the VAE's encoder
# (the other kind of network; the denoising and contractive members build the plain
# autoencoder's, only their training differs) goes through skl2onnx below.
def test_to_onnx_encoder_and_decoder_run_in_onnxruntime():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    est = default(AutoencoderTransformer).fit(X)
    X32 = X_TEST.astype(np.float32)
    codes = est.transform(X32)

    def run(model, feed):
        return ort.InferenceSession(model.SerializeToString()).run(None, feed)[0]

    onnx_codes = run(est.to_onnx(), {"X": X32})
    assert onnx_codes.shape == codes.shape and onnx_codes.dtype == np.float32
    assert_allclose(onnx_codes, codes, rtol=1e-5, atol=1e-4)
    decoded = run(est.to_onnx("decoder"), {"codes": codes})
    assert_allclose(decoded, est.inverse_transform(codes), rtol=1e-5, atol=1e-4)


def test_register_skl2onnx_converts_a_pipeline():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    skl2onnx = pytest.importorskip("skl2onnx")
    pipe = make_pipeline(
        StandardScaler(), default(VAETransformer, n_components=10),
        LogisticRegression(max_iter=1000),
    ).fit(X, Y)
    sklearn_ae.register_skl2onnx()
    model = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={"zipmap": False})
    session = ort.InferenceSession(model.SerializeToString())
    labels, proba = session.run(None, {"X": X_TEST.astype(np.float32)})
    assert_allclose(proba, pipe.predict_proba(X_TEST), rtol=0, atol=1e-5)
    assert_array_equal(labels, pipe.predict(X_TEST))


# ---------------------------------------------------------------- scikit-learn integration
@each_estimator
def test_pipeline_with_a_classifier(Estimator):
    pipe = make_pipeline(default(Estimator, n_components=10), LogisticRegression(max_iter=1000))
    pipe.fit(X, Y)
    assert pipe[0].n_iter_ == EPOCHS
    # ten classes: chance is 0.1; the codes start at PCA's, which separate digits well
    assert pipe.score(X_TEST, Y_TEST) > 0.6


@each_estimator
def test_grid_search_over_the_transformer_alone(Estimator):
    search = GridSearchCV(default(Estimator), {"n_components": [2, 4]}, cv=2).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert search.best_params_["n_components"] in (2, 4)
    assert search.best_score_ == scores.max()
    assert search.best_estimator_.n_iter_ == EPOCHS
    if Estimator not in (VAETransformer, NeighborEmbeddingAutoencoder):
        assert (scores < 0).all()  # minus the held-out reconstruction MSE
        # more components reconstruct held-out digits better
        assert search.best_params_ == {"n_components": 4}


def test_grid_search_over_the_vae_beta():
    search = GridSearchCV(default(VAETransformer, n_components=4), {"beta": [0.5, 2.0]}, cv=2)
    search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and search.best_params_["beta"] in (0.5, 2.0)


@each_estimator
def test_set_output_pandas_and_dataframe_input(Estimator):
    pd = pytest.importorskip("pandas")
    columns = [f"px{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    est = default(Estimator).set_output(transform="pandas")
    out = est.fit_transform(frame)
    assert list(est.feature_names_in_) == columns
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert out.shape == (len(X), 2)
    test_frame = pd.DataFrame(X_TEST, columns=columns)
    test_out = est.transform(test_frame)
    est.set_output(transform="default")
    assert_array_equal(test_out.to_numpy(), est.transform(test_frame))


# ---------------------------------------------------------------- large data
@each_estimator
def test_fit_on_a_memmap(Estimator, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, X.astype(np.float32))
    X_map = np.load(path, mmap_mode="r")
    assert isinstance(X_map, np.memmap)
    est = default(Estimator).fit(X_map)
    assert_fitted_with_defaults(est)
    assert_allclose(est.mean_, X.mean(axis=0), rtol=1e-5, atol=1e-5)
    assert_codes(est.transform(X_map), len(X), 2)
    assert 0 <= est.train_explained_variance_ratio_ <= 1


@each_estimator
def test_dask_arrays_in_fit_partial_fit_and_transform(Estimator):
    da = pytest.importorskip("dask.array", reason="needs the [distributed] extra")
    X_dask = da.from_array(X, chunks=(50, 32))  # row blocks of 50, split features too
    est = default(Estimator).fit(X_dask)
    assert_fitted_with_defaults(est)
    assert_allclose(est.mean_, X.mean(axis=0), rtol=1e-6, atol=1e-6)

    test_dask = da.from_array(X_TEST, chunks=30)
    codes = est.transform(test_dask)
    assert isinstance(codes, da.Array)  # lazy, with the input's row chunks
    assert codes.chunks[0] == test_dask.chunks[0] and codes.shape == (len(X_TEST), 2)
    assert_allclose(codes.compute(), est.transform(X_TEST), rtol=1e-5, atol=1e-5)
    recon = est.inverse_transform(codes)
    assert isinstance(recon, da.Array)
    assert_allclose(recon.compute(), est.reconstruct(X_TEST), rtol=1e-5, atol=1e-4)
    scores = est.score_samples(test_dask)
    assert_allclose(scores.compute(), est.score_samples(X_TEST), rtol=1e-5)

    est.partial_fit(X_dask)
    assert est.n_iter_ == EPOCHS + 1

    # a lazy array cannot be wrapped in a DataFrame without computing it: refused
    est.set_output(transform="pandas")
    with pytest.raises((ValueError, TypeError)):
        est.transform(test_dask)


# ---------------------------------------------------------------- threads
@each_estimator
def test_fits_in_threads_equal_fits_one_after_the_other(Estimator):
    # 13 features: network shapes that no other test of this file fits, so that
    # precision="auto" measures them while the threads run
    X13 = np.random.RandomState(0).randn(120, 13)

    def codes(seed):
        est = Estimator(n_components=seed + 1, max_epochs=2, random_state=seed).fit(X13)
        assert est.precision_ in PRECISIONS
        return est.transform(X13)

    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(codes, range(3)))
    alone = [codes(seed) for seed in range(3)]
    for a, b in zip(alone, together):
        assert_array_equal(a, b)


def test_inference_in_several_threads():
    est = default(AutoencoderTransformer).fit(X)
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = np.vstack(list(pool.map(est.transform, np.array_split(X_TEST, 4))))
    assert_allclose(codes, est.transform(X_TEST), rtol=1e-5, atol=1e-5)


def test_a_fit_in_a_thread_leaves_other_threads_draws_alone():
    # reliability.md: "A fit in one thread does not change what torch.rand returns in
    # another", with the default precision="auto" too, whose first fit of a network
    # shape measures bfloat16 against float32
    X11 = np.random.RandomState(0).randn(150, 11)
    done = threading.Event()

    def fit_new_shapes():
        k = 1
        while not done.is_set() and k <= 10:  # a new network shape for every fit
            AutoencoderTransformer(n_components=k, max_epochs=1, random_state=0).fit(X11)
            k += 1

    thread = threading.Thread(target=fit_new_shapes)
    torch.manual_seed(5)
    thread.start()
    try:
        seen = []
        while thread.is_alive() and len(seen) < 20_000:
            seen.append(torch.rand(1).item())
            time.sleep(0.0005)  # let the fits run between the draws
    finally:
        done.set()
        thread.join()
    torch.manual_seed(5)
    expected = torch.rand(len(seen), dtype=torch.float32).tolist()
    assert len(seen) > 10
    assert seen == expected


# ---------------------------------------------------------------- AutoencoderTransformer
@pytest.mark.parametrize("sparsity", ["l1", "kl"])
def test_sparse_over_complete_codes(sparsity):
    est = default(AutoencoderTransformer, n_components=80, sparsity=sparsity).fit(X)
    assert_fitted_with_defaults(est)
    assert_codes(est.transform(X_TEST), len(X_TEST), 80)
    activations = est.code_activations(X_TEST)
    assert activations.shape == (len(X_TEST), 80) and activations.dtype == np.float32
    assert (activations >= 0).all()
    sparseness = est.code_sparsity(X_TEST)
    assert isinstance(sparseness, float) and 0 <= sparseness <= 1
    if sparsity == "kl":  # sigmoid(code): a code of 0 is an activation of 0.5
        assert (activations <= 1).all()
    else:  # with init="pca" only as many units as PCA directions (at most 64) start used
        assert sparseness > 0.05


def test_over_complete_codes_need_a_penalty():
    with pytest.raises(ValueError, match="n_components=80 is larger than n_features=64"):
        default(AutoencoderTransformer, n_components=80).fit(X)


@pytest.mark.parametrize("Estimator", [DenoisingAutoencoder, ContractiveAutoencoder,
                                       VAETransformer], ids=lambda E: E.__name__)
def test_over_complete_codes_allowed_without_sparsity(Estimator):
    est = default(Estimator, n_components=70).fit(X)
    assert_codes(est.transform(X_TEST), len(X_TEST), 70)
    assert 0 <= est.code_sparsity(X_TEST) <= 1


@each_estimator
@pytest.mark.parametrize("image_shape", [(8, 8), (8, -1)])
def test_conv_architecture_on_images(Estimator, image_shape):
    est = default(Estimator, n_components=10, architecture="conv", image_shape=image_shape)
    est.fit(X)
    assert_fitted_with_defaults(est)
    assert est.image_shape_ == (1, 8, 8)
    assert est.hidden_layer_sizes_ == (32, 64)  # the default channels
    assert_codes(est.transform(X_TEST), len(X_TEST), 10)
    recon = est.reconstruct(X_TEST)
    assert recon.shape == X_TEST.shape and np.isfinite(recon).all()


def test_conv_image_shape_is_checked():
    with pytest.raises(ValueError, match=r"image_shape=\(7, 7\) has 49 pixels"):
        AutoencoderTransformer(architecture="conv", image_shape=(7, 7)).fit(X)
    with pytest.raises(ValueError, match="image_shape"):
        AutoencoderTransformer(architecture="conv").fit(X)


@each_estimator
def test_bce_loss_on_data_in_0_1(Estimator):
    est = default(Estimator, n_components=10, loss="bce").fit(X01)
    assert_fitted_with_defaults(est)
    recon = est.reconstruct(X_TEST / 16.0)
    assert recon.shape == X_TEST.shape
    assert (recon >= 0).all() and (recon <= 1).all()  # through the sigmoid
    with pytest.raises(ValueError, match="loss='bce' needs data in"):
        default(Estimator, loss="bce").fit(X)  # grey levels 0..16


@pytest.mark.parametrize(
    "Estimator", [E for E in ESTIMATORS if E is not VAETransformer], ids=lambda E: E.__name__
)
@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_ssim_loss_with_image_shape(Estimator, architecture):
    est = default(Estimator, n_components=10, loss="ssim", image_shape=(8, 8),
                  architecture=architecture).fit(X)
    assert_fitted_with_defaults(est)
    assert_codes(est.transform(X_TEST), len(X_TEST), 10)
    assert np.isfinite(est.reconstruct(X_TEST)).all()


# ---------------------------------------------------------------- DenoisingAutoencoder
@pytest.mark.parametrize(
    "noise, level", [("gaussian", 0.5), ("masking", 0.3), ("salt_and_pepper", 0.2)]
)
def test_denoising_noise_kinds_and_denoise(noise, level):
    dae = default(DenoisingAutoencoder, n_components=16, noise=noise).fit(X)
    assert_fitted_with_defaults(dae)
    assert dae.noise_level_ == level  # the kind's default
    rng = np.random.RandomState(0)
    X_noisy = X_TEST * (rng.rand(*X_TEST.shape) > 0.3)  # 30% of the pixels switched off
    denoised = dae.denoise(X_noisy)
    assert denoised.shape == X_TEST.shape and denoised.dtype == np.float32
    assert np.isfinite(denoised).all()
    assert_array_equal(dae.denoise(X_noisy), denoised)  # no noise outside fit
    assert np.mean((denoised - X_TEST) ** 2) < np.mean((X_noisy - X_TEST) ** 2)
    # never reconstructs the clean data it was fitted on worse than its PCA start
    pca = PCA(n_components=16).fit(X)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    assert -dae.score(X) <= pca_mse * (1 + 1e-3)


def test_denoising_noise_in_data_units():
    dae = default(DenoisingAutoencoder, noise_level=0.25, noise_units="data").fit(X01)
    assert dae.noise_level_ == 0.25
    assert_codes(dae.transform(X_TEST / 16.0), len(X_TEST), 2)


# ---------------------------------------------------------------- ContractiveAutoencoder
def test_contractive_without_contraction_is_the_plain_autoencoder():
    cae = default(ContractiveAutoencoder, contraction_weight=0.0).fit(X)
    ae = default(AutoencoderTransformer).fit(X)
    assert_allclose(cae.transform(X_TEST), ae.transform(X_TEST), rtol=1e-5, atol=1e-4)


def test_contractive_default_weight_trains():
    cae = default(ContractiveAutoencoder, n_components=16).fit(X)
    assert_fitted_with_defaults(cae)
    assert cae.contraction_weight == 0.01
    assert_codes(cae.transform(X_TEST), len(X_TEST), 16)


# ---------------------------------------------------------------- VAETransformer
def test_vae_sample_score_samples_and_elbo_terms():
    vae = default(VAETransformer, n_components=8).fit(X)
    assert_fitted_with_defaults(vae)
    assert vae.noise_variance_ > 0
    assert_codes(vae.transform(X_TEST), len(X_TEST), 8)

    new = vae.sample(5, random_state=0)
    assert new.shape == (5, 64) and np.isfinite(new).all()
    assert_array_equal(vae.sample(5, random_state=0), new)
    assert not np.array_equal(vae.sample(5, random_state=1), new)

    elbo = vae.score_samples(X_TEST)
    assert elbo.shape == (len(X_TEST),) and np.isfinite(elbo).all()
    assert_array_equal(vae.score_samples(X_TEST), elbo)  # a fixed-seed estimate
    log_lik, kl = vae.elbo_terms(X_TEST)
    assert_allclose(log_lik - kl, elbo, rtol=1e-6, atol=1e-6)
    assert (kl >= 0).all()
    assert vae.score(X_TEST) == pytest.approx(elbo.mean())

    # -score_samples ranks anomalies: rows of noise get the lowest ELBOs
    X_odd = np.random.RandomState(0).uniform(0, 16, size=(5, 64))
    ranked = np.argsort(vae.score_samples(np.vstack([X_TEST, X_odd])))[:5]
    assert sorted(ranked) == list(range(len(X_TEST), len(X_TEST) + 5))


@pytest.mark.parametrize("params", [{"loss": "bce"}, {"kl_warmup_epochs": 2}, {"beta": 2.0}])
def test_vae_options(params):
    data = X01 if params.get("loss") == "bce" else X
    vae = default(VAETransformer, n_components=4, **params).fit(data)
    assert_fitted_with_defaults(vae)
    assert np.isfinite(vae.score_samples(data)).all()
    new = vae.sample(3, random_state=0)
    assert new.shape == (3, 64) and np.isfinite(new).all()
    if params.get("loss") == "bce":
        assert (new >= 0).all() and (new <= 1).all()


# ---------------------------------------------------------------- classifier, regressor
@each_supervised
def test_supervised_with_unlabeled_rows_and_the_default_autoencoder(Estimator):
    y, y_test = supervised_targets(Estimator)
    est = Estimator(max_epochs=EPOCHS, random_state=0).fit(X, y)
    assert est.precision_ in PRECISIONS
    assert est.n_iter_ == EPOCHS and np.isfinite(est.loss_curve_).all()
    # the default autoencoder: AutoencoderTransformer(n_components=min(32, n_features))
    assert type(est.autoencoder_) is AutoencoderTransformer
    assert est.autoencoder_.n_components == 32
    assert 0 < est.autoencoder_.n_iter_ <= 60  # pretrained with its own defaults
    assert_codes(est.transform(X_TEST), len(X_TEST), 32)
    if isinstance(est, ClassifierMixin):
        assert_array_equal(est.classes_, np.arange(10))  # -1 is not a class
        proba = est.predict_proba(X_TEST)
        assert proba.shape == (len(X_TEST), 10)
        assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
        assert set(est.predict(X_TEST)) <= set(range(10))
        assert est.score(X_TEST, y_test) > 0.3  # 60 labels, ten classes: chance is 0.1
    else:
        pred = est.predict(X_TEST)
        assert pred.shape == (len(X_TEST),) and np.isfinite(pred).all()
        assert np.isfinite(est.score(X_TEST, y_test))

    # to_torch: the whole network (scaling, encoder, head)
    module = est.to_torch()
    with torch.no_grad():
        out = module(torch.from_numpy(X_TEST.astype(np.float32))).cpu().double().numpy()
    if isinstance(est, ClassifierMixin):
        assert_allclose(torch.softmax(torch.from_numpy(out), 1).numpy(),
                        est.predict_proba(X_TEST), rtol=1e-4, atol=1e-5)
    else:
        assert_allclose(out.ravel(), est.predict(X_TEST), rtol=1e-4, atol=1e-4)


@each_supervised
@pytest.mark.parametrize("Member", ESTIMATORS, ids=lambda E: E.__name__)
def test_supervised_pretrains_any_member(Estimator, Member):
    y, _ = supervised_targets(Estimator)
    est = Estimator(default(Member, n_components=8), max_epochs=EPOCHS, random_state=0)
    est.fit(X, y)
    assert type(est.autoencoder_) is Member and est.autoencoder_.n_iter_ == EPOCHS
    assert_codes(est.transform(X_TEST), len(X_TEST), 8)
    assert np.isfinite(supervised_outputs(est, X_TEST)).all()


@each_supervised
@pytest.mark.parametrize("freeze_encoder", [False, True])
def test_supervised_transfer_from_a_frozen_estimator(Estimator, freeze_encoder):
    y, _ = supervised_targets(Estimator)
    pretrained = default(AutoencoderTransformer, n_components=16).fit(X)
    codes = pretrained.transform(X_TEST)
    est = Estimator(FrozenEstimator(pretrained), freeze_encoder=freeze_encoder,
                    max_epochs=EPOCHS, random_state=0).fit(X, y)
    # not refitted, not changed: its network is copied and fine-tuned
    assert pretrained.n_iter_ == EPOCHS
    assert_array_equal(pretrained.transform(X_TEST), codes)
    assert est.autoencoder_ is not pretrained
    assert_codes(est.transform(X_TEST), len(X_TEST), 16)
    if freeze_encoder:  # the head alone trains
        assert_allclose(est.transform(X_TEST), codes, rtol=1e-5, atol=1e-4)
    else:
        assert not np.allclose(est.transform(X_TEST), codes)


@each_supervised
def test_supervised_save_load_pickle_and_skops(Estimator, tmp_path):
    y, _ = supervised_targets(Estimator)
    member = default(AutoencoderTransformer, n_components=8)
    est = Estimator(member, max_epochs=EPOCHS, random_state=0).fit(X, y)
    expected = supervised_outputs(est, X_TEST)
    sklearn_ae.save(est, tmp_path / "model.safetensors")
    loaded = [sklearn_ae.load(tmp_path / "model.safetensors"), pickle.loads(pickle.dumps(est))]
    sio = pytest.importorskip("skops.io")
    sio.dump(est, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    loaded.append(sio.load(tmp_path / "model.skops", trusted=untrusted))
    for copy in loaded:
        assert type(copy) is Estimator
        assert_array_equal(supervised_outputs(copy, X_TEST), expected)
        assert_array_equal(copy.transform(X_TEST), est.transform(X_TEST))


# ---------------------------------------------------------------- the compare command
def test_compare_command_on_a_tiny_npy_file(tmp_path, monkeypatch, capsys):
    # `python -m sklearn_ae compare ...`, run in this process (runpy executes __main__.py
    # as `python -m` does) to spare a second torch import
    data, labels = tmp_path / "X.npy", tmp_path / "y.npy"
    np.save(data, X[:100])
    np.save(labels, Y[:100])
    out = tmp_path / "results.json"
    monkeypatch.setattr(sys, "argv", [
        str(Path(sklearn_ae.__file__).with_name("__main__.py")), "compare",
        "--data", str(data), "--labels", str(labels), "--n-components", "5",
        "--max-epochs", "2", "--threads", "1", "--no-progress", "--output", str(out),
    ])  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("sklearn_ae", run_name="__main__", alter_sys=True)
    stdout, stderr = capsys.readouterr()
    assert exit_.value.code == 0, stderr
    assert "| autoencoder |" in stdout and "| PCA " in stdout
    results = json.loads(out.read_text())["results"]
    ae, pca = results["autoencoder"], results["pca"]
    assert ae["n_iter"] == ae["max_epochs"] == 2 and 0 <= ae["best_epoch"] <= 2
    assert np.isfinite(ae["test_mse"]) and ae["test_mse"] > 0
    assert ae["ratio_to_pca"] == pytest.approx(ae["test_mse"] / pca["test_mse"])
    assert 0 <= ae["knn_accuracy"] <= 1 and 0 <= pca["knn_accuracy"] <= 1
