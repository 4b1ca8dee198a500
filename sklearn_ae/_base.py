"""The family base estimator: the scikit-learn contract written once.

Subclasses supply only what differs: the torch module (``_build_module``), the skorch net
class and its extra parameters (``_net_class``, ``_net_params``), and, where the objective
is not plain reconstruction, ``score_samples``.
"""

import contextlib
import copy
import mmap
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import ProgressBar

from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._device import (
    fork_rng_devices,
    loadable_device,
    loadable_precision,
    resolve_device,
    resolve_precision,
)
from ._net import (
    ArrayData,
    AutoencoderNet,
    EarlyStoppingFromStart,
    IndexSplit,
    StopOnNonFiniteLoss,
    TailSplit,
    TensorData,
)
from .losses import hoyer_sparsity
from .nn import ACTIVATIONS, build_network, max_conv_layers, torch_image_shape, write_pca_start
from .nn.conv import DEFAULT_CHANNELS

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# chosen on the MNIST subset: held-out error 0.57x PCA's without decay, 0.49x with it
DEFAULT_ADAMW_WEIGHT_DECAY = 2.0

# optimizers given by name that get torch's fused implementation in mixed precision
_FUSED_OPTIMIZERS = {"adam", "adamw", "sgd"}

# a memmap is not loaded whole: its PCA start comes from this many random rows
_STREAMING_PCA_ROWS = 20_000

