"""UMAP's fuzzy neighbour graph, its curve and the edge sampling of a neighbour-embedding
fit: numpy / scipy / torch only, nothing about estimators.

The graph follows McInnes, Healy & Melville (2018) and umap-learn, reimplemented (umap-learn
is not a dependency): each row's k nearest neighbours (itself included, as umap-learn
counts them), ``rho`` the distance to its nearest other row, ``sigma`` found by bisection so
that ``sum_j exp(-(d_j - rho) / sigma) = log2(k)``, memberships
``w_ij = exp(-max(0, d_ij - rho_i) / sigma_i)``, symmetrised by the fuzzy union
``W + W^T - W * W^T``.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import curve_fit
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

# "auto" uses the approximate graph (pynndescent) from this many rows on, when installed:
# sklearn's exact search is quadratic in the rows (8,000 MNIST rows take about 2 s on two
# cores, 100,000 would take minutes), NN-descent is near-linear
APPROXIMATE_FROM_ROWS = 20_000

_SMOOTH_K_TOLERANCE = 1e-5
_MIN_K_DIST_SCALE = 1e-3  # umap-learn's floor on sigma, relative to the mean distance
_BISECTION_STEPS = 64
UNKNOWN_DIST = 1.0  # umap-learn's distance of a labelled row from an unlabeled one


def have_pynndescent():
    try:
        import pynndescent  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_knn_method(method, n_samples):
    """``"exact"`` or ``"approximate"`` for ``method`` (``"auto"`` resolved)."""
    if method == "auto":
        big = n_samples >= APPROXIMATE_FROM_ROWS
        return "approximate" if big and have_pynndescent() else "exact"
    if method == "approximate" and not have_pynndescent():
        raise ImportError(
            "knn_method='approximate' needs pynndescent (pip install "
            "'sklearn-ae[neighbors]' or pip install pynndescent); knn_method='exact' "
            "uses scikit-learn's NearestNeighbors."
        )
    return method


class KNNIndex:
    """The k nearest training rows of the training rows (``indices``, ``distances``, each of
    shape (n, k), the row itself first) and of new rows (:meth:`query`)."""

    def __init__(self, X, k, method, seed):
        self.k, self.method = k, method
        if method == "exact":
            self._index = NearestNeighbors(n_neighbors=k).fit(X)
            distances, indices = self._index.kneighbors(X)
        else:
            from pynndescent import NNDescent

            self._index = NNDescent(X, n_neighbors=k, random_state=seed, n_jobs=1,
                                    compressed=False)
            indices, distances = self._index.neighbor_graph
        self.indices, self.distances = _self_first(indices, distances)

    def query(self, Y):
        if self.method == "exact":
            distances, indices = self._index.kneighbors(Y)
        else:
            indices, distances = self._index.query(Y, k=self.k)
        return indices, distances


def _self_first(indices, distances):
    """Put each row itself in its first column (ties at distance 0, duplicates, can leave
    another row there)."""
    indices = np.asarray(indices, dtype=np.int64).copy()
    distances = np.asarray(distances, dtype=np.float64).copy()
    rows = np.arange(len(indices))
    for i in np.flatnonzero(indices[:, 0] != rows):
        where = np.flatnonzero(indices[i] == i)
        j = where[0] if len(where) else indices.shape[1] - 1
        indices[i, j], distances[i, j] = indices[i, 0], distances[i, 0]
        indices[i, 0], distances[i, 0] = i, 0.0
    return indices, distances


def smooth_knn_dist(distances, k, skip_first=True):
    """umap-learn's per-row ``(rho, sigma)`` from the k neighbour distances (vectorised
    bisection). ``skip_first``: the first column is the row itself (training rows); new
    rows (validation, transform-style queries) have no such column."""
    d = distances[:, 1:] if skip_first else distances
    if d.shape[1] == 0:  # k=1: a row's only neighbour is itself
        return np.zeros(len(d)), np.ones(len(d))
    target = math.log2(k)
    nonzero = np.where(d > 0, d, np.inf)
    rho = np.min(nonzero, axis=1)
    rho[~np.isfinite(rho)] = 0.0
    lo = np.zeros(len(d))
    hi = np.full(len(d), np.inf)
    mid = np.ones(len(d))
    gap = np.maximum(d - rho[:, None], 0.0)
    for _ in range(_BISECTION_STEPS):
        psum = np.exp(-gap / mid[:, None]).sum(axis=1)
        if np.all(np.abs(psum - target) < _SMOOTH_K_TOLERANCE):
            break
        above = psum > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        mid = np.where(np.isinf(hi), mid * 2, (lo + hi) / 2)
    mean_all = np.mean(distances)
    mean_row = d.mean(axis=1)
    floor = _MIN_K_DIST_SCALE * np.where(rho > 0, mean_row, mean_all)
    return rho, np.maximum(mid, floor)


def memberships(distances, rho, sigma):
    """``exp(-max(0, d - rho) / sigma)`` row by row."""
    return np.exp(-np.maximum(distances - rho[:, None], 0.0) / sigma[:, None])


def fuzzy_graph(indices, distances):
    """The symmetric fuzzy simplicial set of a kNN graph (rows themselves first) as a
    scipy CSR matrix of shape (n, n)."""
    n, k = indices.shape
    rho, sigma = smooth_knn_dist(distances, k)
    w = memberships(distances[:, 1:], rho, sigma)
    rows = np.repeat(np.arange(n), k - 1)
    W = sp.csr_matrix((w.ravel(), (rows, indices[:, 1:].ravel())), shape=(n, n))
    W.sum_duplicates()
    return _fuzzy_union(W)


def _fuzzy_union(W):
    """``W + W^T - W * W^T`` of a sparse membership matrix, as CSR without zeros."""
    Wt = W.T.tocsr()
    P = (W + Wt - W.multiply(Wt)).tocsr()
    P.eliminate_zeros()
    return P


def intersect_labels(graph, labels, target_weight):
    """UMAP's supervised graph (umap-learn's ``discrete_metric_simplicial_set_intersection``
    and ``reset_local_connectivity``): an edge between rows of different ``labels`` (ints,
    -1 unlabeled) is weakened by ``exp(-far)``, ``far = 2.5 / (1 - target_weight)``
    (no such edge is left at ``target_weight=1``), an edge from or to an unlabeled row by
    ``exp(-1)``; then each row is rescaled to its largest membership and the fuzzy union
    taken again."""
    coo = graph.tocoo()
    factor = label_factors(labels[coo.row], labels[coo.col], target_weight)
    W = sp.csr_matrix((coo.data * factor, (coo.row, coo.col)), shape=graph.shape)
    W.eliminate_zeros()
    return _fuzzy_union(normalize(W, norm="max"))


def label_factors(head, tail, target_weight):
    """What :func:`intersect_labels` multiplies the memberships between rows of labels
    ``head`` and ``tail`` by: 1 for one class, ``exp(-2.5 / (1 - target_weight))`` (0 at
    ``target_weight=1``) for two, ``exp(-1)`` where a label is -1 (unknown)."""
    far = 2.5 / (1.0 - target_weight) if target_weight < 1 else math.inf
    return np.where((head == -1) | (tail == -1), math.exp(-UNKNOWN_DIST),
                    np.where(head != tail, math.exp(-far), 1.0))


def new_row_memberships(index, Y, weigh=None):
    """The k nearest training rows of new rows ``Y`` and their memberships normalised to
    sum to one per row (UMAP's transform-time weights), as arrays of shape (len(Y), k).
    ``weigh(indices)``, if given, gives factors (len(Y), k) for the memberships before
    they are normalised (a row whose factors are all 0 keeps no membership)."""
    indices, distances = index.query(Y)
    rho, sigma = smooth_knn_dist(np.asarray(distances, dtype=np.float64), index.k,
                                 skip_first=False)
    w = memberships(np.asarray(distances, dtype=np.float64), rho, sigma)
    if weigh is not None:
        w *= weigh(indices)
    w /= np.maximum(w.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    return np.asarray(indices, dtype=np.int64), w


def find_ab_params(spread, min_dist):
    """UMAP's curve ``1 / (1 + a d^(2b))`` fitted (least squares, as umap-learn's
    ``find_ab_params``) to 1 below ``min_dist`` and ``exp(-(d - min_dist) / spread)``
    beyond."""

    def curve(x, a, b):
        return 1.0 / (1.0 + a * x ** (2 * b))

    x = np.linspace(0, spread * 3, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))
    (a, b), _ = curve_fit(curve, x, y)
    return float(a), float(b)


class EdgeSampler:
    """Edges of a weighted graph drawn with probability proportional to their weights, by
    inverse-CDF search on the cumulative weights (any number of edges, on any device,
    from the fit's own generator): nothing is repeated or materialised per epoch."""

    def __init__(self, graph, device):
        coo = graph.tocoo()
        cumulative = np.cumsum(coo.data, dtype=np.float64)
        self.total = float(cumulative[-1]) if len(cumulative) else 0.0
        self.cumulative = torch.as_tensor(cumulative, device=device)
        self.heads = torch.as_tensor(coo.row.astype(np.int64), device=device)
        self.tails = torch.as_tensor(coo.col.astype(np.int64), device=device)

    def __len__(self):
        return len(self.heads)

    def sample(self, n, generator):
        if not len(self.heads):  # a graph without edges (a single row): no attraction
            rows = torch.zeros(n, dtype=torch.int64, device=self.heads.device)
            return rows, rows
        draw = torch.rand(n, generator=generator, dtype=torch.float64,
                          device=generator.device) * self.total
        edge = torch.searchsorted(self.cumulative, draw.to(self.cumulative.device))
        edge = edge.clamp_max(len(self.heads) - 1)
        return self.heads[edge], self.tails[edge]

