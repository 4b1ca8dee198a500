"""The family base estimator: the scikit-learn contract written once.

Subclasses supply only what differs: the torch module (``_build_module``), the skorch net
class and its extra parameters (``_net_class``, ``_net_params``), and, where the objective
is not plain reconstruction, ``score_samples``.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import ProgressBar

from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._device import fork_rng_devices, loadable_device, resolve_device
from ._net import AutoencoderNet, EarlyStoppingFromStart, IndexSplit, TensorData
from .losses import hoyer_sparsity
from .nn import ACTIVATIONS, pca_residual_autoencoder, plain_autoencoder
from .nn.conv import (
    DEFAULT_CHANNELS,
    conv_autoencoder,
    max_conv_layers,
    pca_residual_conv_autoencoder,
    torch_image_shape,
)

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# chosen on the MNIST subset: held-out error 0.57x PCA's without decay, 0.49x with it
DEFAULT_ADAMW_WEIGHT_DECAY = 2.0

# rows per forward pass at inference; independent of the training batch size
_INFERENCE_BATCH = 4096


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
    }

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

    def _build_module(self, Xs, n_features):
        """The torch module for scaled training data ``Xs`` (a float32 numpy array).

        Records the shapes of the data-derived start (``_module_start_spec``), so that a
        module of the same architecture can be rebuilt without the data (see
        :meth:`_module_from_spec`) and filled with saved weights.
        """
        start = None if self.init == "random" else self._pca_start(Xs, n_features)
        self._module_start_spec = _start_spec(start)
        return self._module_from_start(start, n_features)

    def _module_from_spec(self, n_features):
        """An untrained module with the fitted architecture (weights to be loaded)."""
        return self._module_from_start(_placeholder_start(self._module_start_spec), n_features)

    def _pca_start(self, Xs, n_features):
        """Data-derived tensors of the PCA start: principal axes and score scales."""
        n_pca = min(self.n_components, n_features, Xs.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            # constant data: PCA's explained_variance_ratio_ divides 0 by 0, harmlessly
            pca = PCA(n_components=n_pca, svd_solver="auto", random_state=0).fit(Xs)
        # directions without variance (constant pixels, rank-deficient data: a full or
        # over-complete PCA start) would get a code std of ~0, weights of ~1/0 and NaN
        # losses; they join the extra code units, whose linear path starts at zero
        var = pca.explained_variance_
        n_keep = max(1, int(np.sum(var > 1e-12 * var[0]))) if var[0] > 0 else 1
        return {
            "components": torch.as_tensor(pca.components_[:n_keep], dtype=torch.float32),
            "code_std": torch.as_tensor(np.sqrt(var[:n_keep]), dtype=torch.float32),
        }

    def _module_from_start(self, start, n_features):
        """The module for a PCA ``start`` (see :meth:`_pca_start`), or random if None."""
        hidden = self.hidden_layer_sizes_
        conv = self.architecture == "conv"
        if start is None:
            if conv:
                return conv_autoencoder(
                    self.image_shape_, self.n_components, hidden, self.activation
                )
            return plain_autoencoder(n_features, self.n_components, hidden, self.activation)
        if conv:
            return pca_residual_conv_autoencoder(
                start["components"],
                start["code_std"],
                self.n_components,
                self.image_shape_,
                hidden,
                self.activation,
                code_unit=float(self.scale_),
            )
        return pca_residual_autoencoder(
            start["components"],
            start["code_std"],
            self.n_components,
            hidden,
            self.activation,
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

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in any units: the estimator centres it and scales it by one
            global factor, and undoes that in :meth:`inverse_transform`.
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
            self.device_ = resolve_device(self.device)
            self.image_shape_ = self._check_image_shape(X.shape[1])
            self.hidden_layer_sizes_ = self._check_hidden_layer_sizes(X.shape[1])
            self.data_min_, self.data_max_ = float(X.min()), float(X.max())
            self.weight_decay_ = self._resolve_weight_decay()
            self.mean_ = X.mean(axis=0)
            rms = float(np.sqrt(np.mean((X - self.mean_) ** 2)))
            # constant data still trains (to the mean); avoid dividing by zero
            self.scale_ = rms if rms > 0 else 1.0
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        Xs = self._scale(X)
        data = self._training_data(X, Xs)
        valid_idx = self._validation_indices(X.shape[0], rng)

        with torch.random.fork_rng(devices=fork_rng_devices(self.device_)):
            torch.random.default_generator.manual_seed(seed)
            if self.device_.startswith("cuda"):
                torch.cuda.manual_seed(seed)
            if not continuing:
                module = self._build_module(Xs, X.shape[1])
                self.net_ = self._make_net(module, valid_idx)
                self.net_.initialize()
            else:
                self.net_.set_params(
                    train_split=None if valid_idx is None else IndexSplit(valid_idx)
                )
            self.net_.partial_fit(data)
        self._record_history()
        self._record_explained_variance(X, valid_idx)
        return self

    def _scale(self, X):
        # C order: pandas hands over Fortran-ordered arrays, and a strided tensor takes
        # another matmul path whose last bits differ from the C-ordered one
        return np.ascontiguousarray(((X - self.mean_) / self.scale_).astype(np.float32, copy=False))

    def _training_data(self, X, Xs):
        """Inputs and targets on the training device; targets depend on the loss."""
        inputs = torch.as_tensor(Xs, device=self.device_)
        if self.loss == "bce":
            targets = torch.as_tensor(X, dtype=torch.float32, device=self.device_)
        else:
            targets = inputs
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

    def _make_net(self, module, valid_idx):
        # skorch's default PrintLog already stays silent unless verbose > 0
        callbacks = []
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
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = OPTIMIZERS[optimizer]
        optimizer_params = {}
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
            train_split=None if valid_idx is None else IndexSplit(valid_idx),
            callbacks=callbacks,
            device=self.device_,
            verbose=int(self.verbose),
            **optimizer_params,
            **self._net_params(),
        )

    def _record_history(self):
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = np.asarray(history[:, "train_loss"], dtype=float)
        if self.early_stopping:
            self.validation_loss_curve_ = np.asarray(history[:, "valid_loss"], dtype=float)
            stopper = dict(self.net_.callbacks_)["early_stopping"]
            self.best_epoch_ = int(stopper.best_epoch_)
        else:
            self.validation_loss_curve_ = None
            self.best_epoch_ = self.n_iter_

    def _record_explained_variance(self, X, valid_idx):
        """Fraction of variance reconstructed, comparable with PCA's
        ``explained_variance_ratio_.sum()`` (1 - residual SS / total SS around ``mean_``)."""
        # one inference pass over all rows, split afterwards: this runs at the end of every
        # fit, so it is kept to a fraction of one epoch's cost
        residual = np.sum(np.square(X - self._reconstruct(X)), axis=1, dtype=np.float64)
        total = np.sum(np.square(X - self.mean_), axis=1, dtype=np.float64)
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
    def _batched(self, fn, A):
        module = self.net_.module_
        module.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, A.shape[0], _INFERENCE_BATCH):
                chunk = torch.as_tensor(
                    A[start : start + _INFERENCE_BATCH], dtype=torch.float32, device=self.device_
                )
                out.append(fn(module, chunk).float().cpu().numpy())
        if not out:
            return np.empty((0, 0), dtype=np.float32)
        return np.concatenate(out)

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
            Data in the units seen in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components), dtype float32
            The codes; deterministic.
        """
        X = self._validate_post_fit_data(X)
        return self._batched(lambda m, x: m.encode(x), self._scale(X))

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
        out = self._batched(lambda m, z: m.decode(z), Z)
        return self._decode_output(out)

    def _reconstruct(self, X):
        out = self._batched(lambda m, x: m(x)[0], self._scale(X))
        return self._decode_output(out)

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
        err = X.astype(np.float64) - self._reconstruct(X)
        return -np.mean(err**2, axis=1)

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


def _ratio(residual, total):
    """``1 - sum(residual) / sum(total)``; constant data explain all when exactly rebuilt."""
    residual, total = float(residual.sum()), float(total.sum())
    if total == 0.0:
        return 1.0 if residual == 0.0 else float("-inf")
    return 1.0 - residual / total


def _noop(*args, **kwargs):
    pass


def _start_spec(start):
    """Shapes (tensors) and values (numbers) of a module start; JSON-serialisable."""
    if start is None:
        return None
    return {
        name: list(value.shape) if isinstance(value, torch.Tensor) else value
        for name, value in start.items()
    }


def _placeholder_start(spec):
    """A start with the shapes of ``spec``: ones where tensors were (their values are
    overwritten when saved weights are loaded; ones keep every derived weight finite)."""
    if spec is None:
        return None
    return {
        name: torch.ones(value, dtype=torch.float32) if isinstance(value, list) else value
        for name, value in spec.items()
    }
