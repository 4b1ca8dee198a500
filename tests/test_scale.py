"""Working at scale: pickles, inference batching, partial_fit, memmaps, threads, pandas."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import ESTIMATORS, Snapshot, initial_weights, make_arc, make_estimator
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae._data import ArrayData, is_memmap


def held_out_mse(est, X):
    return float(np.mean(np.square(est.reconstruct(X) - X)))


def weights(est):
    return {k: v.detach().clone() for k, v in est.net_.module_.state_dict().items()}


def weights_differ(a, b):
    return any(not np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


# ------------------------------------------------------------------ pickles
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_round_trip_gives_bit_identical_outputs(Estimator, dump, X_small, tmp_path):
    est = make_estimator(Estimator).fit(X_small)
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(est))
    else:
        joblib.dump(est, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    codes = est.transform(X_small)
    assert_array_equal(loaded.transform(X_small), codes)
    assert_array_equal(loaded.inverse_transform(codes), est.inverse_transform(codes))
    assert_array_equal(loaded.score_samples(X_small), est.score_samples(X_small))
    assert loaded.n_iter_ == est.n_iter_
    assert_array_equal(loaded.loss_curve_, est.loss_curve_)


# ---------------------------------------------------------- inference batches
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inference_batch_size_does_not_change_outputs(Estimator):
    X = make_arc(50, n_features=6)
    est = make_estimator(Estimator).fit(X)
    codes = est.transform(X)
    recon = est.inverse_transform(codes)
    scores = est.score_samples(X)
    full = est.reconstruct(X)

    est.set_params(inference_batch_size=7)
    codes7 = est.transform(X)
    assert codes7.dtype == np.float32 and codes7.shape == (50, est.n_components)
    recon7 = est.inverse_transform(codes7)
    assert recon7.dtype == np.float32 and recon7.shape == (50, 6)
    assert est.score_samples(X).shape == (50,)
    assert_allclose(codes7, codes, rtol=1e-6, atol=1e-6)
    assert_allclose(recon7, recon, rtol=1e-6, atol=1e-6)
    # the ELBO sums float32 terms over features in kernels whose order depends on the
    # batch's shape: agreement to ~1e-6 relative, not to the last bit
    assert_allclose(est.score_samples(X), scores, rtol=1e-5, atol=1e-6)
    assert_allclose(est.reconstruct(X), full, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inference_batch_size_set_after_fit_takes_effect(Estimator, monkeypatch):
    X = make_arc(50, n_features=6)
    est = make_estimator(Estimator).fit(X)
    module = est.net_.module_
    encode = module.encode
    batches = []

    def spy(x):
        batches.append(len(x))
        return encode(x)

    monkeypatch.setattr(module, "encode", spy)
    est.transform(X)
    assert batches == [50]  # default inference_batch_size=4096: one batch

    batches.clear()
    est.set_params(inference_batch_size=7)
    est.transform(X)
    assert batches == [7] * 7 + [1]
    assert est.n_iter_ == 3  # not refitted


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_transform_of_one_row(Estimator, X_small):
    est = make_estimator(Estimator).fit(X_small)
    one = est.transform(X_small[:1])
    assert one.shape == (1, est.n_components)
    assert_allclose(one, est.transform(X_small)[:1], rtol=1e-6, atol=1e-6)
    assert est.inverse_transform(one).shape == (1, X_small.shape[1])
    assert est.score_samples(X_small[:1]).shape == (1,)


# ---------------------------------------------------------------- partial_fit
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_sets_up_then_adds_one_epoch_per_call(Estimator, X_small):
    est = make_estimator(Estimator)
    est.partial_fit(X_small[:20])
    assert est.n_features_in_ == 5
    assert_allclose(est.mean_, X_small[:20].mean(axis=0))
    assert est.scale_ > 0
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 1
    mean, scale = est.mean_.copy(), est.scale_
    for i, chunk in enumerate((X_small[20:40], X_small[40:], X_small[:1]), start=2):
        est.partial_fit(chunk)
        assert est.n_iter_ == i
        assert len(est.loss_curve_) == i
        assert np.all(np.isfinite(est.loss_curve_))
    # the first chunk's scaling is kept
    assert_array_equal(est.mean_, mean)
    assert est.scale_ == scale


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_with_other_feature_count_raises(Estimator, X_small):
    est = make_estimator(Estimator).partial_fit(X_small)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X_small[:, :4])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_over_chunks_learns(Estimator):
    chunks = [make_arc(60, seed=seed) for seed in range(5)]
    X_test = make_arc(200, seed=99)
    params = dict(n_components=1, lr=1e-2, init="random", hidden_layer_sizes=(32,))
    first = make_estimator(Estimator, **params).partial_fit(chunks[0])
    est = make_estimator(Estimator, **params)
    for i in range(20):
        est.partial_fit(chunks[i % 5])
    assert est.n_iter_ == 20
    assert held_out_mse(est, X_test) < held_out_mse(first, X_test)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_after_fit_continues_from_fitted_weights(Estimator, X_small):
    est = make_estimator(Estimator).fit(X_small)  # early_stopping=True, the default
    n_fit = est.n_iter_
    fitted = weights(est)
    mean = est.mean_.copy()

    est.set_params(callbacks=[Snapshot()]).partial_fit(X_small[:30])
    assert est.n_iter_ == n_fit + 1
    assert len(est.loss_curve_) == n_fit + 1
    assert_array_equal(est.mean_, mean)
    # training began from the fitted weights, and changed them
    start = initial_weights(est)
    assert not weights_differ({k: v.cpu() for k, v in start.items()}, fitted)
    assert weights_differ(weights(est), fitted)
    assert np.all(np.isfinite(est.transform(X_small)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_is_reproducible(Estimator):
    chunks = [make_arc(40, seed=seed) for seed in range(3)]
    a, b = make_estimator(Estimator), make_estimator(Estimator)
    for chunk in chunks + chunks:
        a.partial_fit(chunk)
        b.partial_fit(chunk)
    X = make_arc(30, seed=7)
    assert_array_equal(a.transform(X), b.transform(X))
    assert_array_equal(a.loss_curve_, b.loss_curve_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_after_partial_fit_starts_from_scratch(Estimator, X_small):
    est = make_estimator(Estimator)
    for _ in range(4):
        est.partial_fit(X_small[:30] * 2.0)
    est.fit(X_small)
    fresh = make_estimator(Estimator).fit(X_small)
    assert est.n_iter_ == fresh.n_iter_
    assert_array_equal(est.loss_curve_, fresh.loss_curve_)
    assert_allclose(est.mean_, fresh.mean_)
    assert_array_equal(est.transform(X_small), fresh.transform(X_small))


# --------------------------------------------------------------------- memmap
def _memmap(X, tmp_path):
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    return np.load(tmp_path / "X.npy", mmap_mode="r")


def _count_calls(monkeypatch, cls, name):
    calls = []
    original = getattr(cls, name)

    def spy(self, *args, **kwargs):
        calls.append(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    return calls


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_memmap_is_streamed_and_trains_as_well(Estimator, early_stopping, tmp_path, monkeypatch):
    X = make_arc(300).astype(np.float32)
    X_test = make_arc(200, seed=1)
    params = dict(n_components=1, max_epochs=8, early_stopping=early_stopping)
    in_memory = make_estimator(Estimator, **params).fit(X)

    X_mm = _memmap(X, tmp_path)
    assert is_memmap(X_mm)
    rows = _count_calls(monkeypatch, ArrayData, "rows")
    loads = _count_calls(monkeypatch, ArrayData, "load")
    streamed = make_estimator(Estimator, **params).fit(X_mm)
    monkeypatch.undo()

    n_train = 300 - (30 if early_stopping else 0)
    if getattr(Estimator, "_streams_memmap", True):
        assert len(rows) >= streamed.n_iter_ * -(-n_train // 32)  # one read per batch
        # the validation rows are loaded once per fit, not per epoch nor per split (early
        # stopping's score of the untrained model and the closing pass split the data
        # again)
        assert len(loads) == (1 if early_stopping else 0)
    assert streamed.n_iter_ >= 1
    assert_allclose(streamed.mean_, in_memory.mean_, rtol=1e-6)
    assert held_out_mse(streamed, X_test) < 1.5 * held_out_mse(in_memory, X_test)
    assert_allclose(
        streamed.transform(X_mm), streamed.transform(np.asarray(X_mm)), rtol=1e-6, atol=1e-6
    )
    assert_allclose(
        streamed.score_samples(X_mm), streamed.score_samples(np.asarray(X_mm)),
        rtol=1e-6, atol=1e-6,
    )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_memmap_with_bce_loss(Estimator, tmp_path, monkeypatch):
    X = make_arc(200)
    X = (X - X.min()) / (X.max() - X.min())
    X_test = make_arc(100, seed=1)
    X_test = np.clip((X_test - make_arc(200).min()) / np.ptp(make_arc(200)), 0, 1)
    params = dict(loss="bce", max_epochs=5)
    in_memory = make_estimator(Estimator, **params).fit(X.astype(np.float32))

    X_mm = _memmap(X, tmp_path)
    rows = _count_calls(monkeypatch, ArrayData, "rows")
    streamed = make_estimator(Estimator, **params).fit(X_mm)
    monkeypatch.undo()
    assert len(rows) > 0 or not getattr(Estimator, "_streams_memmap", True)
    recon = streamed.reconstruct(X_mm)
    assert np.all((recon >= 0) & (recon <= 1))
    assert held_out_mse(streamed, X_test) < 1.5 * held_out_mse(in_memory, X_test)
    assert_allclose(streamed.transform(X_mm), streamed.transform(np.asarray(X_mm)), rtol=1e-6)


# --------------------------------------------------------------------- threads
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_concurrent_inference_matches_serial(Estimator, X_small):
    est = make_estimator(Estimator, inference_batch_size=16).fit(X_small)
    rng = np.random.RandomState(1)
    inputs = [rng.randn(40 + i, 5) * 2.0 + 1.0 for i in range(8)]
    serial_codes = [est.transform(X) for X in inputs]
    serial_scores = [est.score_samples(X) for X in inputs]

    def work(i):
        return i, est.transform(inputs[i]), est.score_samples(inputs[i])

    # conftest sets torch to one intra-op thread, so results are bit-identical
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, [i for _ in range(4) for i in range(8)]))
    assert len(results) == 32
    for i, codes, scores in results:
        assert_array_equal(codes, serial_codes[i])
        assert_array_equal(scores, serial_scores[i])


# ---------------------------------------------------------------------- pandas
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pandas_output_round_trip(Estimator, X_small):
    X_df = pd.DataFrame(X_small, columns=[f"f{i}" for i in range(5)])
    est = make_estimator(Estimator).fit(X_df)
    est.set_output(transform="pandas")
    codes = est.transform(X_df)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == list(est.get_feature_names_out())
    assert_array_equal(codes.index, X_df.index)
    recon = est.inverse_transform(codes)
    assert recon.shape == X_small.shape
    assert_allclose(recon, est.reconstruct(X_df), rtol=1e-5, atol=1e-5)
    assert_array_equal(codes.to_numpy(), est.set_output(transform="default").transform(X_df))
