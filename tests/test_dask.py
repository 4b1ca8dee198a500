"""Dask: arrays streamed into fit block by block, lazy block-wise inference, their bad
input, and hyperparameter searches on a Dask cluster (worker processes and threads)."""

import contextlib
import faulthandler

import numpy as np
import pytest
from conftest import ESTIMATORS, make_arc, make_estimator
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae import AutoencoderTransformer
from sklearn_ae._data import BlockData

da = pytest.importorskip("dask.array", reason="needs the [distributed] extra")

CHUNK = 50


class Recorder:
    """An array that records how many rows each read takes (Dask reads it through
    ``da.from_array``): the whole array is never read at once when every read is a chunk."""

    ndim = 2

    def __init__(self, X):
        self.X = np.asarray(X, dtype=np.float32)
        self.shape, self.dtype = self.X.shape, self.X.dtype
        self.reads = []

    def __getitem__(self, key):
        out = self.X[key]
        self.reads.append(out.shape[0])
        return out


def recorded(X, chunks=(CHUNK, -1)):
    source = Recorder(X)
    return da.from_array(source, chunks=chunks, asarray=True), source


def held_out_mse(est, X):
    return float(np.mean(np.square(est.reconstruct(X) - X)))


@contextlib.contextmanager
def deadline(seconds):
    """Kill the test process (with every thread's traceback) if the block hangs."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


# ------------------------------------------------------------------------ fit
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_streams_chunks_and_trains_as_well(Estimator, early_stopping, monkeypatch):
    X = make_arc(400).astype(np.float32)
    X_test = make_arc(200, seed=1)
    params = dict(n_components=1, max_epochs=8, early_stopping=early_stopping)
    in_memory = make_estimator(Estimator, **params).fit(X)

    Xd, source = recorded(X)
    streamed = make_estimator(Estimator, **params).fit(Xd)
    # every read is one chunk: the array is never materialised
    assert 0 < max(source.reads) <= CHUNK
    assert streamed.n_features_in_ == 8 and streamed.n_samples_ == 400
    assert_allclose(streamed.mean_, in_memory.mean_, rtol=1e-5)
    assert streamed.scale_ == pytest.approx(in_memory.scale_, rel=1e-5)
    assert held_out_mse(streamed, X_test) < 1.5 * held_out_mse(in_memory, X_test)
    again = make_estimator(Estimator, **params).fit(recorded(X)[0])
    assert_array_equal(again.transform(X), streamed.transform(X))


@pytest.mark.parametrize("early_stopping", [False, True])
def test_fit_reads_each_chunk_once_per_pass(early_stopping, monkeypatch):
    X = make_arc(400)
    calls = []
    original = BlockData.batches

    def spy(self, *args, **kwargs):
        calls.append(len(self))
        yield from original(self, *args, **kwargs)

    monkeypatch.setattr(BlockData, "batches", spy)
    Xd, source = recorded(X)
    params = dict(early_stopping=early_stopping, max_epochs=3, n_iter_no_change=10)
    est = make_estimator(AutoencoderTransformer, **params).fit(Xd)
    reads = len([r for r in source.reads if r])
    # 3 epochs and the closing pass over the training rows, the statistics (2 passes), the
    # PCA start's sample (1) and the validation rows (1, however often the fit splits):
    # passes of 8 chunks, less a chunk when a pass starts where the last one ended (the
    # last chunk read is kept)
    passes = 7 + early_stopping
    assert calls == [400 - 40 * early_stopping] * 4
    assert passes * 8 - passes + 1 <= reads <= passes * 8
    assert est.n_iter_ == 3


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_streams_a_dask_chunk(Estimator):
    X = make_arc(200)
    Xd, source = recorded(X)
    est = make_estimator(Estimator).partial_fit(Xd[:100]).partial_fit(Xd[100:])
    assert 0 < max(source.reads) <= CHUNK
    assert est.n_iter_ == 2 and est.n_samples_ == 200
    assert np.all(np.isfinite(est.transform(X)))


# ------------------------------------------------------------------ inference
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inference_is_lazy_and_block_by_block(Estimator):
    X = make_arc(230).astype(np.float32)  # as Recorder hands it over
    est = make_estimator(Estimator, inference_batch_size=16).fit(X)
    Xd, source = recorded(X)
    codes = est.transform(Xd)
    scores = est.score_samples(Xd)
    recon = est.inverse_transform(codes)
    assert isinstance(codes, da.Array) and isinstance(recon, da.Array)
    assert codes.chunks == (Xd.chunks[0], (est.n_components_,))
    assert recon.chunks == Xd.chunks and scores.chunks == (Xd.chunks[0],)
    assert codes.dtype == recon.dtype == np.float32
    assert source.reads.count(0) == len(source.reads)  # nothing computed yet
    # chunks of 50 rows give other batch shapes than the whole array: BLAS kernels may
    # round the last bit differently (MKL: 1 ulp); codes near 0 come from O(1) terms
    assert_allclose(codes.compute(), est.transform(X), rtol=1e-5, atol=1e-5)
    assert max(source.reads) <= CHUNK
    assert_allclose(
        recon.compute(), est.inverse_transform(est.transform(X)), rtol=1e-5, atol=1e-5
    )
    assert_allclose(scores.compute(), est.score_samples(X), rtol=1e-5, atol=1e-6)
    assert_allclose(est.reconstruct(Xd).compute(), est.reconstruct(X), rtol=1e-6, atol=1e-6)


def test_chunks_along_the_features_are_merged():
    X = make_arc(120)
    est = make_estimator(AutoencoderTransformer).fit(da.from_array(X, chunks=(CHUNK, 3)))
    codes = est.transform(da.from_array(X, chunks=(CHUNK, 3)))
    assert codes.chunks[1] == (est.n_components_,)
    assert_allclose(codes.compute(), est.transform(X), rtol=1e-5, atol=1e-5)  # other batches


def test_inference_accepts_unknown_row_chunk_sizes():
    X = make_arc(120)
    est = make_estimator(AutoencoderTransformer).fit(X)
    Xd = da.from_array(X, chunks=(CHUNK, -1))
    unknown = Xd[Xd[:, 0] > -np.inf]  # a filter: its chunk sizes are unknown (NaN)
    assert np.isnan(unknown.shape[0])
    assert_allclose(est.transform(unknown).compute(), est.transform(X), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ bad input
def test_fit_refuses_unknown_chunk_sizes():
    Xd = da.from_array(make_arc(120), chunks=(CHUNK, -1))
    est = make_estimator(AutoencoderTransformer)
    with pytest.raises(ValueError, match=r"unknown chunk sizes .*X.compute_chunk_sizes\(\)"):
        est.fit(Xd[Xd[:, 0] > -np.inf])
    assert not hasattr(est, "n_features_in_")


def test_dask_collections_other_than_arrays_are_refused():
    db = pytest.importorskip("dask.bag")
    est = make_estimator(AutoencoderTransformer)
    with pytest.raises(TypeError, match=r"only Dask arrays .*X.to_dask_array\(lengths=True\)"):
        est.fit(db.from_sequence([[1.0, 2.0], [3.0, 4.0]]))


def test_dask_dataframe_is_refused_naming_the_conversion():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe", reason="dask.dataframe needs pyarrow")
    ddf = dd.from_pandas(pd.DataFrame(make_arc(60)), npartitions=2)
    est = make_estimator(AutoencoderTransformer).fit(make_arc(60))
    for method in (est.fit, est.transform):
        with pytest.raises(TypeError, match=r"Dask DataFrame.*to_dask_array\(lengths=True\)"):
            method(ddf)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (da.ones(10, chunks=5), ValueError, "2-D Dask array; got 1 dimension"),
        (da.ones((10, 3), dtype=bool, chunks=5), TypeError, "dtype bool; a numeric"),
    ],
)
def test_bad_dask_arrays_are_refused(X, error, match):
    with pytest.raises(error, match=match):
        make_estimator(AutoencoderTransformer).fit(X)


def test_non_finite_values_name_their_rows():
    X = make_arc(200)
    X[130, 2] = np.nan
    est = make_estimator(AutoencoderTransformer)
    with pytest.raises(ValueError, match="NaN or infinity in rows 100 to 149"):
        est.fit(da.from_array(X, chunks=(CHUNK, -1)))
    est.fit(make_arc(200))
    codes = est.transform(da.from_array(X, chunks=(CHUNK, -1)))  # lazy: no error yet
    with pytest.raises(ValueError, match="Input X contains NaN"):
        codes.compute()


def test_width_is_checked_before_anything_is_computed():
    est = make_estimator(AutoencoderTransformer).fit(make_arc(60))
    Xd, source = recorded(make_arc(60, n_features=5))
    with pytest.raises(ValueError, match="X has 5 features"):
        est.transform(Xd)
    with pytest.raises(ValueError, match="n_components_=2 features"):
        est.inverse_transform(Xd)
    assert not any(source.reads)


def test_pandas_output_of_a_lazy_array_is_refused():
    est = make_estimator(AutoencoderTransformer).fit(make_arc(60))
    est.set_output(transform="pandas")
    with pytest.raises(ValueError, match="set_output"):
        est.transform(da.from_array(make_arc(60), chunks=CHUNK))


# -------------------------------------------------------- search on a cluster
def _searches():
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    est = make_estimator(AutoencoderTransformer, n_components=1, max_epochs=4)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "lr": [1e-3, 1e-2]}
    return [
        GridSearchCV(est, {"hidden_layer_sizes": grid["hidden_layer_sizes"]}, cv=2),
        RandomizedSearchCV(est, grid, n_iter=3, cv=2, random_state=0),
    ]


def _results(search):
    return search.cv_results_["mean_test_score"], search.cv_results_["params"]


@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_search_on_a_dask_cluster_equals_the_sequential_search(processes):
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X = make_arc(120)
    sequential = [search.fit(X) for search in _searches()]
    with deadline(240):
        # two threads per worker: fits share worker processes, as on a real cluster
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=processes,
            dashboard_address=None, worker_dashboard_address=None,
        )
        # connected by address, as to a remote scheduler
        with cluster, distributed.Client(cluster.scheduler_address, timeout="60s"):
            with joblib.parallel_backend("dask", wait_for_workers_timeout=60):
                on_cluster = [search.fit(X) for search in _searches()]
    for seq, par in zip(sequential, on_cluster):
        assert_array_equal(_results(par)[0], _results(seq)[0])
        assert _results(par)[1] == _results(seq)[1]
        assert par.best_params_ == seq.best_params_
        assert_array_equal(par.best_estimator_.transform(X), seq.best_estimator_.transform(X))