# float64 work space per chunk of rows (column statistics, scaling): small enough to stay
# in cache and spare page faults, large enough to amortise the per-chunk calls
_STATS_CHUNK_BYTES = 2 * 2**20

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def default_hidden_layer_sizes(n_features, n_components):
    """Hidden widths chosen from the data's shape when ``hidden_layer_sizes=None``.

    Two hidden layers, the first about twice as wide as the input (at least 64, at most
    512, and never narrower than the code), the second half of it. 784 pixels give
    (512, 256); 64 pixels give (128, 64); a 3-d manifold gets (64, 32).
    """
    width = int(min(512, max(64, 2 * n_features, 2 * n_components)))
    return (width, max(width // 2, n_components))


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared fit / transform / inverse_transform / score of the autoencoder family.

    Not for direct use: instantiate :class:`~sklearn_ae.AutoencoderTransformer` or another
    member of the family.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left"), None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "init": [StrOptions({"pca", "random"})],
        "loss": [StrOptions({"mse", "bce", "ssim"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), HasMethods(["step", "zero_grad"])],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "callbacks": [list, None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "architecture": [StrOptions({"mlp", "conv"})],
        "image_shape": [tuple, list, None],
        "sparsity": [StrOptions({"l1", "kl"}), None],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left")],
        "precision": [StrOptions({"float32", "bfloat16", "float16", "auto"})],
        "compile": ["boolean"],
    }

    # without a penalty, codes at least as wide as the input can copy it; members whose
    # objective regularises the code (denoising, the VAE's prior) allow them
    _overcomplete_needs_penalty = True

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=None,
        activation="relu",
        init="pca",
        loss="mse",
        max_epochs=200,
        batch_size=256,
        lr=1e-3,
        optimizer="adamw",
        weight_decay=None,
        early_stopping=True,
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
        precision="float32",
        compile=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.architecture = architecture
        self.image_shape = image_shape
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
        self.inference_batch_size = inference_batch_size
        self.precision = precision
        self.compile = compile

    # ------------------------------------------------------------------ hooks
    _net_class = AutoencoderNet

    def _net_params(self):
        """Extra keyword arguments for the skorch net (subclasses add theirs)."""
        params = {"loss": self.loss}
        if self.loss == "ssim":
            # SSIM compares absolute intensities: give it the mean and range in scaled units
            params.update(
                image_shape=self.image_shape_,
                ssim_range=(self.data_max_ - self.data_min_) / self.scale_ or 1.0,
                ssim_offset=torch.as_tensor(self.mean_ / self.scale_, dtype=torch.float32),
            )
        if self.sparsity is not None:
            params.update(
                sparsity=self.sparsity,
                sparsity_weight=float(self.sparsity_weight),
                sparsity_target=float(self.sparsity_target),
                code_unit=self._code_unit(),
            )
        return params

    def _code_unit(self):
        """Codes are in the data's units with the PCA start (``code_unit=scale_``) and in
        scaled units otherwise; dividing by this puts every code in scaled units."""
        return float(self.scale_) if self.init == "pca" else 1.0

    def _network_options(self):
        """Keyword arguments of :func:`~sklearn_ae.nn.build_network` that differ by member."""
        return {}

    def _network(self):
        """The untrained network of the fitted sizes (weights to be trained or loaded)."""
        return build_network(
            self.n_features_in_,
            self.n_components,
            self.hidden_layer_sizes_,
            self.activation,
            image_shape=self.image_shape_ if self.architecture == "conv" else None,
            residual=self.init == "pca",
            **self._network_options(),
        )

    def _build_module(self, Xs):
        """The network for scaled training data ``Xs``, with its PCA start if asked."""
        module = self._network()
        if self.init == "pca":
            n_pca = min(self.n_components, Xs.shape[1], Xs.shape[0])
            with np.errstate(invalid="ignore", divide="ignore"):
                # constant data: PCA's explained_variance_ratio_ divides 0 by 0, harmlessly
                pca = PCA(n_components=n_pca, svd_solver="auto", random_state=0).fit(Xs)
            self._write_start(module, pca)
        return module

    def _write_start(self, module, pca):
        """Write the PCA start (``pca`` fitted on the scaled data) into ``module``."""
        # directions without variance (constant pixels, rank-deficient data: a full or
        # over-complete PCA start) would get a code std of ~0, weights of ~1/0 and NaN
        # losses; they join the extra code units, whose linear path starts at zero
        var = pca.explained_variance_
        n_keep = max(1, int(np.sum(var > 1e-12 * var[0]))) if var[0] > 0 else 1
        write_pca_start(
            module,
            torch.as_tensor(pca.components_[:n_keep], dtype=torch.float32),
            torch.as_tensor(np.sqrt(var[:n_keep]), dtype=torch.float32),
            code_unit=float(self.scale_),
        )

    # ------------------------------------------------------------ validation
    def _check_hidden_layer_sizes(self, n_features):
        if self.hidden_layer_sizes is None:
            if self.architecture == "conv":
                _, h, w = self.image_shape_
                return DEFAULT_CHANNELS[: max_conv_layers(h, w)]
            return default_hidden_layer_sizes(n_features, self.n_components)
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (Integral, np.integer)):
            sizes = [sizes]
        sizes = list(sizes)
        if not all(isinstance(s, (Integral, np.integer)) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers; got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _check_image_shape(self, n_features):
        """``image_shape`` in torch order ``(C, H, W)``, checked against the data; or None."""
        shape = self.image_shape
        if shape is None:
            for name, value in (("architecture", self.architecture), ("loss", self.loss)):
                if value in ("conv", "ssim"):
                    raise ValueError(
                        f"{name}={value!r} needs image_shape=(height, width) or "
                        f"(height, width, channels); got image_shape=None."
                    )
            return None
        if (
            len(shape) not in (2, 3)
            or not all(isinstance(s, (Integral, np.integer)) and (s > 0 or s == -1) for s in shape)
            or list(shape).count(-1) > 1
        ):
            raise ValueError(
                "image_shape must be 2 or 3 positive integers (height, width[, channels]), "
                "one of which may be -1 (inferred, as in numpy.reshape); got "
                f"image_shape={shape!r}."
            )
        n_values = int(np.prod([s for s in shape if s != -1]))
        if -1 in shape:
            if n_features % n_values:
                raise ValueError(
                    f"image_shape={tuple(shape)!r} cannot hold X's {n_features} features: "
                    f"{n_features} is not a multiple of {n_values}."
                )
            shape = tuple(n_features // n_values if s == -1 else int(s) for s in shape)
        elif n_values != n_features:
            raise ValueError(
                f"image_shape={tuple(shape)!r} has {n_values} pixels but X has "
                f"{n_features} features."
            )
        return torch_image_shape(shape)

    def _resolve_weight_decay(self):
        if self.weight_decay is not None:
            return float(self.weight_decay)
        # decoupled decay suits AdamW at this size; for coupled-L2 optimizers (Adam, SGD)
        # the same number would crush the weights, so they get none unless asked
        return DEFAULT_ADAMW_WEIGHT_DECAY if self.optimizer == "adamw" else 0.0

    def _check_bce_range(self, X):
        if self.loss == "bce":
            lo, hi = float(X.min()), float(X.max())
            if lo < 0 or hi > 1:
                raise ValueError(
                    "loss='bce' needs data in [0, 1]; X ranges over "
                    f"[{lo:g}, {hi:g}]. Scale it (e.g. X / 255 for pixels) or use "
                    "loss='mse'."
                )

    def _check_n_components(self, n_features):
        if (
            self._overcomplete_needs_penalty
            and self.sparsity is None
            and self.n_components > n_features
        ):
            raise ValueError(
                f"n_components={self.n_components} is larger than n_features={n_features}: "
                "without a penalty on the codes an over-complete autoencoder can copy its "
                f"input. Use n_components <= {n_features}, a sparsity penalty "
                "(sparsity='l1' or 'kl'), or DenoisingAutoencoder / VAETransformer."
            )

    def _validate_fit_data(self, X, reset):
        X = validate_data(
            self, X, reset=reset, dtype=[np.float32, np.float64], ensure_min_samples=2
        )
        self._check_bce_range(X)
        return X

    def _validate_post_fit_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        self._check_bce_range(X)
        return X

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder to ``X``.

        Training stops early when the loss becomes non-finite (divergence, e.g. a too
        large ``lr``): the weights from the end of the last finite epoch are kept (or the
        best ones, with early stopping) and a :class:`~sklearn.exceptions.ConvergenceWarning`
        says so. An interrupt (``KeyboardInterrupt``, Ctrl-C) also ends training early and
        leaves a usable fitted model with the history of the epochs completed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in any units: the estimator centres it and scales it by one
            global factor, and undoes that in :meth:`inverse_transform`. A
            :class:`numpy.memmap` is read batch by batch instead of being copied into
            memory (only the validation rows are loaded).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        continuing = self.warm_start and hasattr(self, "net_")
        if not continuing and hasattr(self, "net_"):
            # a refit that fails half-way must not leave the old network beside new
            # scaling attributes: without net_ the estimator counts as not fitted
            del self.net_
        X = self._validate_fit_data(X, reset=not continuing)
        if not continuing:
            self._setup(X)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        streaming = _is_memmap(X)
        valid_idx = self._validation_indices(X.shape[0], rng)
        order = None
        if valid_idx is not None and not streaming:
            # training rows first, validation rows last: the split is then two views of
            # one tensor instead of two gathered copies
            order = np.concatenate([np.delete(np.arange(X.shape[0]), valid_idx), valid_idx])
        Xs = None if streaming else self._scale_rows(X, order)
        data = self._training_data(X, Xs, order)

        with self._seeded(seed):
            if not continuing:
                if streaming:
                    Xs = self._scale(_sample_rows(X, _STREAMING_PCA_ROWS, seed))
                module = self._build_module(Xs)
                self.net_ = self._make_net(module, valid_idx, streaming)
                self.net_.initialize()
            else:
                self._reset_net_split(valid_idx, streaming)
            self._train_or_forget(data, forget=not continuing)
        self._record_history()
        self._record_explained_variance(X, valid_idx)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on one chunk of data: one pass (epoch) over ``X``.

        For data that arrive in chunks or do not fit in memory, like
        :class:`~sklearn.decomposition.IncrementalPCA`. The first call sets up the model
        from its chunk: the centring and scaling (``mean_``, ``scale_``), the PCA start and
        the network; later calls keep them and continue training, also after
        :meth:`fit`. Early stopping does not apply (there is no held-out data); each call
        adds one epoch to ``n_iter_`` and ``loss_curve_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of training data (at least 2 rows on the first call).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator, updated.
        """
        first = not hasattr(self, "net_")
        X = validate_data(
            self, X, reset=first, dtype=[np.float32, np.float64],
            ensure_min_samples=2 if first else 1,
        )
        self._check_bce_range(X)
        if first:
            self._setup(X)
        rng = check_random_state(self.random_state)
        # a fresh shuffle for every chunk, still reproducible from random_state
        seed = (int(rng.randint(np.iinfo(np.int32).max)) + 7919 * getattr(self, "n_iter_", 0))
        seed %= np.iinfo(np.int32).max
        Xs = self._scale_rows(X)
        with self._seeded(seed):
            if first:
                self.net_ = self._make_net(self._build_module(Xs), None)
                self.net_.initialize()
            else:
                self._reset_net_split(None)
            self._train_or_forget(self._training_data(X, Xs), forget=first, epochs=1)
        self._record_history()
        self._record_explained_variance(X, None)
        return self

    @staticmethod
    def _train_split(valid_idx, streaming=False):
        """skorch ``train_split`` for ``valid_idx``: the last rows of in-memory data (see
        ``fit``), the given rows of a streamed memmap."""
        if valid_idx is None:
            return None
        return IndexSplit(valid_idx) if streaming else TailSplit(valid_idx)

    def _reset_net_split(self, valid_idx, streaming=False):
        """Point a fitted net at a new validation split (or none) and fresh callbacks."""
        self.net_.set_params(
            train_split=self._train_split(valid_idx, streaming),
            callbacks=self._callbacks(valid_idx),
        )
        self.net_.initialize_callbacks()
        # a warm start trains with the parameters as they are now (set_params after fit);
        # the network, its optimizer (kind, fused or not) and the scaling stay as fitted
        self.precision_ = resolve_precision(self.precision, self.device_)
        self.weight_decay_ = self._resolve_weight_decay()
        net = self.net_
        net.max_epochs, net.batch_size, net.lr = self.max_epochs, self.batch_size, self.lr
        net.precision, net.compile_module = self.precision_, self.compile
        net.verbose = int(self.verbose)
        for group in net.optimizer_.param_groups:
            group["lr"] = self.lr
            if "weight_decay" in group:
                group["weight_decay"] = self.weight_decay_

    def _setup(self, X):
        """Resolve parameters and the data's scaling: everything a fresh fit starts from."""
        n_features = X.shape[1]
        self.device_ = resolve_device(self.device)
        self.precision_ = resolve_precision(self.precision, self.device_)
        self._check_n_components(n_features)
        self.image_shape_ = self._check_image_shape(n_features)
        self.hidden_layer_sizes_ = self._check_hidden_layer_sizes(n_features)
        self.weight_decay_ = self._resolve_weight_decay()
        self.data_min_, self.data_max_, self.mean_, rms = _column_stats(X)
        if X.dtype == np.float64 and max(-self.data_min_, self.data_max_) > _FLOAT32_MAX:
            raise ValueError(
                f"X holds values up to {max(-self.data_min_, self.data_max_):g}, beyond the "
                f"float32 range (+-{_FLOAT32_MAX:g}) the networks compute in; rescale X."
            )
        # constant data still trains (to the mean); avoid dividing by zero
        self.scale_ = rms if rms > 0 else 1.0

    def _seeded(self, seed):
        """A forked torch RNG seeded with ``seed``: the caller's random state is left alone."""
        return _seeded_rng(self.device_, seed)

    def _keep_complete_epochs(self, failed):
        """Drop an unfinished epoch from the history and put the weights back in step."""
        history = self.net_.history
        callbacks = dict(self.net_.callbacks_)
        guard = callbacks["non_finite_guard"]
        if guard.stopped_ is not None:
            # the guard already restored the weights of the epoch before the divergence
            del history[guard.stopped_[0] - 1 :]
            return guard
        required = ["train_loss"] + (["valid_loss"] if self.net_.train_split else [])
        if len(history) and any(key not in history[-1] for key in required):
            del history[-1]
            # after Ctrl-C skorch has run on_train_end: early stopping has loaded its best
            # weights; otherwise (no early stopping, or an error) the last complete
            # epoch's are put back
            if failed or "early_stopping" not in callbacks:
                guard.restore(self.net_)
        return guard

    def _train_or_forget(self, data, forget, epochs=None):
        """:meth:`_train`; if it fails and ``forget``, the estimator is left unfitted."""
        try:
            self._train(data, epochs)
        except BaseException:
            if forget:
                # a network that never finished its first training must not look fitted
                self.__dict__.pop("net_", None)
            raise

    def _train(self, data, epochs=None):
        """Run skorch's training loop; turn its faults into clear messages.

        Whatever ends training, the history keeps complete epochs only and the weights
        match it: an interrupted epoch (Ctrl-C, an error) is dropped and the weights of the
        last complete epoch are put back, unless early stopping restored its best ones.
        """
        try:
            if epochs is None:
                self.net_.partial_fit(data)
            else:
                self.net_.partial_fit(data, epochs=epochs)
        except torch.cuda.OutOfMemoryError as exc:
            self._keep_complete_epochs(failed=True)
            raise torch.cuda.OutOfMemoryError(
                f"{self.device_} ran out of memory while training with "
                f"batch_size={self.batch_size}; lower batch_size (or the hidden layer "
                f"sizes), or fit on device='cpu'. Original error: {exc}"
            ) from exc
        except BaseException:
            self._keep_complete_epochs(failed=True)
            raise
        guard = self._keep_complete_epochs(failed=False)
        if guard.stopped_ is not None:
            epoch, kind, value = guard.stopped_
            stopper = dict(self.net_.callbacks_).get("early_stopping")
            n_epochs = len(self.net_.history)
            kept = n_epochs if stopper is None else min(stopper.best_epoch_, n_epochs)
            warnings.warn(
                f"Training diverged: the {kind} loss became {value} in epoch {epoch}. "
                f"Training stopped and kept the finite weights of epoch {kept}"
                f"{' (the untrained model)' if kept == 0 else ''}. Lower lr (now "
                f"{self.lr!r}) or check the data for extreme values.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _scale(self, X):
        # C order: pandas hands over Fortran-ordered arrays, and a strided tensor takes
        # another matmul path whose last bits differ from the C-ordered one
        with np.errstate(over="ignore"):
            # values beyond float32 become inf here and are refused where they surface
            scaled = ((X - self.mean_) / self.scale_).astype(np.float32, copy=False)
        return np.ascontiguousarray(scaled)

    def _scale_rows(self, X, order=None, scale=True):
        """``_scale(X[order])`` (or the rows as float32, ``scale=False``) built chunk by
        chunk into one float32 array, without float64 temporaries of the whole data."""
        n = X.shape[0] if order is None else len(order)
        out = np.empty((n, X.shape[1]), dtype=np.float32)
        step = max(1, _STATS_CHUNK_BYTES // (8 * max(1, X.shape[1])))
        for start in range(0, n, step):
            rows = X[start : start + step] if order is None else X[order[start : start + step]]
            out[start : start + len(rows)] = self._scale(rows) if scale else rows
        return out

    def _training_data(self, X, Xs, order=None):
        """Inputs and targets for the net; targets depend on the loss.

        In-memory data become tensors on the training device once (``Xs``: the scaled
        rows ``X[order]``); a memmap (``Xs`` is None) is read, scaled and moved one batch
        at a time.
        """
        if Xs is None:
            return ArrayData(
                X, self._scale, device=self.device_, raw_targets=self.loss == "bce"
            )
        try:
            inputs = torch.as_tensor(Xs, device=self.device_)
            if self.loss == "bce":
                targets = torch.as_tensor(
                    self._scale_rows(X, order, scale=False), device=self.device_
                )
            else:
                targets = inputs
        except torch.cuda.OutOfMemoryError as exc:
            raise torch.cuda.OutOfMemoryError(
                f"The training data ({Xs.shape[0]} x {Xs.shape[1]} float32, "
                f"{Xs.nbytes / 2**30:.2f} GiB) do not fit on {self.device_}: pass X as a "
                "numpy.memmap to stream it batch by batch (batch_size="
                f"{self.batch_size}), or fit on device='cpu'. Original error: {exc}"
            ) from exc
        return TensorData(inputs, targets)

    def _validation_indices(self, n_samples, rng):
        if not self.early_stopping:
            return None
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        if n_valid >= n_samples:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no training data "
                f"with n_samples={n_samples}; lower it or set early_stopping=False."
            )
        return np.sort(rng.permutation(n_samples)[:n_valid])

    def _callbacks(self, valid_idx):
        """The skorch callbacks of one fit: the guard, early stopping, the user's."""
        # skorch's default PrintLog already stays silent unless verbose > 0
        callbacks = [("non_finite_guard", StopOnNonFiniteLoss())]
        if self.verbose and self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        if valid_idx is not None:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStoppingFromStart(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="rel",
                        load_best=True,
                        sink=print if self.verbose else _noop,
                    ),
                )
            )
        for i, cb in enumerate(copy.deepcopy(self.callbacks) or []):
            callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", cb))
        return callbacks

    def _make_net(self, module, valid_idx, streaming=False):
        optimizer = self.optimizer
        optimizer_params = {}
        if isinstance(optimizer, str):
            if self.precision_ != "float32" and optimizer in _FUSED_OPTIMIZERS:
                # one kernel per step instead of one per tensor: with bfloat16 matmuls the
                # optimizer step is a large share of a step; float32 keeps the reference
                # implementation (and its results, bit for bit)
                optimizer_params["optimizer__fused"] = True
            optimizer = OPTIMIZERS[optimizer]
        if self.weight_decay_:
            # only passed when set, so optimizers without the argument still work
            optimizer_params["optimizer__weight_decay"] = self.weight_decay_
        return self._net_class(
            module,
            criterion=torch.nn.MSELoss,  # unused: get_loss computes the objective
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=self._train_split(valid_idx, streaming),
            callbacks=self._callbacks(valid_idx),
            device=self.device_,
            verbose=int(self.verbose),
            precision=self.precision_,
            compile_module=self.compile,
            **optimizer_params,
            **self._net_params(),
        )

    def _record_history(self):
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = np.array([row["train_loss"] for row in history], dtype=float)
        stopper = dict(self.net_.callbacks_).get("early_stopping")
        if stopper is not None:
            self.validation_loss_curve_ = np.array(
                [row.get("valid_loss", np.nan) for row in history], dtype=float
            )
            self.best_epoch_ = min(int(stopper.best_epoch_), self.n_iter_)
        else:
            self.validation_loss_curve_ = None
            self.best_epoch_ = self.n_iter_

    def _record_explained_variance(self, X, valid_idx):
        """Fraction of variance reconstructed, comparable with PCA's
        ``explained_variance_ratio_.sum()`` (1 - residual SS / total SS around ``mean_``)."""
        # one inference pass over all rows, split afterwards: this runs at the end of every
        # fit, so it is kept to a fraction of one epoch's cost
        def sums(module, x, rows):
            recon = self._decode_output(module(x)[0].float().cpu().numpy())
            rows = np.asarray(rows, dtype=np.float64)
            return np.c_[
                np.sum(np.square(rows - recon), axis=1),
                np.sum(np.square(rows - self.mean_), axis=1),
            ]

        per_row = self._map_batches(X, sums, (2,), dtype=np.float64)
        residual, total = per_row[:, 0], per_row[:, 1]
        train_mask = np.ones(X.shape[0], dtype=bool)
        if valid_idx is not None:
            train_mask[valid_idx] = False
        self.train_explained_variance_ratio_ = _ratio(residual[train_mask], total[train_mask])
        self.validation_explained_variance_ratio_ = (
            None if valid_idx is None else _ratio(residual[~train_mask], total[~train_mask])
        )

    @property
    def history_(self):
        """skorch's per-epoch training history (train/valid loss, durations)."""
        check_is_fitted(self)
        return self.net_.history

    # ------------------------------------------------------------ inference
    def _map_batches(self, A, fn, row_shape, dtype=np.float32, scale=True):
        """``fn(module, x, rows)`` over batches of ``inference_batch_size`` rows of ``A``.

        ``x`` is the batch as a tensor on the device (scaled unless ``scale=False``),
        ``rows`` the batch as given; ``fn`` returns a numpy array of shape
        ``(len(rows), *row_shape)``, written into one preallocated output, so peak memory
        stays near input + output + one batch's intermediates. Read-only on the model:
        concurrent calls from several threads are safe.
        """
        module = self.net_.module_
        module.eval()
        n, step = A.shape[0], int(self.inference_batch_size)
        out = np.empty((n, *row_shape), dtype=dtype)
        try:
            with torch.inference_mode():
                for start in range(0, n, step):
                    rows = A[start : start + step]
                    if scale:
                        x = self._scale(rows)
                    else:
                        with np.errstate(over="ignore"):  # inf surfaces as non-finite below
                            x = rows.astype(np.float32, copy=False)
                    if not x.flags.writeable:
                        x = x.copy()  # torch wants writable memory (one batch)
                    result = fn(module, torch.as_tensor(x, device=self.device_), rows)
                    if not np.all(np.isfinite(result)):
                        raise ValueError(
                            f"The model gave non-finite values (inf or NaN) for rows "
                            f"{start} to {start + len(rows) - 1}: their values (up to "
                            f"{float(np.max(np.abs(rows))):g} in absolute value) are far "
                            "outside the range seen in fit (["
                            f"{self.data_min_:g}, {self.data_max_:g}]) and overflow float32."
                        )
                    out[start : start + len(rows)] = result
        except torch.cuda.OutOfMemoryError as exc:
            raise torch.cuda.OutOfMemoryError(
                f"{self.device_} ran out of memory at inference with "
                f"inference_batch_size={self.inference_batch_size} (training uses "
                f"batch_size={self.batch_size}); lower inference_batch_size. "
                f"Original error: {exc}"
            ) from exc
        return out

    def _decode_output(self, out):
        """Map the decoder's raw output to the original units (a numpy array)."""
        if self.loss == "bce":
            return 1.0 / (1.0 + np.exp(-out))
        return out * np.float32(self.scale_) + self.mean_.astype(np.float32)

    def transform(self, X):
        """Encode ``X`` into codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen in :meth:`fit`. Processed in batches of
            ``inference_batch_size`` rows.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components), dtype float32
            The codes; deterministic.
        """
        X = self._validate_post_fit_data(X)
        return self._map_batches(
            X, lambda m, x, rows: m.encode(x).float().cpu().numpy(), (self.n_components,)
        )

    def inverse_transform(self, X):
        """Decode codes back to the original feature space and units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_), dtype float32
            Reconstructions in the units of the training data.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float32, np.float64], input_name="X")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects codes with "
                f"n_components={self.n_components} features."
            )
        return self._map_batches(
            Z,
            lambda m, z, rows: self._decode_output(m.decode(z).float().cpu().numpy()),
            (self.n_features_in_,),
            scale=False,
        )

    def _reconstruct(self, X):
        return self._map_batches(
            X,
            lambda m, x, rows: self._decode_output(m(x)[0].float().cpu().numpy()),
            (self.n_features_in_,),
        )

    def reconstruct(self, X):
        """Encode and decode ``X``: its reconstruction, in the original units.

        Equal to ``inverse_transform(transform(X))`` and deterministic. For a
        :class:`~sklearn_ae.DenoisingAutoencoder` this is the denoised data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features), dtype float32
        """
        X = self._validate_post_fit_data(X)
        return self._reconstruct(X)

    def code_activations(self, X):
        """How strongly each code unit responds to each sample (what the sparsity penalty
        acts on).

        The codes in scaled units (``transform(X)`` divided by ``scale_`` when
        ``init="pca"``, whose codes are in the data's units), in absolute value; or, with
        ``sparsity="kl"``, their sigmoid, the activation the KL penalty pulls towards
        ``sparsity_target``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        activations : ndarray of shape (n_samples, n_components), dtype float32
        """
        codes = self.transform(X) / np.float32(self._code_unit())
        if self.sparsity == "kl":
            return (1.0 / (1.0 + np.exp(-codes))).astype(np.float32)
        return np.abs(codes)

    def code_sparsity(self, X):
        """Mean Hoyer sparsity of the codes of ``X``, from 0 (every unit equally active) to
        1 (one active unit per sample).

        Hoyer's measure ``(sqrt(k) - L1 / L2) / (sqrt(k) - 1)`` of each row of
        :meth:`code_activations` (``k = n_components``), averaged over samples. It does not
        change when all codes are rescaled, so it compares models fitted with and without
        a penalty fairly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        sparsity : float
        """
        activations = torch.as_tensor(self.code_activations(X), dtype=torch.float64)
        return float(hoyer_sparsity(activations).mean())

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each sample, in original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better (a perfect reconstruction scores 0).
        """
        X = self._validate_post_fit_data(X)

        def row_scores(module, x, rows):
            recon = self._decode_output(module(x)[0].float().cpu().numpy())
            return -np.mean(np.square(np.asarray(rows, dtype=np.float64) - recon), axis=1)

        return self._map_batches(X, row_scores, (), dtype=np.float64)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: the negative reconstruction MSE.

        Lets :class:`~sklearn.model_selection.GridSearchCV` tune the transformer alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    # --------------------------------------------------------------- sklearn
    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_is_fitted__(self):
        # the network is the last thing fit sets: attributes set before a check that
        # failed later in fit must not make the estimator look fitted
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        if "device_" in self.__dict__:
            self.device_ = loadable_device(self.device_)
            self._fit_precision_to_device()

    def _fit_precision_to_device(self):
        """After loading onto another device: a precision it cannot train in falls back."""
        if "precision_" in self.__dict__:
            self.precision_ = loadable_precision(self.precision_, self.device_)
            if "net_" in self.__dict__:
                self.net_.precision = self.precision_


def _ratio(residual, total):
    """``1 - sum(residual) / sum(total)``; constant data explain all when exactly rebuilt."""
    residual, total = float(residual.sum()), float(total.sum())
    if total == 0.0:
        return 1.0 if residual == 0.0 else float("-inf")
    return 1.0 - residual / total


def _noop(*args, **kwargs):
    pass


@contextlib.contextmanager
def _seeded_rng(device, seed):
    with torch.random.fork_rng(devices=fork_rng_devices(device)):
        torch.random.default_generator.manual_seed(seed)
        if device.startswith("cuda"):
            torch.cuda.manual_seed(seed)
        yield


def _column_stats(X):
    """Minimum, maximum, per-column mean and global RMS around it, in float64.

    Two passes over row chunks, so a memmap is read, not copied, and float32 data with
    huge values cannot overflow the sums.
    """
    n, n_features = X.shape
    step = max(1, _STATS_CHUNK_BYTES // (8 * max(1, n_features)))
    total = np.zeros(n_features)
    lo, hi = np.inf, -np.inf
    for start in range(0, n, step):
        chunk = np.asarray(X[start : start + step], dtype=np.float64)
        total += chunk.sum(axis=0)
        lo, hi = min(lo, chunk.min()), max(hi, chunk.max())
    mean = total / n
    squares = 0.0
    with np.errstate(over="ignore"):
        # beyond ~1e154 the squares overflow; such data are refused by the range check
        for start in range(0, n, step):
            chunk = np.asarray(X[start : start + step], dtype=np.float64)
            squares += float(np.sum(np.square(chunk - mean)))
    return float(lo), float(hi), mean, float(np.sqrt(squares / (n * n_features)))


def _is_memmap(X):
    """Whether ``X`` (or an array it views) is backed by a memory-mapped file."""
    while X is not None:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


def _sample_rows(X, n_rows, seed):
    """Up to ``n_rows`` random rows of ``X`` (in file order, read without a full copy)."""
    if X.shape[0] <= n_rows:
        return np.asarray(X)
    rows = np.sort(np.random.RandomState(seed).choice(X.shape[0], n_rows, replace=False))
    return np.asarray(X[rows])
