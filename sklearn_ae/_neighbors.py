"""NeighborEmbeddingAutoencoder: a parametric t-SNE / UMAP map with a decoder back to the
data."""

import re
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch

from ._autoencoder import AutoencoderTransformer
from ._base import _BaseAutoencoder
from ._compat import Interval, StrOptions, _fit_context
from ._dask import is_dask_collection
from ._array_api import to_host
from ._data import BlockRows, TensorData, start_pca
from ._device import oom_advice
from ._fuzzy_graph import (
    EdgeSampler,
    KNNIndex,
    find_ab_params,
    fuzzy_graph,
    intersect_labels,
    label_factors,
    new_row_memberships,
    resolve_knn_method,
)
from ._labels import encode_class_labels
from ._net import AutoencoderNet
from ._restore import integer, optional, real
from .losses import (
    block_embedding_loss,
    contrastive_embedding_loss,
    neighbor_embedding_loss,
    reconstruction_loss,
    reconstruction_loss_per_sample,
    ssim_loss,
    ssim_loss_per_sample,
)
from .nn import Autoencoder, input_axes, write_axes
from .nn.mlp import zero_layer

# the spread of the PCA start's first code unit (its standard deviation): UMAP's layouts
# with spread=1 span about +-10, umap-learn scales its PCA / spectral start to +-10
START_CODE_STD = 3.0

# the share of each training batch's heads whose reconstruction trains the decoder: a
# quarter (256 rows of the default batch) is plenty for a decoder from a 2-d map, and
# spares three quarters of the decoder's cost (a tenth of a default MNIST fit, measured)
RECONSTRUCTED_SHARE = 0.25

# the default hidden layers: five of at most 128 units (on the MNIST benchmark, three of
# 128 gave a better map than the family's (512, 256) or (256, 128), in less time; depth
# helped more than width, held-out kNN-5 / trustworthiness averaged over seeds: two layers
# 0.883 / 0.923, three 0.909 / 0.942, four 0.915 / 0.947, five 0.918 / 0.950, six 0.907 /
# 0.950; three of 256 (10 epochs) 0.880 / 0.927, three of 64 0.902 / 0.938)
DEFAULT_WIDTH, DEFAULT_DEPTH = 128, 5

# negative_sample_rate="auto": umap-learn's 5 for UMAP's objective; InfoNCE's softmax
# needs many, and they cost little (the other tails of a block of 128 edges). Standalone
# MNIST runs, held-out kNN-5 / trustworthiness: 15 negatives 0.874 / 0.919 against 63's
# 0.889 / 0.928 (no jitter); 127 gave 0.908 / 0.945 against 63's 0.905 / 0.938 (jitter)
DEFAULT_NEGATIVES = {"umap": 5, "infonce": 127}

# exaggeration="auto": UMAP's own objective for "umap"; InfoNCE pulls neighbours 1.2
# times harder than its softmax alone. MNIST benchmark split, held-out kNN-5 /
# trustworthiness, means of seeds 0, 1, 2 (standalone fits on 1 thread; 1.0 from the
# benchmark's 2-thread run): 1.0 0.917 / 0.948, 1.1 0.922 / 0.951, 1.2 0.921 / 0.952,
# 1.3 0.919 / 0.951; seed 0 alone: 1.0 0.922 / 0.949, 1.2 0.926 / 0.953, 1.5 0.922 /
# 0.948, 2.0 0.904 / 0.946
DEFAULT_EXAGGERATION = {"umap": 1.0, "infonce": 1.2}


# --------------------------------------------------------------------------- data
class NeighborGraph:
    """What a neighbour-embedding fit trains on besides the rows: the fuzzy graph's edge
    sampler over the training rows, and, for the validation rows, their ``k`` nearest
    training rows with normalised memberships and fixed uniform negative samples."""

    def __init__(self, X, sampler, n_train, valid_neighbors=None, valid_weights=None,
                 valid_negatives=None):
        self.X = X  # every row (training rows first), scaled, on the device
        self.sampler = sampler
        self.n_train = n_train
        self.n_edges = max(len(sampler), 1)  # edges drawn per epoch
        self.valid_neighbors = valid_neighbors
        self.valid_weights = valid_weights
        self.valid_negatives = valid_negatives
        self.on_axes = None  # see project
        self.edge_length = None  # see median_edge_length

    def batch_rows(self):
        """The rows the training batches gather: on the axes once projected."""
        return self.X if self.on_axes is None else self.on_axes

    @torch.no_grad()
    def median_edge_length(self, generator, n_edges=4096):
        """The median distance between the two rows of ``n_edges`` edges drawn (in the
        space of :meth:`batch_rows`), measured once: the scale of ``jitter``."""
        if self.edge_length is None:
            heads, tails = self.sampler.sample(n_edges, generator)
            rows = self.batch_rows().float()
            length = (rows[heads.to(rows.device)] - rows[tails.to(rows.device)]).norm(dim=1)
            self.edge_length = float(length.median())
        return self.edge_length

    @torch.no_grad()
    def project(self, axes):
        """Put the rows on the encoder's fixed input ``axes`` once (an
        :class:`~sklearn_ae.nn.Axes`): the training batches gather these instead of the
        rows, and, with the mean squared error, reconstruct them, which trains the same
        (the rows' squared distances off the axes, ``off_axes``, are the part of the error
        that no decoder output changes)."""
        self.on_axes = axes(self.X)
        centred = self.X - axes.mean
        self.off_axes = (centred.pow(2).sum(dim=1)
                         - axes.unit.pow(2) * self.on_axes.pow(2).sum(dim=1)).clamp_min(0)


class NeighborData(TensorData):
    """A :class:`~sklearn_ae._data.TensorData` of rows ``offset`` onwards of ``graph.X``,
    that the net draws edge batches from (training rows, ``offset=0``) or scores with
    their neighbours (validation rows)."""

    def __init__(self, X, y, graph, offset=0):
        super().__init__(X, y)
        self.graph = graph
        self.offset = offset


class NeighborSplit:
    """The ``train_split`` of a :class:`NeighborData` whose validation rows come last."""

    def __init__(self, n_valid):
        self.n_valid = n_valid

    def __call__(self, dataset, y=None):
        n_train = len(dataset) - self.n_valid
        return (
            NeighborData(dataset.X[:n_train], dataset.y[:n_train], dataset.graph, 0),
            NeighborData(dataset.X[n_train:], dataset.y[n_train:], dataset.graph, n_train),
        )


