"""NeighborEmbeddingAutoencoder and its fuzzy graph (sklearn_ae/_neighbors.py,
sklearn_ae/_fuzzy_graph.py). The family-wide tests (conftest.ESTIMATORS) cover the rest of
its contract."""

import math

import numpy as np
import pytest
import torch
from conftest import Snapshot, initial_weights, make_estimator
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier

import sklearn_ae
import sklearn_ae._fuzzy_graph as fg
from sklearn_ae import NeighborEmbeddingAutoencoder
from sklearn_ae._neighbors import EdgeBatches, NeighborData, NeighborGraph
from sklearn_ae.nn import CodeScale
from sklearn_ae.losses import (
    block_embedding_loss,
    contrastive_embedding_loss,
    neighbor_embedding_loss,
)


def _blobs(n_samples=240, seed=0):
    return make_blobs(n_samples=n_samples, n_features=10, centers=4, cluster_std=1.0,
                      random_state=seed)


def _fit(X, y=None, **params):
    params = {"max_epochs": 15, "hidden_layer_sizes": (32,), "lr": 1e-2,
              "batch_size": 64, "early_stopping": False, **params}
    return make_estimator(NeighborEmbeddingAutoencoder, **params).fit(X, y)


# ------------------------------------------------------------------ the graph
def test_find_ab_params_matches_umap_learn_values():
    # umap-learn's find_ab_params(1.0, 0.1) (its default min_dist): a=1.577, b=0.895
    a, b = fg.find_ab_params(1.0, 0.1)
    assert a == pytest.approx(1.577, abs=2e-3)
    assert b == pytest.approx(0.895, abs=2e-3)
    # a larger min_dist flattens the curve near 0
    a2, b2 = fg.find_ab_params(1.0, 0.5)
    assert a2 < a


def test_smooth_knn_dist_solves_for_log2_k():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 4)
    index = fg.KNNIndex(X, 8, "exact", 0)
    assert_array_equal(index.indices[:, 0], np.arange(50))  # the row itself first
    rho, sigma = fg.smooth_knn_dist(index.distances, 8)
    assert_allclose(rho, index.distances[:, 1])  # the nearest other row
    psum = np.exp(-np.maximum(index.distances[:, 1:] - rho[:, None], 0) / sigma[:, None])
    assert_allclose(psum.sum(axis=1), math.log2(8), atol=1e-3)


def test_fuzzy_graph_is_the_fuzzy_union_of_memberships():
    rng = np.random.RandomState(1)
    X = rng.randn(40, 3)
    index = fg.KNNIndex(X, 6, "exact", 0)
    P = fg.fuzzy_graph(index.indices, index.distances).toarray()
    # the same by a plain loop over the directed memberships
    rho, sigma = fg.smooth_knn_dist(index.distances, 6)
    W = np.zeros((40, 40))
    for i in range(40):
        for j, d in zip(index.indices[i, 1:], index.distances[i, 1:]):
            W[i, j] = math.exp(-max(0.0, d - rho[i]) / sigma[i])
    assert_allclose(P, W + W.T - W * W.T, atol=1e-12)
    assert_allclose(P, P.T)
    assert P.max() <= 1.0 and np.all(np.diag(P) == 0)


def test_edge_sampler_draws_in_proportion_to_weights():
    import scipy.sparse as sp

    graph = sp.csr_matrix(np.array([[0, 1.0, 0], [0, 0, 2.0], [7.0, 0, 0]]))
    sampler = fg.EdgeSampler(graph, "cpu")
    heads, tails = sampler.sample(40_000, torch.Generator().manual_seed(0))
    edges = list(zip(heads.tolist(), tails.tolist()))
    freq = [edges.count(e) / len(edges) for e in [(0, 1), (1, 2), (2, 0)]]
    assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.01)


def test_new_rows_get_normalised_memberships():
    X = np.random.RandomState(2).randn(60, 3)
    index = fg.KNNIndex(X[:50], 5, "exact", 0)
    neighbors, weights = fg.new_row_memberships(index, X[50:])
    assert neighbors.shape == weights.shape == (10, 5)
    assert_allclose(weights.sum(axis=1), 1.0)
    assert np.all(neighbors < 50)
    # with labels, weighed as the supervised graph's edges and normalised again
    train_labels, labels = np.arange(50) % 3 - 1, np.arange(10) % 2
    def weigh(indices):
        return fg.label_factors(labels[:, None], train_labels[indices], 0.5)

    got = fg.new_row_memberships(index, X[50:], weigh)
    assert_array_equal(got[0], neighbors)
    factor = weigh(neighbors)
    want = weights * factor
    assert_allclose(got[1], want / want.sum(axis=1, keepdims=True))
    assert set(np.unique(factor).round(6)) == {1.0, np.exp(-1.0).round(6),
                                               np.exp(-5.0).round(6)}


