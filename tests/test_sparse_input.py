"""Sparse input (CSR, CSC, scipy's sparse arrays): fit, partial_fit and inference densify
one batch at a time (sklearn_ae/_data.py's SparseData), the column statistics and the PCA
start come from the sparse matrix itself."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer

import sklearn_ae._data as data_module
from sklearn_ae import AutoencoderClassifier, AutoencoderTransformer, ContractiveAutoencoder
from sklearn_ae._data import column_stats, start_pca, value_range
from sklearn_ae.nn import default_hidden_layer_sizes
from tests.conftest import ESTIMATORS, SUPERVISED, make_estimator, make_supervised


def _sparse(n_samples=240, n_features=60, density=0.1, seed=0):
    X = sp.random(n_samples, n_features, density=density, format="csr", random_state=seed)
    X.data = X.data * 4.0 - 1.0  # negative values too, and a range beyond [0, 1]
    return X


def test_column_stats_of_a_sparse_matrix_equal_the_dense_ones():
    X = _sparse()
    for got, expected in zip(column_stats(X), column_stats(X.toarray())):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert value_range(X) == value_range(X.toarray())


def test_sparse_column_stats_neither_overflow_nor_underflow():
    for factor in (1e300, 1e-170):
        X = _sparse() * factor
        rms = column_stats(X)[3]
        np.testing.assert_allclose(rms / factor, column_stats(X.toarray() / factor)[3],
                                   rtol=1e-10)


@pytest.mark.parametrize("n_components", [3, 0.5])
def test_pca_start_of_sparse_rows_is_the_dense_pca(n_components):
    X = _sparse()
    sparse_pca, dense_pca = start_pca(X, n_components), start_pca(X.toarray(), n_components)
    assert sparse_pca.n_components_ == dense_pca.n_components_
    np.testing.assert_allclose(sparse_pca.explained_variance_, dense_pca.explained_variance_,
                               rtol=1e-8)
    np.testing.assert_allclose(np.abs(sparse_pca.components_ @ dense_pca.components_.T),
                               np.eye(sparse_pca.n_components_), atol=1e-6)


def test_wide_sparse_rows_take_arpack_and_refuse_a_fraction(monkeypatch):
    monkeypatch.setattr(data_module, "SPARSE_EIGH_FEATURES", 10)
    X = _sparse(n_features=60)
    pca = start_pca(X, 60)  # ARPACK stops one short of the smaller dimension
    assert pca.n_components_ == 59
    with pytest.raises(ValueError, match=r"n_components=0.5 .*60 features.*integer"):
        start_pca(X, 0.5)
    est = make_estimator(AutoencoderTransformer, n_components=5).fit(X)
    assert est.n_components_ == 5 and np.isfinite(est.transform(X)).all()
    with pytest.raises(ValueError, match=r"n_components=0.5 .*integer"):
        make_estimator(AutoencoderTransformer, n_components=0.5).fit(X)


def _sparse_and_dense_fits(Estimator):
    X = _sparse()
    params = dict(n_components=3, early_stopping=False)
    from_sparse = make_estimator(Estimator, **params).fit(X)
    return X, from_sparse, make_estimator(Estimator, **params).fit(X.toarray())


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, ContractiveAutoencoder])
def test_fit_on_sparse_rows_is_the_fit_on_dense_rows(Estimator):
    X, from_sparse, from_dense = _sparse_and_dense_fits(Estimator)
    np.testing.assert_allclose(from_sparse.mean_, from_dense.mean_, rtol=1e-12)
    np.testing.assert_allclose(from_sparse.scale_, from_dense.scale_, rtol=1e-12)
    # the same shuffles and batches, but another PCA solver for the start and another row
    # order within each batch: float32 rounding compounded over three epochs
    codes = from_dense.transform(X.toarray())
    np.testing.assert_allclose(from_sparse.transform(X), codes,
                               atol=1e-2 * np.abs(codes).max())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_on_sparse_rows_scores_as_the_fit_on_dense_rows(Estimator):
    # members that draw noise per row (the denoiser, the VAE) pair the draws with other
    # rows when a batch is read sorted, as from a memmap: compare the fits' quality
    X, from_sparse, from_dense = _sparse_and_dense_fits(Estimator)
    np.testing.assert_allclose(from_sparse.score(X), from_dense.score(X.toarray()),
                               rtol=0.05)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("kind", ["csr_matrix", "csc_matrix", "csr_array", "csc_array"])
def test_inference_on_any_sparse_format_equals_dense(Estimator, kind):
    X = _sparse()
    est = make_estimator(Estimator, n_components=3).fit(X)
    Xs, Xd = getattr(sp, kind)(X), X.toarray()
    codes = est.transform(Xs)
    assert isinstance(codes, np.ndarray) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes, est.transform(Xd))
    np.testing.assert_array_equal(est.score_samples(Xs), est.score_samples(Xd))
    assert est.score(Xs) == est.score(Xd)
    recon = est.reconstruct(Xs)
    assert isinstance(recon, np.ndarray)
    np.testing.assert_array_equal(recon, est.reconstruct(Xd))


def test_partial_fit_takes_sparse_chunks():
    X = _sparse()
    est = make_estimator(AutoencoderTransformer, n_components=3)
    est.partial_fit(X[:120]).partial_fit(X[120:].tocsc())
    assert est.n_samples_ == 240 and est.n_iter_ == 2
    assert np.isfinite(est.transform(X)).all()


def test_sparse_rows_are_densified_one_batch_at_a_time(monkeypatch):
    X = _sparse(n_samples=600)  # 60 validation rows: they too are read a batch at a time
    densified = []
    original = sp.csr_matrix.toarray

    def recording(self, *args, **kwargs):
        densified.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", recording)
    # inference batches are cut to SPARSE_BATCH_BYTES of float64 rows: 10 rows here
    monkeypatch.setattr(data_module, "SPARSE_BATCH_BYTES", 8 * 60 * 10)
    est = make_estimator(AutoencoderTransformer, n_components=3, batch_size=32).fit(X)
    est.transform(X)
    assert densified and max(densified) <= 32
    assert sum(densified) >= 3 * 600  # every epoch and the inference passes, batch by batch


def test_sparse_data_in_bce_range_train_with_bce():
    X = _sparse()
    X.data = np.abs(X.data) / np.abs(X.data).max()
    est = make_estimator(AutoencoderTransformer, n_components=3, loss="bce").fit(X)
    out = est.inverse_transform(est.transform(X))
    assert out.shape == X.shape and out.min() >= 0.0 and out.max() <= 1.0
    X.data[0] = 2.0
    with pytest.raises(ValueError, match=r"loss='bce' needs data in \[0, 1\]"):
        est.transform(X)


def test_sparse_values_beyond_float32_are_refused_before_training():
    X = _sparse()
    X.data[0] = 1e300
    with pytest.raises(ValueError, match="1e\\+300"):
        make_estimator(AutoencoderTransformer, n_components=2).fit(X)


DOCS = [
    "the autoencoder reads sparse rows one batch at a time",
    "tfidf weighs the words of a document",
    "a sparse matrix stores only its non zero values",
    "the cat sat on the mat",
    "dogs and cats are pets",
    "the mat is on the floor",
] * 10
LABELS = np.array([0, 0, 0, 1, 1, 1] * 10)


def _pipeline_score(first, reducer, last, X, y):
    return make_pipeline(first, reducer, last).fit(X, y).score(X, y)


def test_a_text_pipeline_takes_the_autoencoder_where_truncated_svd_stood():
    ae = make_estimator(AutoencoderTransformer, n_components=3)
    score = _pipeline_score(TfidfVectorizer(), ae, LogisticRegression(), DOCS, LABELS)
    svd_score = _pipeline_score(TfidfVectorizer(), TruncatedSVD(3, random_state=0),
                                LogisticRegression(), DOCS, LABELS)
    assert score == svd_score == 1.0


def test_a_one_hot_pipeline_takes_the_autoencoder_where_pca_stood():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    binned = KBinsDiscretizer(n_bins=5, encode="onehot", quantile_method="averaged_inverted_cdf")
    assert sp.issparse(binned.fit_transform(X))
    ae = make_estimator(AutoencoderTransformer, n_components=4)
    score = _pipeline_score(binned, ae, LogisticRegression(), X, y)
    pca_score = _pipeline_score(binned, PCA(4), LogisticRegression(), X, y)
    assert score >= pca_score - 0.01 and pca_score > 0.7


@pytest.mark.parametrize("Estimator", SUPERVISED)
def test_supervised_fit_and_predict_on_sparse_rows_as_on_dense(Estimator):
    X = _sparse(n_samples=200)
    y = (np.asarray(X[:, :30].sum(axis=1)).ravel() > 0).astype(int)
    labels = y if issubclass(Estimator, ClassifierMixin) else y.astype(float)
    from_sparse = make_supervised(Estimator).fit(X, labels)
    from_dense = make_supervised(Estimator).fit(X.toarray(), labels)
    # the same model up to float32 rounding (sparse batches are read sorted)
    np.testing.assert_allclose(from_sparse.score(X, labels),
                               from_dense.score(X.toarray(), labels), atol=0.05)
    # inference on sparse rows is inference on the same rows dense
    np.testing.assert_array_equal(from_sparse.predict(X.tocsc()),
                                  from_sparse.predict(X.toarray()))
    np.testing.assert_array_equal(from_sparse.transform(X), from_sparse.transform(X.toarray()))


def test_semi_supervised_consistency_noise_from_sparse_rows_is_the_dense_one():
    X = _sparse(n_samples=200)
    y = (np.asarray(X[:, :30].sum(axis=1)).ravel() > 0).astype(int)
    y[::3] = -1
    params = dict(consistency_weight=1.0)
    from_sparse = make_supervised(AutoencoderClassifier, **params).fit(X, y)
    from_dense = make_supervised(AutoencoderClassifier, **params).fit(X.toarray(), y)
    np.testing.assert_allclose(from_sparse.consistency_noise_, from_dense.consistency_noise_,
                               rtol=1e-5)


def test_default_widths_count_every_cell_of_sparse_rows():
    # the zeros are values the decoder rebuilds too: the budget is the matrix's cells,
    # as for the same rows dense (TF-IDF rows trained on their 2% stored values alone
    # got a network too narrow to improve on the PCA start)
    X = _sparse(n_samples=200, n_features=1000, density=0.01)
    sizes = [make_estimator(AutoencoderTransformer, n_components=2, hidden_layer_sizes=None)
             .fit(data).hidden_layer_sizes_ for data in (X, X.toarray())]
    assert sizes[0] == sizes[1] == default_hidden_layer_sizes(1000, 2, None, 200 * 1000)