class EdgeBatch:
    """The targets of one training batch: the rows are ``[heads, tails]`` (``size`` each);
    ``targets`` are the reconstruction targets of the first heads (the rows without
    jitter). Each head's negatives are the tails of the other edges of its block of
    ``negative_sample_rate + 1`` edges, as in parametric UMAP, so no row is encoded for
    them alone. ``off_axes``: None, or the rows and targets are on the encoder's input
    axes and these are the heads' squared distances off them (see
    :meth:`NeighborGraph.project`)."""

    def __init__(self, size, targets, off_axes=None):
        self.size, self.targets, self.off_axes = size, targets, off_axes

    def __len__(self):
        return 2 * self.size


class ValidBatch:
    """The targets of a batch of validation rows: the rows are ``[rows, their k
    neighbours, their negatives]``; ``targets`` the rows' reconstruction targets."""

    def __init__(self, size, targets, weights, n_neighbors, n_negatives):
        self.size, self.targets, self.weights = size, targets, weights
        self.n_neighbors, self.n_negatives = n_neighbors, n_negatives

    def __len__(self):
        return self.size * (1 + self.n_neighbors + self.n_negatives)


class EdgeBatches:
    """One epoch of edge batches: as many edges as the graph has (each drawn in proportion
    to its weight, so every edge once on average), ``batch_size`` per batch; the heads
    moved by Gaussian noise of standard deviation ``noise_std`` per coordinate."""

    def __init__(self, dataset, batch_size, noise_std, generator):
        self.data, self.batch_size = dataset, batch_size
        self.noise_std, self.generator = noise_std, generator

    def __len__(self):
        return -(-self.data.graph.n_edges // self.batch_size)

    def __iter__(self):
        data, gen, graph = self.data, self.generator, self.data.graph
        X, y = (data.X, data.y) if graph.on_axes is None else (graph.on_axes, graph.on_axes)
        n = graph.n_edges
        for start in range(0, n, self.batch_size):
            size = min(self.batch_size, n - start)
            heads, tails = graph.sampler.sample(size, gen)
            heads = heads.to(X.device)
            rows = X[torch.cat([heads, tails.to(X.device)])]
            if self.noise_std:
                noise = torch.randn(rows[:size].shape, generator=gen, device=gen.device)
                rows[:size] += self.noise_std * noise.to(rows.device, rows.dtype)
            # the first heads are reconstructed (they are drawn at random already)
            rebuilt = heads[:max(1, round(RECONSTRUCTED_SHARE * size))]
            off = None if graph.on_axes is None else graph.off_axes[rebuilt]
            yield rows, EdgeBatch(size, y[rebuilt], off)


class ValidBatches:
    """Validation rows in order, each with its neighbours and negatives among the training
    rows."""

    def __init__(self, dataset, batch_size):
        self.data, self.batch_size = dataset, batch_size

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        data, graph = self.data, self.data.graph
        first = data.offset - graph.n_train
        for start in range(0, len(data), self.batch_size):
            stop = min(start + self.batch_size, len(data))
            part = slice(first + start, first + stop)
            neighbors, negatives = graph.valid_neighbors[part], graph.valid_negatives[part]
            rows = torch.cat([data.X[start:stop], graph.X[neighbors.reshape(-1)],
                              graph.X[negatives.reshape(-1)]])
            yield rows, ValidBatch(stop - start, data.y[start:stop],
                                   graph.valid_weights[part], neighbors.shape[1],
                                   negatives.shape[1])


# --------------------------------------------------------------------------- net
class NeighborEmbeddingNet(AutoencoderNet):
    """:class:`~sklearn_ae._net.AutoencoderNet` trained on edge batches: a neighbour
    embedding objective of the codes plus ``reconstruction_weight`` times the
    reconstruction loss of a share of the heads.

    Parameters beyond AutoencoderNet's
    ----------------------------------
    objective : {"infonce", "umap"}
        :func:`~sklearn_ae.losses.contrastive_embedding_loss` or UMAP's fuzzy
        cross-entropy (:func:`~sklearn_ae.losses.neighbor_embedding_loss`).
    a, b : float
        UMAP's curve ``q(d) = 1 / (1 + a d^(2b))`` (``objective="umap"``).
    negative_sample_rate : int
        Negatives per edge: the other tails of its block of ``negative_sample_rate + 1``.
    exaggeration : float
        The attraction's weight in the objective.
    reconstruction_weight : float
        Weight of the reconstruction loss.
    jitter : float
        The heads' Gaussian noise, its expected length in median edge lengths.
    """

    def __init__(self, module, *args, objective="infonce", a=1.0, b=1.0,
                 negative_sample_rate=127, exaggeration=1.0, reconstruction_weight=0.1,
                 jitter=0.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.objective = objective
        self.a = a
        self.b = b
        self.negative_sample_rate = negative_sample_rate
        self.exaggeration = exaggeration
        self.reconstruction_weight = reconstruction_weight
        self.jitter = jitter

    def get_iterator(self, dataset, training=False):
        graph = getattr(dataset, "graph", None)
        if graph is None:
            return super().get_iterator(dataset, training)
        if training:
            axes = input_axes(self.module_) if self._trains_on_axes() else None
            if axes is not None and graph.on_axes is None:
                graph.project(axes)
            noise_std = self._noise_std(graph, self.device_rng_)
            return EdgeBatches(dataset, self.batch_size, noise_std, self.device_rng_)
        if dataset.offset == 0:  # the training rows, evaluated row by row
            return super().get_iterator(dataset, training)
        # a validation row brings n_neighbors + negative_sample_rate rows: bound the rows
        # a batch encodes (16 training batches' worth)
        per_row = 1 + dataset.graph.valid_neighbors.shape[1] + self.negative_sample_rate
        return ValidBatches(dataset, max(1, 16 * self.batch_size // per_row))

    def _noise_std(self, graph, generator):
        """The heads' noise per coordinate: its expected length, about ``std * sqrt(d)``
        in ``d`` coordinates, is ``jitter`` median edge lengths (measured on edges drawn
        from ``generator``)."""
        if not self.jitter:
            return 0.0
        width = graph.batch_rows().shape[1]
        return self.jitter * graph.median_edge_length(generator) / width**0.5

    def _trains_on_axes(self):
        """Whether training batches are the rows on the encoder's fixed input axes: a
        network with axes (``input_pca``) and the mean squared error, whose value the
        axes' coordinates give exactly (see :meth:`NeighborGraph.project`)."""
        return self.loss == "mse" and input_axes(self.module_) is not None

    def train_step_single(self, batch, **fit_params):
        Xi, yi = batch
        if not isinstance(yi, EdgeBatch):
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        codes, recon = self._edge_forward(Xi, yi)
        loss = self._edge_loss(codes, recon, yi)
        step = {"loss": loss, "y_pred": codes}
        scaler = getattr(self, "grad_scaler_", None)
        (loss if scaler is None else scaler.scale(loss)).backward()
        return step

    def _edge_forward(self, x, batch):
        """The codes of an edge batch's rows and the reconstructions of its heads (None
        without a reconstruction loss), in float32."""
        on_axes = batch.off_axes is not None
        encoder = self.module_.encoder[1] if on_axes else self.module_.encoder
        decoder = self.module_.decoder[0] if on_axes else self.module_.decoder
        recon = None
        with self._autocast():
            codes = encoder(x)
            if self.reconstruction_weight:
                recon = decoder(codes[:len(batch.targets)]).float()
        return codes.float(), recon

    def _edge_loss(self, codes, recon, batch):
        heads, tails = codes[:batch.size], codes[batch.size:]
        loss = block_embedding_loss(heads, tails, self.negative_sample_rate + 1,
                                    self.objective, self.a, self.b,
                                    exaggeration=self.exaggeration).mean()
        if recon is not None:
            loss = loss + self.reconstruction_weight * self._edge_recon_loss(recon, batch)
        return loss + self.penalty((recon, heads), None, True)

    def _edge_recon_loss(self, recon, batch):
        if batch.off_axes is None:
            return self._recon_loss(recon, batch.targets)
        # on the axes: |x - x_hat|^2 = off_axes + unit^2 |p - y|^2, per row and feature
        axes = input_axes(self.module_)
        on = axes.unit.pow(2) * (recon - batch.targets).pow(2).sum(dim=1)
        return (batch.off_axes + on).mean() / axes.mean.numel()

    def _recon_loss(self, recon, target):
        if self.loss == "ssim":
            return ssim_loss(recon, target, self.image_shape, self.ssim_range,
                             self.ssim_offset)
        return reconstruction_loss(self.loss, recon, target)

    def _recon_row_losses(self, recon, target):
        if self.loss == "ssim":
            return ssim_loss_per_sample(recon, target, self.image_shape, self.ssim_range,
                                        self.ssim_offset)
        return reconstruction_loss_per_sample(self.loss, recon, target)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, ValidBatch):
            return self._valid_row_losses(y_pred, y_true).mean()
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def _valid_row_losses(self, y_pred, batch):
        recon, codes = y_pred[0].float(), y_pred[1].float()
        size, k, m = batch.size, batch.n_neighbors, batch.n_negatives
        rows = codes[:size]
        neighbors = codes[size:size + size * k].reshape(size, k, -1)
        negatives = codes[size + size * k:].reshape(size, m, -1)
        losses = self._valid_map_losses(rows, neighbors, negatives, batch.weights)
        if self.reconstruction_weight:
            losses = losses + self.reconstruction_weight * self._recon_row_losses(
                recon[:size], batch.targets)
        extra = self.row_penalty((recon[:size], rows), None)
        return losses + extra

    def _valid_map_losses(self, rows, neighbors, negatives, weights):
        """Each validation row's objective against its ``k`` neighbours (weighted by their
        memberships) and its negatives."""
        size, k, width = neighbors.shape
        heads = rows[:, None, :].expand_as(neighbors).reshape(-1, width)
        if self.objective == "umap":
            attraction = neighbor_embedding_loss(
                heads, neighbors.reshape(-1, width), None, self.a, self.b,
                exaggeration=self.exaggeration).reshape(size, k)
            repulsion = neighbor_embedding_loss(rows, None, negatives, self.a, self.b)
            return (attraction * weights).sum(axis=1) + repulsion
        per_edge = contrastive_embedding_loss(
            heads, neighbors.reshape(-1, width), negatives.repeat_interleave(k, dim=0),
            self.exaggeration).reshape(size, k)
        return (per_edge * weights).sum(axis=1)

    def _valid_forward(self, x, batch):
        # the neighbours and negatives are only encoded: decode the rows themselves
        codes = self.module_.encode(x)
        recon = self.module_.decode(codes[:batch.size]) if self.reconstruction_weight else codes
        return recon, codes

    def validation_step(self, batch, **fit_params):
        Xi, yi = batch
        if isinstance(yi, EdgeBatch):  # the non-finite guard's check of a training batch
            self._set_training(False)
            with torch.no_grad():
                codes, recon = self._edge_forward(Xi, yi)
                return {"loss": self._edge_loss(codes, recon, yi), "y_pred": codes}
        if not isinstance(yi, ValidBatch):
            return super().validation_step(batch, **fit_params)
        self._set_training(False)
        with torch.no_grad():
            y_pred = self._valid_forward(Xi, yi)
            loss = self._valid_row_losses(y_pred, yi).mean()
        return {"loss": loss, "y_pred": y_pred[1]}

    def _batch_row_losses(self, x, target):
        if isinstance(target, ValidBatch):
            return self._valid_row_losses(self._valid_forward(x, target), target)
        return super()._batch_row_losses(x, target)


# --------------------------------------------------------------------------- estimator
def _choice(*options):
    def check(value, fitted):
        if value not in options:
            raise ValueError(" or ".join(repr(o) for o in options))
        return value

    return check


class NeighborEmbeddingAutoencoder(_BaseAutoencoder):
    """Neighbour-embedding autoencoder: a parametric t-SNE / UMAP map with a decoder.

    The encoder is trained on a neighbour-embedding objective of the training rows' fuzzy
    ``n_neighbors``-nearest-neighbour graph (UMAP's, McInnes et al., 2018; parametric as
    in Sainburg et al., 2021), pulling the codes of graph neighbours together and pushing
    those of other rows apart: by default InfoNCE with t-SNE's Cauchy kernel
    (``objective="infonce"``, Damrich et al., 2023), or UMAP's fuzzy cross-entropy with
    the curve ``q(d) = 1 / (1 + a d^(2b))`` (``objective="umap"``, ``a``, ``b`` fitted from
    ``min_dist``). The decoder is trained jointly on the reconstruction of the data, with
    the weight ``reconstruction_weight``, so the map has :meth:`inverse_transform` (decode
    any point of the map to a row). Unlike UMAP and t-SNE, :meth:`transform` is one
    forward pass of the encoder: a pure per-row function, fast, deterministic, exportable
    to ONNX.

    Training follows UMAP's sampling: each epoch draws as many edges as the graph has, each
    in proportion to its weight (no edge list is repeated or materialised), in batches of
    ``batch_size`` edges; each edge's head is compared with its tail and with
    ``negative_sample_rate`` tails of other edges of the batch (its negatives), by the
    exact terms of the objective. The heads are moved by a little Gaussian noise
    (``jitter``), so the encoder learns the space between the training rows, where new
    rows fall. The encoder reads the rows on their first ``input_pca`` principal axes (a
    fixed linear layer) and the decoder writes back through them. The network starts from
    random weights, with the decoder at the mean (``init="pca"`` starts the map at PCA's
    instead). The kNN graph is exact (scikit-learn's
    :class:`~sklearn.neighbors.NearestNeighbors`) or approximate (pynndescent, the optional
    ``neighbors`` extra), see ``knn_method``.

    Read more in the :doc:`user guide </neighbor_embedding>`.

    Parameters
    ----------
    PARAMETERS

    Attributes
    ----------
    ATTRIBUTES

    See Also
    --------
    AutoencoderTransformer : The same network trained on reconstruction alone.
    sklearn.manifold.TSNE : Neighbour embedding without a map for new rows.

    References
    ----------
    McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection for
    Dimension Reduction", arXiv:1802.03426, 2018.
    Sainburg, McInnes & Gentner, "Parametric UMAP Embeddings for Representation and
    Semisupervised Learning", Neural Computation 33(11), 2021.
    Damrich, Böhm, Hamprecht & Kobak, "From t-SNE to UMAP with contrastive learning",
    ICLR 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import NeighborEmbeddingAutoencoder
    >>> X = load_digits().data[:300]
    >>> nea = NeighborEmbeddingAutoencoder(max_epochs=3, random_state=0)
    >>> nea.fit_transform(X).shape
    (300, 2)
    >>> nea.inverse_transform(nea.transform(X[:2])).shape
    (2, 64)
    """

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "min_dist": [Interval(Real, 0, None, closed="left")],
        "spread": [Interval(Real, 0, None, closed="neither")],
        "objective": [StrOptions({"infonce", "umap"})],
        "negative_sample_rate": [Interval(Integral, 1, None, closed="left"),
                                 StrOptions({"auto"})],
        "exaggeration": [Interval(Real, 1, None, closed="left"), StrOptions({"auto"})],
        "jitter": [Interval(Real, 0, None, closed="left")],
        "target_weight": [Interval(Real, 0, 1, closed="both"), None],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "knn_method": [StrOptions({"auto", "exact", "approximate"})],
        "score_neighbors": [Interval(Integral, 1, None, closed="left")],
        "input_pca": [Interval(Integral, 1, None, closed="left"), None],
    }

    _net_class = NeighborEmbeddingNet
    _fitted_attributes = {
        **_BaseAutoencoder._fitted_attributes,
        "n_neighbors_": integer(1),
        "knn_method_": _choice("exact", "approximate"),
        "a_": real(0, above=True),
        "b_": real(0, above=True),
        "negative_sample_rate_": integer(1),
        "exaggeration_": real(1),
        "n_edges_": integer(1),
        "input_pca_": optional(integer(1)),
    }
    # maps saved before exaggeration existed were trained without it
    _fitted_defaults = {"exaggeration_": 1.0}
    # the graph and the edge batches need every row: a memmap is read into memory
    _streams_memmap = False

    # the neighbour objectives have their scale in the codes: decoupled weight decay
    # pulling every weight towards 0 only works against it (it gave the same maps)
    _default_adamw_weight_decay = 0.0

    def __init__(
        self,
        n_components=2,
        *,
        n_neighbors=15,
        objective="infonce",
        min_dist=0.1,
        spread=1.0,
        negative_sample_rate="auto",
        exaggeration="auto",
        jitter=0.8,
        target_weight=None,
        reconstruction_weight=0.1,
        knn_method="auto",
        score_neighbors=5,
        input_pca=100,
        hidden_layer_sizes=None,
        activation="relu",
        init="random",
        loss="mse",
        max_epochs=12,
        batch_size=1024,
        lr=2e-2,
        lr_schedule="onecycle",
        optimizer="adamw",
        weight_decay=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=30,
        tol=1e-4,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        architecture="mlp",
        image_shape=None,
        sparsity=None,
        sparsity_weight=0.1,
        sparsity_target=0.05,
        inference_batch_size=4096,
        precision="auto",
        compile=False,
        data_parallel=False,
        whiten=False,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            init=init,
            loss=loss,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            lr_schedule=lr_schedule,
            optimizer=optimizer,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            architecture=architecture,
            image_shape=image_shape,
            sparsity=sparsity,
            sparsity_weight=sparsity_weight,
            sparsity_target=sparsity_target,
            inference_batch_size=inference_batch_size,
            precision=precision,
            compile=compile,
            data_parallel=data_parallel,
            whiten=whiten,
        )
        self.n_neighbors = n_neighbors
        self.objective = objective
        self.min_dist = min_dist
        self.spread = spread
        self.negative_sample_rate = negative_sample_rate
        self.exaggeration = exaggeration
        self.jitter = jitter
        self.target_weight = target_weight
        self.reconstruction_weight = reconstruction_weight
        self.knn_method = knn_method
        self.score_neighbors = score_neighbors
        self.input_pca = input_pca

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the map and its decoder to ``X``; with class labels ``y``, a supervised
        map (UMAP's supervised mode).

        Training stops early when the loss becomes non-finite (the weights of the last
        finite epoch are kept, with a :class:`~sklearn.exceptions.ConvergenceWarning`) or
        on an interrupt (Ctrl-C); a fit that fails leaves the estimator as it was.

        Parameters
        ----------
        X : array-like, sparse matrix or dask.array.Array of shape (n_samples, n_features)
            Training data (read into memory: the graph needs every row).
        y : array-like of shape (n_samples,), default=None
            Read only where ``target_weight`` is set (ignored otherwise, as PCA ignores
            it, so that the map drops into any ``Pipeline``): class labels, -1 marking
            unlabeled rows; the graph's edges between rows of different classes are
            weakened by ``target_weight`` (and those from or to an unlabeled row by
            ``exp(-1)``), so that the map pulls each class together and places unlabeled
            rows by their neighbours. Continuous targets are then refused
            (``ValueError``).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, partial=False, labels=self._graph_labels(y))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train one epoch on the graph of the chunk ``X`` (see :meth:`fit` for ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, partial=True, labels=self._graph_labels(y))

    def _graph_labels(self, y):
        """``y`` as the graph's labels where the fit is supervised, else None."""
        if y is None or self.target_weight is None:
            return None
        return encode_class_labels(y, "NeighborEmbeddingAutoencoder")[1]

    @staticmethod
    def _split_labels(labels, n_rows, valid_idx):
        """The graph labels of the training rows (in the dataset's order) and of the
        validation rows (None without them), or (None, None) for an unsupervised fit."""
        if labels is None:
            return None, None
        if len(labels) != n_rows:
            raise ValueError(f"y has {len(labels)} labels for {n_rows} rows of X.")
        if valid_idx is None:
            return labels, None
        return np.delete(labels, valid_idx), labels[valid_idx]

    # ------------------------------------------------------------------ hooks
    def _join_ranks(self, X, continuing):
        raise ValueError(
            "data_parallel=True is not supported by NeighborEmbeddingAutoencoder: its "
            "batches are edges of one neighbour graph of all rows; fit it in one process."
        )

    def _resolve_training_params(self):
        super()._resolve_training_params()
        if self.min_dist > self.spread:
            raise ValueError(
                f"min_dist={self.min_dist!r} must not exceed spread={self.spread!r}."
            )
        self.a_, self.b_ = find_ab_params(float(self.spread), float(self.min_dist))
        rate = self.negative_sample_rate
        self.negative_sample_rate_ = (DEFAULT_NEGATIVES[self.objective] if rate == "auto"
                                      else int(rate))
        weight = self.exaggeration
        self.exaggeration_ = (DEFAULT_EXAGGERATION[self.objective] if weight == "auto"
                              else float(weight))

    def _start_pca(self, Xs):
        """The family's start PCA and the PCA whose axes the encoder reads (None where the
        rows are read as they are)."""
        axes = None
        n_axes = min(self.input_pca or Xs.shape[1], *Xs.shape)
        if self.architecture == "mlp" and n_axes < Xs.shape[1]:
            axes = start_pca(Xs, n_axes)
        return _Starts(super()._start_pca(Xs), axes)

    def _resolve_sizes(self, n_values, pca):
        self.input_pca_ = None if pca.axes is None else int(pca.axes.n_components_)
        super()._resolve_sizes(n_values, pca.start)

    def _default_hidden_layer_sizes(self, n_values):
        sizes = super()._default_hidden_layer_sizes(n_values)
        if self.architecture != "mlp":
            return sizes
        return (min(DEFAULT_WIDTH, sizes[0]),) * DEFAULT_DEPTH

    def _network_options(self):
        return {"input_axes": getattr(self, "input_pca_", None), "code_scale": True}

    def _steps_per_epoch(self, n_train):
        return -(-self.n_edges_ // self.batch_size)  # an epoch draws the graph's edges

    def _net_params(self):
        return {
            **super()._net_params(),
            "objective": self.objective,
            "a": self.a_,
            "b": self.b_,
            "negative_sample_rate": self.negative_sample_rate_,
            "exaggeration": self.exaggeration_,
            "reconstruction_weight": float(self.reconstruction_weight),
            "jitter": float(self.jitter),
        }

    def _build_module(self, pca, seed):
        module = self._network(torch.Generator().manual_seed(seed))
        if pca.axes is not None:
            # the first axis's spread is the unit: the paths see the axes' relative spreads
            std = float(np.sqrt(pca.axes.explained_variance_[0])) or 1.0
            write_axes(module, torch.as_tensor(pca.axes.components_, dtype=torch.float32),
                       torch.as_tensor(pca.axes.mean_, dtype=torch.float32), std)
        if self.init == "pca":
            self._write_start(module, pca)
        elif self.architecture == "mlp":
            # the decoder starts at the mean (its last layer zero): the reconstruction
            # never begins worse than the mean's, whatever the random map
            last = [m for m in module.decoder.modules() if isinstance(m, torch.nn.Linear)]
            with torch.no_grad():
                zero_layer(last[-1])
        return module

    def _write_start(self, module, pca):
        if pca.axes is None:
            encoder, decoder, start = module.encoder, module.decoder, pca.start
        else:
            # in the axes' coordinates, PCA's axes are the first unit vectors
            encoder, decoder = module.encoder[1], module.decoder[0]
            unit = float(module.encoder[0].unit)
            n = min(self.n_components_, self.input_pca_)
            start = _AxesPCA(np.eye(n, self.input_pca_),
                             pca.axes.explained_variance_[:n] / unit**2)
        # behind the decoder's CodeScale (decoder[0]), which starts as the identity
        super()._write_start(Autoencoder(encoder, decoder[1]), start)
        self._hand_over_scale(decoder, start)

    def _hand_over_scale(self, decoder, start):
        """Start the decoder's CodeScale at the start codes' root mean square and divide
        the decoder's input scales by it: the start holds while the scale follows the
        codes (from 1 it would move to their rms within a few dozen steps, and the decoder
        written for the codes would read them shrunk)."""
        var = np.asarray(start.explained_variance_[:self.n_components_], dtype=np.float64)
        rms = self._start_code_unit(start) * float(np.sqrt(var.sum() / self.n_components_))
        if np.isfinite(rms) and rms > 0:
            with torch.no_grad():
                decoder[0].scale.fill_(rms)
                decoder[1].in_scale.div_(rms)

    def _start_code_unit(self, pca):
        # PCA's scores in the map's units: the first axis with START_CODE_STD, the others
        # in proportion (UMAP's curve has a scale; PCA's units are the data's)
        std = float(np.sqrt(pca.explained_variance_[0]))
        return START_CODE_STD / std if std > 0 else 1.0

    def _training_data(self, X, valid_idx, stream, labels=None):
        """The rows (in memory: the graph needs them all) and the fuzzy graph of the
        training rows; the validation rows' neighbours among the training rows."""
        if isinstance(X, BlockRows):
            X = np.asarray(X)
        elif sp.issparse(X):
            X = X.toarray()  # the graph and the edge batches gather rows from everywhere
        data, split = super()._training_data(X, valid_idx, stream=False)
        n_valid = 0 if valid_idx is None else len(valid_idx)
        n_train = len(data) - n_valid
        labels, valid_labels = self._split_labels(labels, len(data), valid_idx)
        rng = np.random.RandomState(_graph_seed(self))
        k = min(int(self.n_neighbors), n_train)
        self.n_neighbors_ = k
        self.knn_method_ = resolve_knn_method(self.knn_method, n_train)
        rows = data.X.float().cpu().numpy()
        advice = (f"{self.device_} ran out of memory while building the neighbour graph of "
                  f"{n_train} rows; fit on device='cpu'.")
        with oom_advice(advice):
            index = KNNIndex(rows[:n_train], k, self.knn_method_, int(rng.randint(2**31 - 1)))
            fuzzy = fuzzy_graph(index.indices, index.distances)
            if labels is not None:
                fuzzy = intersect_labels(fuzzy, labels, float(self.target_weight))
            graph = NeighborGraph(data.X, EdgeSampler(fuzzy, self.device_), n_train)
            if n_valid:
                self._add_validation(graph, index, rows[n_train:], rng, valid_labels,
                                     labels)
        self.n_edges_ = graph.n_edges
        data = NeighborData(data.X, data.y, graph)
        return data, None if split is None else NeighborSplit(n_valid)

    def _add_validation(self, graph, index, rows, rng, valid_labels=None,
                        train_labels=None):
        """The validation ``rows``' neighbours among the training rows and negatives; in a
        supervised fit the memberships are weighed by the rows' and the neighbours' labels
        as the graph's edges are."""
        weigh = None
        if valid_labels is not None:
            def weigh(indices):
                return label_factors(valid_labels[:, None], train_labels[indices],
                                     float(self.target_weight))
        neighbors, weights = new_row_memberships(index, rows, weigh)
        negatives = rng.randint(graph.n_train, size=(len(rows), self.negative_sample_rate_))
        device = graph.X.device
        graph.valid_neighbors = torch.as_tensor(neighbors, device=device)
        graph.valid_weights = torch.as_tensor(weights, dtype=torch.float32, device=device)
        graph.valid_negatives = torch.as_tensor(negatives, device=device)

    # ------------------------------------------------------------------ scoring
    def score_samples(self, X):
        """Each row's trustworthiness: how well the map keeps its nearest neighbours.

        Row ``i``'s share of :func:`sklearn.manifold.trustworthiness` of the codes of ``X``
        with ``k = score_neighbors`` (at most ``(len(X) - 1) // 2``):
        ``1 - 2 / (k (2n - 3k - 1)) * sum_j (r(i, j) - k)`` over the rows ``j`` among row
        ``i``'s ``k`` nearest in the map but not in ``X``, ``r(i, j)`` their rank by
        distance in ``X``. A property of the rows together, not of each row alone: a row
        scores differently among other rows. Computed exactly, in blocks of rows
        (``O(n^2)`` time); for a Dask array, a lazy Dask array whose computation gathers
        all rows (they are compared with each other).

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            The rows whose map is judged; with fewer than 3 rows every row scores 1 (there
            is no wrong neighbour to have).

        Returns
        -------
        scores : ndarray or dask.array.Array of shape (n_samples,)
            In [0, 1] for ``k < n / 2``; 1 means the map's ``k`` nearest neighbours of the
            row are among its ``k`` nearest in ``X``.
        """
        if is_dask_collection(X):
            import dask
            import dask.array as da

            X = self._validate_post_fit_data(X)
            # lazy, like the family's Dask inference; the rows are gathered when computed
            scores = dask.delayed(self._row_scores)(X)
            scores = da.from_delayed(scores, shape=(X.shape[0],), dtype=np.float64)
            return scores.rechunk((X.chunks[0],))
        return self._row_scores(self._validate_post_fit_data(X))

    def _row_scores(self, X):
        X = X.toarray() if sp.issparse(X) else np.asarray(to_host(X))  # a tensor anywhere
        codes = self.transform(X)
        return row_trustworthiness(X.astype(np.float64), codes, int(self.score_neighbors))

    def score(self, X, y=None):
        """Trustworthiness of the map on ``X``: the mean of :meth:`score_samples`.

        Equals ``sklearn.manifold.trustworthiness(X, transform(X), n_neighbors=k)`` with
        ``k = score_neighbors``. This is what a grid search maximises: the objective's own
        values cannot be compared across ``n_neighbors`` or ``min_dist`` (they change the
        graph and the curve it is measured against), the reconstruction error rewards
        PCA-like maps over ones that keep neighbourhoods, and trustworthiness needs no
        labels, does not depend on the map's scale, and uses one fixed ``k`` for every
        candidate (not ``n_neighbors``, which is being tuned).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))


class _Starts:
    """What :meth:`NeighborEmbeddingAutoencoder._start_pca` gives: the family's start PCA
    (``start``, or None) and the PCA of the encoder's input axes (``axes``, or None)."""

    def __init__(self, start, axes):
        self.start, self.axes = start, axes


class _AxesPCA:
    """The PCA start seen in the input axes' coordinates: the first unit vectors, the
    variances in the axes' unit."""

    def __init__(self, components, explained_variance):
        self.components_ = components
        self.explained_variance_ = explained_variance


def _graph_seed(est):
    """A seed for the graph's draws (approximate search, validation negatives) from
    ``random_state`` without touching it."""
    return int(est._fit_rng().randint(2**31 - 1)) ^ 0x5EED


def row_trustworthiness(X, codes, k, block_rows=512):
    """Each row's term of :func:`sklearn.manifold.trustworthiness` (their mean is it)."""
    n = len(X)
    k = min(k, (n - 1) // 2)
    if k < 1:  # one or two rows: no neighbour can be wrong
        return np.ones(n)
    codes = np.asarray(codes, dtype=np.float64)
    sq_x = np.einsum("ij,ij->i", X, X)
    sq_z = np.einsum("ij,ij->i", codes, codes)
    scores = np.empty(n)
    norm = 2.0 / (k * (2.0 * n - 3.0 * k - 1.0))
    for start in range(0, n, block_rows):
        part = slice(start, min(start + block_rows, n))
        rows = np.arange(part.start, part.stop)
        dx = sq_x[part, None] + sq_x[None, :] - 2 * X[part] @ X.T
        dz = sq_z[part, None] + sq_z[None, :] - 2 * codes[part] @ codes.T
        dx[np.arange(len(rows)), rows] = -np.inf  # each row first, as sklearn ranks it
        dz[np.arange(len(rows)), rows] = -np.inf
        order = np.argsort(dx, axis=1, kind="stable")
        ranks = np.empty_like(order)
        ranks[np.arange(len(rows))[:, None], order] = np.arange(n)[None, :]
        near_z = np.argsort(dz, axis=1, kind="stable")[:, 1:k + 1]
        r = np.take_along_axis(ranks, near_z, axis=1) - k
        scores[part] = 1.0 - norm * np.sum(np.maximum(r, 0), axis=1)
    return scores


# ------------------------------------------------------------------ the docstring
def _entries(doc, section):
    """The raw ``name : type`` entries of a numpydoc section of ``doc``, by name."""
    match = re.search(rf"\n    {section}\n    -+\n(.*?)(\n\n    \w[\w ]*\n    -+\n|\Z)", doc,
                      re.S)
    entries, name = {}, None
    for line in match.group(1).split("\n"):
        head = re.match(r"    (\w+) : ", line)
        if head:
            name = head.group(1)
            entries[name] = [line]
        elif name is not None:
            entries[name].append(line)
    return {key: "\n".join(lines).rstrip() for key, lines in entries.items()}


_OWN_PARAMETERS = {
    "n_neighbors": """\
    n_neighbors : int, default=15
        Size of the local neighbourhoods (UMAP's ``n_neighbors``, the row itself counted):
        larger values keep more of the global structure, smaller more local detail.
        Lowered to the number of training rows when there are fewer.""",
    "min_dist": """\
    min_dist : float, default=0.1
        The smallest distance between codes that the curve ``q(d)`` treats as distinct
        (UMAP's ``min_dist``): small values give tight clusters.""",
    "spread": """\
    spread : float, default=1.0
        The scale of the curve ``q(d)`` (UMAP's ``spread``); ``a_`` and ``b_`` are fitted
        to ``spread`` and ``min_dist`` as umap-learn does.""",
    "objective": """\
    objective : {"infonce", "umap"}, default="infonce"
        What the map is trained on. ``"infonce"``: InfoNCE with t-SNE's Cauchy kernel
        ``q(d) = 1 / (1 + d^2)`` (InfoNC-t-SNE, Damrich et al., 2023), the softmax of each
        edge's tail among ``negative_sample_rate`` negatives, which keeps neighbourhoods
        like t-SNE. ``"umap"``: UMAP's fuzzy cross-entropy with the curve
        ``q(d) = 1 / (1 + a d^(2b))`` fitted to ``min_dist`` and ``spread`` (which only this
        objective reads). On the MNIST benchmark, ``"infonce"`` gave the better map
        (see the user guide for the numbers).""",
    "negative_sample_rate": """\
    negative_sample_rate : int or "auto", default="auto"
        Negative samples per edge: the tails of the other edges of its block of
        ``negative_sample_rate + 1`` edges of the batch (edges are drawn at random, so
        these are rows drawn in proportion to their degree in the graph, as in parametric
        UMAP), whose codes are pushed away from the edge's head. ``"auto"``: 127 for
        ``objective="infonce"`` (whose softmax needs many), 5 for ``"umap"`` (umap-learn's
        default). The number used is ``negative_sample_rate_``.""",
    "exaggeration": """\
    exaggeration : float or "auto", default="auto"
        How much harder graph neighbours are pulled together than the objective alone
        pulls them: the weight of its attraction term (t-SNE's exaggeration). Larger
        values give tighter, better separated clusters, at some cost to the structure
        inside them. ``"auto"``: 1.2 for ``objective="infonce"`` (on the MNIST benchmark
        it raised the held-out kNN-5 accuracy from 0.917 to 0.921 and the
        trustworthiness from 0.948 to 0.952, means of three seeds; 2.0 lowered both),
        1 for ``"umap"`` (UMAP's own objective). At least 1 for either objective: below
        1 InfoNCE has no minimum (spreading all codes apart lowers it without bound). The
        value used is ``exaggeration_``.""",
    "jitter": """\
    jitter : float, default=0.8
        Each training edge's head is moved by Gaussian noise whose expected length is
        about ``jitter`` times the median length of the graph's edges (measured in what the
        encoder reads, on ``input_pca``'s axes where it has them): the encoder learns to
        place rows that lie between the training rows, as new rows do. 0 trains on the
        rows as they are. The reconstruction targets are the rows without noise.""",
    "reconstruction_weight": """\
    reconstruction_weight : float, default=0.1
        Weight of the decoder's reconstruction loss (of a quarter of each batch's heads,
        in the scaled units, where it starts near 1) beside the neighbour-embedding loss
        (about 1 to 4); the encoder is trained on both. On the MNIST benchmark 0.1 gave a
        map as good as 0 (held-out kNN-5 accuracy 0.894, trustworthiness 0.939, against
        0.900 and 0.939, one seed each, with the earlier ``batch_size=2048``,
        ``input_pca=50`` and 20 epochs) and a reconstruction error of 0.67 times
        PCA(2)'s. 0 trains the encoder on the map alone (the decoder then stays at its
        start, the mean).""",
    "target_weight": """\
    target_weight : float or None, default=None
        ``None``: :meth:`fit` ignores ``y``, as PCA does (in a ``Pipeline`` the map stays
        unsupervised whatever the final estimator). A float in [0, 1] makes ``fit(X, y)``
        supervised (UMAP's supervised mode, whose default is 0.5): it says how far the
        labels are trusted over the data; an edge between rows of different classes is
        weakened by ``exp(-2.5 / (1 - target_weight))``, 0 keeps a trace of such edges
        (``exp(-2.5)``), 1 removes them.""",
    "knn_method": """\
    knn_method : {"auto", "exact", "approximate"}, default="auto"
        How the k-nearest-neighbour graph of the training rows is found: ``"exact"``,
        scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`; ``"approximate"``,
        NN-descent from pynndescent (as umap-learn; the optional ``neighbors`` extra,
        ``pip install 'sklearn-ae[neighbors]'``); ``"auto"``, approximate from 20,000
        training rows on where pynndescent is installed, exact otherwise. The method used is
        ``knn_method_``.""",
    "input_pca": """\
    input_pca : int or None, default=100
        The encoder reads the rows on their first ``input_pca`` principal axes (the
        training rows' PCA, a fixed linear map that is not trained) and the decoder writes
        its reconstructions back through the same axes; ``None``, or data with at most that
        many features, feed the encoder the rows themselves. On MNIST the axes made
        training about three times faster per edge for a map as good (in a standalone run
        of the training on 2 million edges on a 2-core AMD EPYC: 17 s against 55 s,
        held-out kNN-5 accuracy 0.855 against 0.848; with ``batch_size=1024`` and no axes,
        0.827 in three times the time). 100 axes gave a better map than 50 (held-out kNN-5
        accuracy 0.914, 0.921 and 0.898 over three seeds against 0.904 and 0.902 for 50,
        ``batch_size=1024``, three layers, 20 epochs); 30 and 200 did not (0.905,
        0.901). The neighbour graph is always found on the rows themselves. The
        reconstructions lie in the axes' span: they cannot beat PCA with ``input_pca``
        components. The number used is ``input_pca_``.""",
    "score_neighbors": """\
    score_neighbors : int, default=5
        ``k`` of the trustworthiness that :meth:`score` returns. Fixed rather than
        ``n_neighbors``, so that a grid search over ``n_neighbors`` compares its
        candidates on one measure.""",
}

# shared parameters whose meaning differs here (tests/test_docstrings.py lists them)
_CHANGED_PARAMETERS = {
    "hidden_layer_sizes": """\
    hidden_layer_sizes : int or array-like of int, default=None
        Widths of the encoder's hidden layers (an int means one layer); the decoder
        mirrors them. ``None``: five layers of the first width of the family's default,
        capped at 128 (784 pixels get five of 128). On the MNIST benchmark depth helped
        the map more than width (held-out kNN-5 accuracy and trustworthiness averaged
        over two to five seeds, 15 epochs: three layers of 128 0.909 and 0.942, four
        0.915 and 0.947, five 0.918 and 0.950, six 0.907 and 0.950; three of 256, 10
        epochs, 0.880 and 0.927), at about a quarter more time for five than three.""",
    "init": """\
    init : {"pca", "random"}, default="random"
        ``"random"``: PyTorch's default initialisation. ``"pca"``: a PCA-initialised
        linear path plus a non-linear residual path that starts at zero, scaled so that
        the first code unit has a standard deviation of 3 (the map's units); before
        training, ``transform`` is PCA's and the reconstruction PCA's (with ``input_pca``,
        the start is written behind the fixed axes). On the MNIST benchmark both starts
        train to maps of the same quality with the default training (held-out kNN-5
        accuracy 0.911 for PCA's start against 0.894 and 0.906 for two random starts,
        trustworthiness 0.942 against 0.939 and 0.942, with the earlier
        ``batch_size=2048``, ``input_pca=50`` and 20 epochs; the differences are within
        what the seed changes).""",
    "max_epochs": """\
    max_epochs : int, default=12
        Maximum number of epochs; an epoch draws as many edges as the neighbour graph has
        (``n_edges_``, in batches of ``batch_size``), so every edge is drawn about once an
        epoch. With ``lr_schedule="onecycle"`` also the length of the learning-rate
        schedule. On the MNIST benchmark 12 and 15 epochs of the default network gave
        maps of the same quality (held-out kNN-5 accuracy 0.917 and 0.918 on average
        over three and five seeds, each seed within 0.907 to 0.926; trustworthiness 0.948
        and 0.950), 12 in a fifth less time; with three layers, 12, 15 and 20 epochs did
        too (0.910, 0.909 and 0.910 over three, five and four seeds).""",
    "batch_size": """\
    batch_size : int, default=1024
        Edges per training batch (each brings a head and a tail; the tails of each edge's
        block are its negatives, so at most ``batch_size - 1`` of them); rows per batch
        in validation, fewer where each brings many neighbours and negatives. On the
        MNIST benchmark (``input_pca=100``, three layers, 20 epochs) 1024 gave held-out
        kNN-5 accuracy 0.914, 0.921 and 0.898 over three seeds against 0.910, 0.913 and
        0.900 for 2048, in about a fifth more time; 512 gave a worse map (0.879 against
        0.896 for 2048, with 50 axes).""",
    "lr": """\
    lr : float, default=2e-2
        Learning rate: the peak of the one-cycle schedule, or the constant rate with
        ``lr_schedule="constant"`` and in :meth:`partial_fit`. The map's codes grow to
        tens of units (a standard deviation of about 45 on MNIST), which the decoder
        reads through a running scale (see the user guide). On the MNIST benchmark 3e-2
        gave worse maps (held-out kNN-5 accuracy 0.890 against 0.914 with three layers
        and 20 epochs, defaults otherwise, one seed each), and 4e-2 worse still (0.886,
        with ``batch_size=2048``).""",
    "weight_decay": """\
    weight_decay : float, default=None
        Passed to the optimizer as ``weight_decay``. ``None`` means 0: the objective
        fixes the map's scale, and decay pulling the weights towards zero only works
        against it. The measurements quoted here for ``batch_size``, ``input_pca``, ``lr``
        and the earlier defaults decayed by 0.01 (AdamW's own default); on the MNIST
        benchmark 0.01 gave the same maps as 0 (three layers, 20 epochs; held-out kNN-5 0.914,
        0.921 and 0.898 over three seeds against 0.919, 0.919 and 0.896; trustworthiness
        0.942 to 0.945 against 0.939 to 0.945). The value used is ``weight_decay_``.""",
    "early_stopping": """\
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its loss has not improved
        for ``n_iter_no_change`` epochs, and keep the best weights seen (the PCA start
        included). Off by default, unlike the family's: the held-out rows would be left
        out of the neighbour graph, and on the MNIST benchmark the map was worse for it
        (held-out kNN-5 accuracy 0.881 against 0.894, trustworthiness 0.940 against
        0.939, one seed each, with the earlier ``batch_size=2048``, ``input_pca=50`` and
        20 epochs), while the one-cycle schedule already ends training at a fixed budget.
        The validation loss of a held-out row is the objective against its
        ``n_neighbors`` nearest training rows (their memberships normalised, as in UMAP's
        transform; in a supervised fit first weighed by the labels as the graph's edges
        are, so that a row whose neighbours all have other classes is attracted by none
        at ``target_weight=1``) and ``negative_sample_rate`` training rows drawn once,
        plus the weighted reconstruction loss.""",
    "random_state": """\
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit: the initial weights, the validation split, the
        edges and negative samples, and the approximate neighbour search. ``None``: a
        fresh seed from the operating system. The fit draws from generators of its own,
        never from torch's or numpy's global random state.""",
    "compile": """\
    compile : bool, default=False
        Has no effect on the edge batches of training (they call the encoder and the
        decoder separately); kept for the family's interface.""",
    "data_parallel": """\
    data_parallel : bool, default=False
        Must be False: training samples edges of one graph of all rows (``ValueError``
        otherwise).""",
}

_OWN_ATTRIBUTES = """\
    n_neighbors_ : int
        Neighbourhood size used (``n_neighbors``, at most the number of training rows).
    knn_method_ : str
        ``"exact"`` or ``"approximate"``: how the neighbour graph was found.
    a_ : float
        ``a`` of UMAP's curve ``q(d) = 1 / (1 + a d^(2b))``.
    b_ : float
        ``b`` of the curve.
    negative_sample_rate_ : int
        Negatives per edge used (``negative_sample_rate``, ``"auto"`` resolved).
    exaggeration_ : float
        Weight of the objective's attraction used (``exaggeration``, ``"auto"`` resolved).
    n_edges_ : int
        Edges of the neighbour graph of the training rows (both directions counted): the
        edges an epoch draws.
    input_pca_ : int or None
        Principal axes the encoder reads (see ``input_pca``); None: the rows themselves."""


def _build_docstring(cls, reference):
    """``cls``'s docstring with the shared entries copied from ``reference``'s, so that
    they stay identical as the family's text changes."""
    ref_params = _entries(reference.__doc__, "Parameters")
    params = []
    for name in _init_order(cls):
        text = _OWN_PARAMETERS.get(name) or _CHANGED_PARAMETERS.get(name) or ref_params[name]
        params.append(text)
    attributes = list(_entries(reference.__doc__, "Attributes").values())
    doc = cls.__doc__.replace("    PARAMETERS", "\n".join(params))
    return doc.replace("    ATTRIBUTES", "\n".join([*attributes[:1], _OWN_ATTRIBUTES,
                                                     *attributes[1:]]))


def _init_order(cls):
    import inspect

    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


NeighborEmbeddingAutoencoder.__doc__ = _build_docstring(
    NeighborEmbeddingAutoencoder, AutoencoderTransformer)
CHANGED_PARAMETERS = tuple(_CHANGED_PARAMETERS)