def test_knn_method_auto_and_missing_pynndescent(monkeypatch):
    assert fg.resolve_knn_method("auto", 100) == "exact"
    assert fg.resolve_knn_method("exact", 10**6) == "exact"
    monkeypatch.setattr(fg, "have_pynndescent", lambda: False)
    assert fg.resolve_knn_method("auto", 10**6) == "exact"
    with pytest.raises(ImportError, match="pynndescent"):
        fg.resolve_knn_method("approximate", 100)


def test_approximate_graph_agrees_with_the_exact_one():
    pytest.importorskip("pynndescent", reason="the approximate graph needs pynndescent")
    X, _ = _blobs(300)
    exact = fg.KNNIndex(X, 10, "exact", 0)
    approx = fg.KNNIndex(X, 10, "approximate", 0)
    overlap = np.mean([len(set(a) & set(b)) / 10
                       for a, b in zip(exact.indices, approx.indices)])
    assert overlap > 0.95
    assert_array_equal(approx.indices[:, 0], np.arange(300))


# ------------------------------------------------------------------ the loss
def test_neighbor_embedding_loss_is_the_exact_cross_entropy():
    a, b = 1.5, 0.9
    heads = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    tails = torch.tensor([[3.0, 4.0], [1.0, 2.5]])
    negatives = torch.tensor([[[1.0, 0.0]], [[4.0, 6.0]]])

    def q(d2):
        return 1.0 / (1.0 + a * d2**b)

    got = neighbor_embedding_loss(heads, tails, negatives, a, b, eps=0.0)
    d2_pos = ((heads - tails) ** 2).sum(1)
    d2_neg = ((heads - negatives[:, 0]) ** 2).sum(1)
    want = -torch.log(q(d2_pos)) - torch.log(1 - q(d2_neg))
    assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    # exaggeration weighs the attraction alone
    got = neighbor_embedding_loss(heads, tails, negatives, a, b, eps=0.0, exaggeration=1.5)
    want = -1.5 * torch.log(q(d2_pos)) - torch.log(1 - q(d2_neg))
    assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    # at distance 0 the eps keeps the repulsion and its gradient finite
    z = torch.zeros(1, 2, requires_grad=True)
    loss = neighbor_embedding_loss(z, None, torch.zeros(1, 1, 2), a, b).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_contrastive_embedding_loss_is_infonce_with_the_cauchy_kernel():
    heads = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    tails = torch.tensor([[3.0, 4.0], [1.0, 2.5]])
    negatives = torch.tensor([[[1.0, 0.0], [0.0, 2.0]], [[4.0, 6.0], [1.0, 2.0]]])

    def q(u, v):
        return 1.0 / (1.0 + ((u - v) ** 2).sum(-1))

    pos = q(heads, tails)
    want = -torch.log(pos / (pos + q(heads[:, None], negatives).sum(1)))
    assert_allclose(contrastive_embedding_loss(heads, tails, negatives).numpy(),
                    want.numpy(), rtol=1e-6)
    # exaggeration: the attraction -log q(h, t) weighs 1.5 instead of 1
    assert_allclose(contrastive_embedding_loss(heads, tails, negatives, 1.5).numpy(),
                    (want - 0.5 * torch.log(pos)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("objective", ["umap", "infonce"])
def test_block_loss_is_the_loss_against_the_blocks_other_tails(objective):
    # 11 edges in blocks of 4: the last block has 3, and each head's negatives are the
    # other tails of its own block, never of another
    heads = torch.randn(11, 2, generator=torch.Generator().manual_seed(0))
    tails = torch.randn(11, 2, generator=torch.Generator().manual_seed(1))
    heads.requires_grad_(True)
    got = block_embedding_loss(heads, tails, 4, objective, a=1.5, b=0.9, exaggeration=1.3)
    got.sum().backward()  # the short block's missing columns pass no NaN back
    assert torch.isfinite(heads.grad).all()
    for i in range(11):
        block = range(i - i % 4, min(i - i % 4 + 4, 11))
        negatives = tails[[j for j in block if j != i]][None]
        if objective == "umap":
            want = neighbor_embedding_loss(heads[i:i + 1], tails[i:i + 1], negatives,
                                           1.5, 0.9, exaggeration=1.3)
        else:
            want = contrastive_embedding_loss(heads[i:i + 1], tails[i:i + 1], negatives,
                                              1.3)
        assert got[i].item() == pytest.approx(want.item(), rel=1e-5)


# ------------------------------------------------------------------ the estimator
def test_map_separates_clusters_and_is_trustworthy():
    X, y = _blobs()
    est = _fit(X)
    codes = est.transform(X)
    # the PCA start already separates blobs this clear; training must keep that and
    # make the map trustworthy
    acc = KNeighborsClassifier(5).fit(codes[:180], y[:180]).score(codes[180:], y[180:])
    assert acc >= 0.95
    assert est.score(X) > 0.85
    assert est.loss_curve_[-1] < est.loss_curve_[0]


def _cluster_spread(codes, y):
    """Mean distance of the codes to their class's centre over the mean distance between
    the centres."""
    classes = np.unique(y)
    centres = np.array([codes[y == k].mean(axis=0) for k in classes])
    within = np.mean([np.linalg.norm(codes[y == k] - centres[i], axis=1).mean()
                      for i, k in enumerate(classes)])
    between = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    return within / between[np.triu_indices(len(classes), 1)].mean()


@pytest.mark.parametrize("objective", ["infonce", "umap"])
def test_exaggeration_tightens_the_clusters(objective):
    X, y = _blobs()
    spreads = [_cluster_spread(_fit(X, objective=objective, exaggeration=e,
                                    random_state=0).transform(X), y) for e in (1.0, 3.0)]
    # measured: InfoNCE 0.067 -> 0.001, UMAP 0.073 -> 0.064 (seeds 0 to 2 alike)
    assert spreads[1] < spreads[0] * (0.5 if objective == "infonce" else 0.95)



@pytest.mark.parametrize("objective", ["infonce", "umap"])
def test_validation_loss_weighs_the_attraction_by_exaggeration(objective):
    # early stopping judges the objective that training minimises, exaggeration included
    net = _fit(_blobs(60)[0], max_epochs=1, objective=objective).net_
    g = torch.Generator().manual_seed(0)
    rows, neighbors = torch.randn(5, 2, generator=g), torch.randn(5, 3, 2, generator=g)
    negatives, weights = torch.randn(5, 4, 2, generator=g), torch.rand(5, 3, generator=g)
    losses = []
    for exaggeration in (1.0, 2.0):
        net.exaggeration = exaggeration
        losses.append(net._valid_map_losses(rows, neighbors, negatives, weights))
    heads = rows[:, None].expand_as(neighbors).reshape(-1, 2)
    if objective == "umap":
        attraction = neighbor_embedding_loss(heads, neighbors.reshape(-1, 2), None, net.a,
                                             net.b)
    else:
        attraction = torch.log1p((heads - neighbors.reshape(-1, 2)).pow(2).sum(-1))
    want = (weights * attraction.reshape(5, 3)).sum(1)
    assert_allclose((losses[1] - losses[0]).numpy(), want.numpy(), rtol=1e-5)

def test_umap_objective_trains_a_trustworthy_map():
    X, y = _blobs()
    est = _fit(X, objective="umap")
    assert est.negative_sample_rate_ == 5  # "auto": umap-learn's default for its objective
    codes = est.transform(X)
    acc = KNeighborsClassifier(5).fit(codes[:180], y[:180]).score(codes[180:], y[180:])
    assert acc >= 0.95 and est.score(X) > 0.85
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est.exaggeration_ == 1.0  # "auto": UMAP's own objective
    default = _fit(X, max_epochs=1)
    assert default.negative_sample_rate_ == 127 and default.exaggeration_ == 1.2
    assert _fit(X, max_epochs=1, negative_sample_rate=7).negative_sample_rate_ == 7


def _edge_batches(X, noise_std, seed=0):
    rows = torch.as_tensor(X, dtype=torch.float32)
    index = fg.KNNIndex(X, 10, "exact", 0)
    sampler = fg.EdgeSampler(fg.fuzzy_graph(index.indices, index.distances), "cpu")
    graph = NeighborGraph(rows, sampler, len(X))
    batches = EdgeBatches(NeighborData(rows, rows, graph), 400, noise_std,
                          torch.Generator().manual_seed(seed))
    return graph, batches


@pytest.mark.parametrize("jitter", [0.0, 0.5])
def test_jitter_moves_the_heads_by_its_share_of_the_median_edge(jitter):
    X, _ = _blobs(400)
    est = _fit(X, max_epochs=1, jitter=jitter)
    graph, _ = _edge_batches(X, 0.0)
    median = graph.median_edge_length(torch.Generator().manual_seed(1))
    noise_std = est.net_._noise_std(graph, None)  # the median is measured once a graph
    assert noise_std == pytest.approx(jitter * median / math.sqrt(X.shape[1]))
    graph, batches = _edge_batches(X, noise_std)
    rows, batch = next(iter(batches))
    # the reconstructed heads' targets are the rows without noise
    moved = (rows[:len(batch.targets)] - batch.targets).norm(dim=1)
    if jitter == 0:
        assert_array_equal(moved.numpy(), 0)
    else:  # the noise's mean length: about jitter median edge lengths
        assert moved.mean().item() == pytest.approx(jitter * median, rel=0.1)


def test_training_beats_the_pca_map():
    # the default random start trained on the objective keeps neighbourhoods better than
    # PCA's map (the untrained PCA start)
    X = load_digits().data[:400]
    y = load_digits().target[:400]
    pca_map = _fit(X, max_epochs=1, lr=1e-9, init="pca")
    trained = _fit(X, max_epochs=30, lr=1e-2, hidden_layer_sizes=(64,))
    assert trained.score(X) > pca_map.score(X) + 0.04  # 0.935 against 0.872

    def knn(est):
        codes = est.transform(X)
        return KNeighborsClassifier(5).fit(codes[:300], y[:300]).score(codes[300:], y[300:])

    assert knn(trained) > knn(pca_map) + 0.1  # 0.80 against 0.58


def test_score_is_sklearn_trustworthiness():
    X, _ = _blobs(120)
    est = _fit(X, max_epochs=2)
    scores = est.score_samples(X)
    assert scores.shape == (120,)
    assert est.score(X) == pytest.approx(scores.mean())
    want = trustworthiness(X, est.transform(X), n_neighbors=est.score_neighbors)
    assert est.score(X) == pytest.approx(want, abs=1e-3)  # (ties may rank apart)
    est.set_params(score_neighbors=3)
    want = trustworthiness(X, est.transform(X), n_neighbors=3)
    assert est.score(X) == pytest.approx(want, abs=1e-3)
    assert_array_equal(est.score_samples(X[:2]), [1.0, 1.0])  # no wrong neighbour to have


def test_transform_is_a_per_row_function():
    X, _ = _blobs(120)
    est = _fit(X, max_epochs=2)
    assert_allclose(est.transform(X[:7]), est.transform(X)[:7], rtol=1e-6, atol=1e-6)
    assert_allclose(est.transform(X[50:51]), est.transform(X)[50:51], rtol=1e-6, atol=1e-6)


def test_fitted_attributes_and_small_data():
    X, _ = _blobs(40)
    est = _fit(X, max_epochs=2, n_neighbors=100)
    assert est.n_neighbors_ == 40  # lowered to the rows there are
    assert est.knn_method_ == "exact"
    assert (est.a_, est.b_) == pytest.approx(fg.find_ab_params(1.0, 0.1))
    assert est.hidden_layer_sizes_ == (32,)
    assert est.input_pca_ is None  # 10 features: the rows themselves
    index = fg.KNNIndex(X, 40, "exact", 0)  # the graph of every row (no validation rows)
    assert est.n_edges_ == fg.fuzzy_graph(index.indices, index.distances).nnz
    default = make_estimator(NeighborEmbeddingAutoencoder, hidden_layer_sizes=None,
                             max_epochs=1).fit(np.random.RandomState(0).rand(3000, 784))
    assert default.hidden_layer_sizes_ == (128,) * 5
    assert default.input_pca_ == 100


def _code_scale(est):
    """The scale the decoder divides the codes by."""
    scales = [m for m in est.net_.module_.decoder.modules() if isinstance(m, CodeScale)]
    assert len(scales) == 1
    return scales[0].scale.item()


def _digits_on_axes(**params):
    X = load_digits().data[:300]
    return X, _fit(X, max_epochs=3, input_pca=10, **params)


def test_encoder_reads_fixed_principal_axes():
    X, est = _digits_on_axes()
    axes = est.net_.module_.encoder[0].axes.numpy()
    pca = PCA(10).fit(X)
    # the training rows' first principal axes (signs aside), written once, not trained
    assert_allclose(np.abs(axes @ pca.components_.T), np.eye(10), atol=1e-4)
    assert est.input_pca_ == 10
    assert [p.shape[1] for p in est.net_.module_.encoder.parameters() if p.ndim == 2][0] == 10
    # the reconstructions lie in the axes' span around the mean
    offsets = est.reconstruct(X) - est.mean_
    assert_allclose(offsets - offsets @ pca.components_.T @ pca.components_, 0, atol=1e-3)
    assert _fit(X, max_epochs=1, input_pca=None).input_pca_ is None


def test_pca_start_through_the_axes_is_pca():
    X, est = _digits_on_axes(init="pca", lr=1e-9)
    pca = PCA(2).fit(X)
    codes = est.transform(X)
    # the PCA start's map, in the map's units: PCA's scores up to sign and one scale
    ratio = codes / pca.transform(X)
    assert_allclose(np.abs(ratio), np.abs(ratio[0, 0]), rtol=1e-2)


@pytest.mark.parametrize("input_pca", [10, None])
def test_pca_start_rebuilds_as_pca_while_the_code_scale_follows(input_pca):
    # the decoder's CodeScale follows the codes from the first step on: the start's
    # reconstruction holds meanwhile (from a scale of 1 it read the codes shrunk)
    X = load_digits().data[:300]
    est = _fit(X, max_epochs=3, input_pca=input_pca, init="pca", lr=1e-9)
    assert _code_scale(est) != 1.0  # the scale did follow
    pca = PCA(2).fit(X)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    mse = np.mean((est.inverse_transform(est.transform(X)) - X) ** 2)
    assert mse == pytest.approx(pca_mse, rel=0.02)


def test_axes_survive_save_load_and_onnx(tmp_path):
    X, est = _digits_on_axes()
    sklearn_ae.save(est, tmp_path / "nea.zip")
    loaded = sklearn_ae.load(tmp_path / "nea.zip")
    assert_array_equal(loaded.transform(X), est.transform(X))
    assert_array_equal(loaded.inverse_transform(est.transform(X)),
                       est.inverse_transform(est.transform(X)))
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(est.to_onnx().SerializeToString())
    codes = session.run(None, {"X": X.astype(np.float32)})[0]
    assert_allclose(codes, est.transform(X), rtol=1e-4, atol=1e-4)


def test_maps_saved_before_exaggeration_load_with_the_value_they_used(tmp_path,
                                                                       monkeypatch):
    X, _ = _blobs(60)
    est = _fit(X, max_epochs=1)
    state = est.__getstate__()
    del state["exaggeration_"]  # a pickle written before the parameter existed
    old = NeighborEmbeddingAutoencoder.__new__(NeighborEmbeddingAutoencoder)
    old.__setstate__(state)
    assert est.exaggeration_ == 1.2 and old.exaggeration_ == 1.0
    assert_array_equal(old.transform(X), est.transform(X))
    # and a file without it
    sklearn_ae.save(est, tmp_path / "nea.zip")
    original = NeighborEmbeddingAutoencoder._from_saved.__func__

    def from_old_file(cls, params, attributes, module_state, history):
        attributes = {k: v for k, v in attributes.items() if k != "exaggeration_"}
        return original(cls, params, attributes, module_state, history)

    monkeypatch.setattr(NeighborEmbeddingAutoencoder, "_from_saved",
                        classmethod(from_old_file))
    assert sklearn_ae.load(tmp_path / "nea.zip").exaggeration_ == 1.0


def test_validation_loss_is_the_neighbour_objective():
    X, _ = _blobs(200)
    est = _fit(X, early_stopping=True, max_epochs=4)
    assert len(est.validation_loss_curve_) == 4
    assert np.isfinite(est.validation_loss_curve_).all()
    # it is the training objective's scale (neighbour terms plus reconstruction), not
    # the reconstruction alone
    assert est.validation_loss_curve_[0] > 1.0 - est.train_explained_variance_ratio_


def test_reconstruction_weight_zero_leaves_the_decoder_at_its_start():
    X, _ = _blobs(120)
    est = _fit(X, max_epochs=3, reconstruction_weight=0.0, callbacks=[Snapshot()])
    start = initial_weights(est)
    for name, value in est.net_.module_.state_dict().items():
        if name.startswith("decoder."):
            assert_array_equal(value.numpy(), start[name].numpy())
    assert any(not torch.equal(value, start[name])
               for name, value in est.net_.module_.state_dict().items()
               if name.startswith("encoder."))


def test_decoder_rebuilds_better_than_the_mean():
    X, _ = _blobs(240)
    est = _fit(X, reconstruction_weight=1.0)
    mse = np.mean((est.reconstruct(X) - X) ** 2)
    assert mse < np.mean((X - X.mean(axis=0)) ** 2) * 0.5


def test_decoder_reads_the_codes_at_about_unit_scale():
    # the map's codes grow to tens of units: the decoder divides them by a running rms
    # (a decoder reading raw codes lost every unit of its first layer in some MNIST fits)
    X, _ = _blobs(240)
    est = _fit(X, max_epochs=30)
    codes = est.transform(X)
    rms = float(np.sqrt(np.mean(codes**2)))
    scale = _code_scale(est)
    assert rms > 2.0  # far from the unit the scale starts at
    assert 0.5 < scale / rms < 2.0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_neighbors": 1}, "n_neighbors"),
        ({"min_dist": -0.1}, "min_dist"),
        ({"negative_sample_rate": 0}, "negative_sample_rate"),
        ({"reconstruction_weight": -1.0}, "reconstruction_weight"),
        ({"knn_method": "ball_tree"}, "knn_method"),
        ({"min_dist": 2.0}, "must not exceed spread"),
        ({"data_parallel": True}, "data_parallel=True is not supported"),
    ],
)
def test_invalid_parameters(params, match):
    X, _ = _blobs(60)
    est = make_estimator(NeighborEmbeddingAutoencoder, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_approximate_fit_runs_where_pynndescent_is_installed():
    pytest.importorskip("pynndescent", reason="knn_method='approximate' needs pynndescent")
    X, _ = _blobs(200)
    est = _fit(X, max_epochs=2, knn_method="approximate")
    assert est.knn_method_ == "approximate"
    assert np.isfinite(est.transform(X)).all()


def test_training_on_the_axes_gives_the_full_squared_error():
    from sklearn_ae._neighbors import EdgeBatch, NeighborGraph

    X, est = _digits_on_axes()
    net, module = est.net_, est.net_.module_
    rows = torch.as_tensor((X[:50] - est.mean_) / est.scale_, dtype=torch.float32)
    graph = NeighborGraph(rows, [], 50)
    graph.project(module.encoder[0])
    with torch.no_grad():
        assert_allclose(graph.on_axes.numpy(), module.encoder[0](rows).numpy())
        on_axes = module.decoder[0](module.encoder[1](graph.on_axes))
        full = torch.mean((module.decoder[1](on_axes) - rows) ** 2)
        batch = EdgeBatch(50, graph.on_axes, graph.off_axes)
        assert net._edge_recon_loss(on_axes, batch).item() == pytest.approx(full.item(),
                                                                           rel=1e-4)


# ------------------------------------------------------------------ supervised maps
def test_intersect_labels_weakens_edges_across_classes():
    X, _ = _blobs(60)
    index = fg.KNNIndex(X, 8, "exact", 0)
    graph = fg.fuzzy_graph(index.indices, index.distances)
    labels = np.arange(60) % 3 - 1  # -1 (unlabeled), 0 and 1
    got = fg.intersect_labels(graph, labels, 0.5).toarray()
    # by hand: the factors, each row scaled to its largest entry, the fuzzy union
    G = graph.toarray()
    a, b = labels[:, None], labels[None, :]
    factor = np.where((a == -1) | (b == -1), np.exp(-1.0),
                      np.where(a != b, np.exp(-2.5 / 0.5), 1.0))
    W = G * factor
    W = W / W.max(axis=1, keepdims=True)
    assert_allclose(got, W + W.T - W * W.T, atol=1e-12)
    # target_weight=1: no edge is left between two labelled rows of different classes
    cut = fg.intersect_labels(graph, labels, 1.0).toarray()
    labelled = (a != -1) & (b != -1)
    assert not cut[labelled & (a != b)].any() and cut[labelled & (a == b)].any()


def test_supervised_validation_rows_are_weighed_by_their_labels(monkeypatch):
    # early stopping judges the objective the map trains on: with target_weight=1 a
    # validation row keeps no membership of a training row of another class
    X, y = _blobs(120)
    y = y % 2  # two classes, each of two blobs: neighbours of both classes are rare
    y[::7] = 1 - y[::7]  # so some are mislabelled on purpose
    seen = {}
    original = NeighborEmbeddingAutoencoder._add_validation

    def spy(self, graph, index, rows, rng, valid_labels, train_labels):
        original(self, graph, index, rows, rng, valid_labels, train_labels)
        seen.update(labels=(valid_labels, train_labels),
                    neighbors=graph.valid_neighbors.numpy(),
                    weights=graph.valid_weights.numpy())

    monkeypatch.setattr(NeighborEmbeddingAutoencoder, "_add_validation", spy)
    est = _fit(X, y, early_stopping=True, max_epochs=2, target_weight=1.0)
    assert np.isfinite(est.validation_loss_curve_).all()
    valid_labels, train_labels = seen["labels"]
    across = valid_labels[:, None] != train_labels[seen["neighbors"]]
    assert across.any() and not seen["weights"][across].any()
    assert_allclose(seen["weights"][~across.all(axis=1)].sum(axis=1), 1.0, rtol=1e-6)


def _overlapping_blobs():
    return make_blobs(n_samples=300, n_features=10, centers=3, cluster_std=4.0,
                      random_state=0)


def test_labels_pull_the_classes_apart():
    X, y = _overlapping_blobs()
    plain, supervised = _fit(X), _fit(X, y, target_weight=0.5)
    # each class tighter and further from the others (0.72 against 0.63 here)
    assert (silhouette_score(supervised.transform(X), y)
            > silhouette_score(plain.transform(X), y) + 0.05)
    # semi-supervised, strings as classes: with target_weight=1 the graph loses the edges
    # between labelled rows of different classes, and only those
    names = np.array(["a", "b", "c"], dtype=object)[y]
    names[np.arange(300) % 3 != 0] = -1
    semi = _fit(X, names, max_epochs=1, target_weight=1.0)
    index = fg.KNNIndex(X, 15, "exact", 0)
    graph = fg.fuzzy_graph(index.indices, index.distances).tocoo()
    labelled = (names[graph.row] != -1) & (names[graph.col] != -1)
    across = labelled & (names[graph.row] != names[graph.col])
    assert across.sum() > 0 and semi.n_edges_ == graph.nnz - across.sum()
    # partial_fit builds the same graph of its chunk
    chunk = make_estimator(NeighborEmbeddingAutoencoder, hidden_layer_sizes=(8,),
                           target_weight=1.0)
    assert chunk.partial_fit(X, names).n_edges_ == semi.n_edges_


@pytest.mark.parametrize(
    "y, match",
    [
        (np.linspace(0, 1, 90), "Unknown label type: 'continuous'"),
        (np.array(["a", "-1"] * 45), "strings holding '-1'"),
        (np.arange(80) % 2, "y has 80 labels for 90 rows"),
        (np.r_[np.nan, np.zeros(89)], "NaN"),
    ],
)
def test_bad_labels_are_refused_and_leave_the_fit_as_it_was(y, match):
    X, _ = _blobs(90)
    est = _fit(X, max_epochs=2, target_weight=0.5)
    before = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    for name, value in est.net_.module_.state_dict().items():
        assert_array_equal(value.numpy(), before[name].numpy())


def test_labels_are_ignored_without_target_weight():
    # as PCA ignores y: a Pipeline ending in a regressor passes continuous y to the map
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    X, y = _blobs(120)
    assert_array_equal(_fit(X, y, max_epochs=2).transform(X),
                       _fit(X, max_epochs=2).transform(X))
    params = {"max_epochs": 2, "hidden_layer_sizes": (8,), "random_state": 0}
    pipe = make_pipeline(NeighborEmbeddingAutoencoder(**params), Ridge())
    assert np.isfinite(pipe.fit(X, X[:, 0]).predict(X)).all()
