"""AutoencoderClassifier and AutoencoderRegressor: pretrain an autoencoder on every row,
then fine-tune its encoder with a head on the labeled rows.

The pretraining stage is any member of the family (the ``autoencoder`` parameter), cloned and
fitted on all rows, or prefit elsewhere and passed as ``FrozenEstimator(fitted)``. The
fine-tuning net joins that member's network and a head (:class:`~sklearn_ae.nn.
SupervisedNetwork`) and trains through the family's own machinery: the parameter->net
mapping, callbacks and early stopping of :class:`~sklearn_ae._base._NetTrainer`, the
tensors and minibatches of :mod:`~sklearn_ae._data`. ``transform`` runs through the fitted
autoencoder's batched, checked ``_map_batches`` (the classifier's ``autoencoder_`` holds
the fine-tuned network itself); predictions through a float64 copy of the encoder and the
head on the CPU, so that a row's prediction does not depend on its batch.
"""

import copy
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import gen_batches
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._array_api import to_host
from ._autoencoder import AutoencoderTransformer
from ._base import _INT32_MAX, _BaseAutoencoder, _NetTrainer, check_layer_sizes
from ._compat import Interval, StrOptions, _fit_context
from ._data import (
    INPUT_DTYPES,
    IndexSplit,
    Scaler,
    SparseData,
    TailSplit,
    TensorData,
    column_mean_std,
    dense,
    dense_batch_rows,
    start_pca,
    validation_indices,
)
from ._device import oom_advice
from ._labels import encode_class_labels
from ._net import AutoencoderNet
from ._restore import (
    FITTED_ATTRIBUTES,
    atomic,
    check_module_state,
    float_array,
    integer,
    optional,
    real,
    restored_estimator,
)
from .losses import (
    masked_cross_entropy,
    masked_entropy,
    masked_mse,
    softmax_consistency,
)
from .noise import corrupt
from .nn import ACTIVATIONS, onnx_model
from .nn.supervised import Affine, SupervisedNetwork, build_head, write_linear_start

# codes of the default autoencoder (autoencoder=None), at most n_features
DEFAULT_N_COMPONENTS = 32

_SUPERVISED_LOSSES = {"classification": masked_cross_entropy, "regression": masked_mse}
_CONSISTENCY_LOSSES = {"classification": softmax_consistency, "regression": F.mse_loss}

# the regressor's targets: standardised in float64 (overflow-safe statistics), predicted
# back as head output * y_scale_ + y_mean_; beyond this their spread overflows float64
_MAX_ABS_TARGET = 1e300


class SupervisedNet(AutoencoderNet):
    """:class:`~sklearn_ae._net.AutoencoderNet` whose module is a
    :class:`~sklearn_ae.nn.SupervisedNetwork` and whose targets are labels.

    Parameters beyond AutoencoderNet's
    ----------------------------------
    task : {"classification", "regression"}
        The supervised loss: cross-entropy over class indices (-1: unlabeled), or squared
        error over standardised targets (NaN rows: unlabeled).
    reconstruction_weight : float
        Weight of the autoencoder's reconstruction objective (AutoencoderNet's loss, with
        its ``loss``, SSIM settings and sparsity penalty), computed in training steps on
        every row of the batch, labeled or not. Validation scores the supervised loss only.
    entropy_weight : float
        Weight of the mean entropy of the predicted class probabilities of the unlabeled
        rows of the batch (classification only).
    consistency_weight : float
        Weight of the divergence between the predictions for the rows of the batch and
        for a copy with Gaussian noise of standard deviation ``consistency_noise`` (in
        scaled units, where the data's RMS is 1) drawn from the fit's ``device_rng_``: the
        KL divergence of the noisy copy's class probabilities from the clean ones, or the
        squared difference of the standardised predictions; no gradient flows through the
        clean predictions.
    consistency_noise : float
    raw_target_offset : Tensor or None
        For ``loss="bce"``, whose targets are the unscaled rows: the column means, with
        ``raw_target_scale``, that map the scaled inputs back to them.
    raw_target_scale : float

    The reconstruction, entropy and consistency terms are training terms: validation
    scores the supervised loss alone.
    """

    def __init__(self, module, *args, task="classification", reconstruction_weight=0.0,
                 entropy_weight=0.0, consistency_weight=0.0, consistency_noise=1.0,
                 raw_target_offset=None, raw_target_scale=1.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.task = task
        self.reconstruction_weight = reconstruction_weight
        self.entropy_weight = entropy_weight
        self.consistency_weight = consistency_weight
        self.consistency_noise = consistency_noise
        self.raw_target_offset = raw_target_offset
        self.raw_target_scale = raw_target_scale

    def _consistency(self, output, X):
        noisy = corrupt("gaussian", X, self.consistency_noise, generator=self.device_rng_)
        with self._autocast():
            noisy_output = self.module_.predict(noisy).float()
        return _CONSISTENCY_LOSSES[self.task](output.detach(), noisy_output)

    def _batch_row_losses(self, x, target):
        # the floor of fine-tuning: each labeled row's supervised loss against the
        # start's (the linear head on the pretrained codes); unlabeled rows do not count
        output = self.module_(x)[0].float()
        if self.task == "classification":
            labeled = target != -1
            return F.cross_entropy(output[labeled], target[labeled], reduction="none")
        labeled = ~torch.isnan(target[:, 0])
        return (output[labeled] - target[labeled]).pow(2).mean(1)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, recon, codes = y_pred
        loss = _SUPERVISED_LOSSES[self.task](output, y_true)
        if not training:
            return loss  # validation judges the supervised loss alone
        if self.entropy_weight:
            loss = loss + self.entropy_weight * masked_entropy(output, y_true)
        if self.consistency_weight:
            loss = loss + self.consistency_weight * self._consistency(output, X)
        if recon is None or not self.reconstruction_weight:
            return loss
        target = X
        if self.raw_target_offset is not None:
            target = X * self.raw_target_scale + self.raw_target_offset.to(X.device)
        recon_loss = super().get_loss((recon, codes), target, X=X, training=training)
        return loss + self.reconstruction_weight * recon_loss


def _fitted_autoencoder(value, fitted):
    if not (isinstance(value, _BaseAutoencoder) and hasattr(value, "net_")
            and value.n_features_in_ == fitted["n_features_in_"]):
        raise ValueError("a fitted member of the family with n_features_in_ features")
    return value


def _classes(value, fitted):
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and len(value) >= 2
            and np.array_equal(np.unique(value), value)):
        raise ValueError("a 1-d array of at least two distinct labels, sorted")
    return value


def _positive_array(length):
    check_floats = float_array(length, finite=True)

    def check(value, fitted):
        if not np.all(check_floats(value, fitted) > 0):
            raise ValueError(f"an array of shape ({length},) of positive numbers")
        return value

    return check


# What a fit sets, with the checks loading runs (see sklearn_ae._restore); a subclass adds
# the attributes of its targets
_FITTED_ATTRIBUTES = {
    "n_features_in_": FITTED_ATTRIBUTES["n_features_in_"],
    "feature_names_in_": FITTED_ATTRIBUTES["feature_names_in_"],
    "autoencoder_": _fitted_autoencoder,
    "head_hidden_layer_sizes_": FITTED_ATTRIBUTES["hidden_layer_sizes_"],
    **{
        name: FITTED_ATTRIBUTES[name]
        for name in ("device_", "precision_", "weight_decay_", "n_iter_", "loss_curve_",
                     "best_epoch_", "validation_loss_curve_")
    },
    "consistency_noise_": optional(real(0)),
}


def _shared_constraints(*names):
    return {name: _BaseAutoencoder._parameter_constraints[name] for name in names}


class _BaseSupervised(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, _NetTrainer, BaseEstimator,
    metaclass=ABCMeta,
):
    """Shared fit / transform / to_torch of :class:`AutoencoderClassifier` and
    :class:`AutoencoderRegressor`; a subclass supplies the targets' encoding, the head's
    width and linear start, and its predictions."""

    _parameter_constraints = {
        "autoencoder": [_BaseAutoencoder, FrozenEstimator, None],
        "freeze_encoder": ["boolean"],
        "head_hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "head_activation": [StrOptions(set(ACTIVATIONS))],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "consistency_noise": [Interval(Real, 0, None, closed="neither")],
        **_shared_constraints(
            "max_epochs", "batch_size", "lr", "lr_schedule", "optimizer", "weight_decay",
            "early_stopping", "validation_fraction", "n_iter_no_change", "tol", "callbacks",
            "random_state", "verbose",
        ),
    }

    _net_class = SupervisedNet
    _task = None  # "classification" or "regression"
    # far below the autoencoders' 2.0: each step would shrink the pretrained weights by
    # lr * 2.0, and over a fine-tuning that decays what pretraining learned (MNIST subset,
    # 100 labels: 0.867 test accuracy with 2.0, 0.936 with 0.01; one draw)
    _default_adamw_weight_decay = 0.01
    _fitted_attributes = _FITTED_ATTRIBUTES
    _fitted_defaults = {}
    # no warm start or partial_fit to continue: the fine-tuning optimizer's state is not kept
    _pickles_optimizer = False

    @abstractmethod
    def __init__(
        self,
        autoencoder=None,
        *,
        freeze_encoder=False,
        head_hidden_layer_sizes=(),
        head_activation="relu",
        reconstruction_weight=0.0,
        consistency_weight=3.0,
        consistency_noise=0.225,
        max_epochs=60,
        batch_size=256,
        lr=1e-3,
        lr_schedule="onecycle",
        optimizer="adamw",
        weight_decay=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=30,
        tol=1e-4,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.autoencoder = autoencoder
        self.freeze_encoder = freeze_encoder
        self.head_hidden_layer_sizes = head_hidden_layer_sizes
        self.head_activation = head_activation
        self.reconstruction_weight = reconstruction_weight
        self.consistency_weight = consistency_weight
        self.consistency_noise = consistency_noise
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _encode_targets(self, y):
        """Checked ``y`` as the net's targets (unlabeled rows marked); sets the fitted
        attributes that describe the targets."""

    @abstractmethod
    def _labeled(self, targets):
        """Boolean mask of the labeled rows of encoded ``targets``."""

    @abstractmethod
    def _n_outputs(self):
        """Width of the head's output: classes, or targets."""

    @abstractmethod
    def _linear_start(self, codes, targets):
        """``(coef, intercept)`` of a linear model fitted on standardised ``codes`` of
        labeled training rows."""

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Pretrain the autoencoder on every row of ``X``, then fine-tune it with the head
        on the labeled rows.

        Atomic: if anything fails, the estimator is left exactly as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, labeled and unlabeled rows alike.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels, -1 marking the unlabeled rows (classifier); or targets, NaN
            marking them (regressor, which also takes several targets per row).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with atomic(self), self._host_fit(X, y) as (X, y):
            self._fit_steps(X, y)
        return self

    def _fit_steps(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = validate_data(self, X, dtype=INPUT_DTYPES, accept_sparse="csr",
                          ensure_min_samples=2)
        check_consistent_length(X, y)
        targets = self._encode_targets(y)
        self.head_hidden_layer_sizes_ = check_layer_sizes(
            self.head_hidden_layer_sizes, "head_hidden_layer_sizes"
        )
        rng = self._fit_rng()
        ae_seed, init_seed, train_seed = (int(s) for s in rng.randint(_INT32_MAX, size=3))
        self.autoencoder_ = self._pretrained(X, ae_seed)
        # fine-tuning moves the shared weights: the autoencoder's Adam moments no longer
        # describe them, and would stay in memory beside fine-tuning's own
        self.autoencoder_.net_.optimizer_.state.clear()
        self.device_, self.precision_ = self.autoencoder_.device_, self.autoencoder_.precision_
        self._resolve_weight_decay()
        valid_idx = self._validation_rows(targets, rng)
        train_idx = self._training_rows(targets, valid_idx)
        module = self._build_module(X, targets, train_idx, init_seed)
        data, split = self._training_data(X, targets, train_idx, valid_idx)
        self.consistency_noise_ = self._resolve_consistency_noise(X, train_idx)
        steps = -(-len(train_idx) // self.batch_size)
        self._initialize_net(module, split, train_seed, steps)
        self._train(data)
        self._record_history()

    def _pretrained(self, X, seed):
        """The fitted autoencoder fine-tuning starts from: a copy of a prefit one
        (``FrozenEstimator``), or a clone of ``autoencoder`` fitted on all of ``X``."""
        if isinstance(self.autoencoder, FrozenEstimator):
            return copy.deepcopy(self._check_prefit(self.autoencoder.estimator, X))
        if self.autoencoder is None:
            # no more codes than rows: beyond them the PCA start has no directions, and
            # on wide data each code costs a row of weights per feature
            ae = AutoencoderTransformer(n_components=min(DEFAULT_N_COMPONENTS, *X.shape))
        else:
            ae = clone(self.autoencoder)
        if ae.data_parallel:
            # the fine-tuning after it would run on every rank on its own
            raise ValueError(
                "autoencoder has data_parallel=True, which the fine-tuning does not do: "
                "pretrain it under torchrun on its own, then pass "
                "FrozenEstimator(fitted_autoencoder)."
            )
        if ae.random_state is None:
            ae.set_params(random_state=seed)  # seeded by this estimator's random_state
        return ae.fit(X)

    @staticmethod
    def _check_prefit(ae, X):
        if not isinstance(ae, _BaseAutoencoder):
            raise ValueError(
                "autoencoder=FrozenEstimator(...) must wrap a fitted member of the family "
                f"(AutoencoderTransformer, ...); got FrozenEstimator({ae!r})."
            )
        check_is_fitted(ae)
        if ae.n_features_in_ != X.shape[1]:
            raise ValueError(
                f"The prefit autoencoder was fitted on {ae.n_features_in_} features, but X "
                f"has {X.shape[1]}: its encoder cannot read these rows."
            )
        return ae

    def _unlabeled_terms(self):
        """The weights of the training terms that read unlabeled rows."""
        reconstruction = 0.0 if self.freeze_encoder else self.reconstruction_weight
        return {"reconstruction_weight": reconstruction,
                "consistency_weight": self.consistency_weight}

    def _reconstructs(self):
        return self._unlabeled_terms()["reconstruction_weight"] > 0

    def _uses_unlabeled(self):
        """Whether fine-tuning trains on the unlabeled rows too."""
        return any(weight > 0 for weight in self._unlabeled_terms().values())

    def _validation_rows(self, targets, rng):
        """Sorted row numbers of the labeled rows held out for early stopping, or None."""
        if not self.early_stopping:
            return None
        labeled = np.flatnonzero(self._labeled(targets))
        try:
            held_out = validation_indices(len(labeled), self.validation_fraction, rng)
        except ValueError:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no labeled rows to "
                f"train on with n_samples={len(labeled)} labeled rows; lower it or set "
                "early_stopping=False."
            ) from None
        valid_idx = self._keep_for_training(labeled[held_out], targets)
        return valid_idx if len(valid_idx) else None

    def _keep_for_training(self, valid_idx, targets):
        """The validation rows, less any the training rows cannot do without."""
        return valid_idx

    def _training_rows(self, targets, valid_idx):
        rows = np.ones(len(targets), dtype=bool)
        if not self._uses_unlabeled():
            rows = self._labeled(targets)
        if valid_idx is not None:
            rows[valid_idx] = False
        return np.flatnonzero(rows)

    # -------------------------------------------------------- network and data
    def _codes(self, X):
        """Codes of the (validated) rows ``X`` from the autoencoder's encoder, float32."""
        ae = self.autoencoder_
        return ae._map_batches(
            X, lambda m, x, rows: m.encode(x).float(), (ae.n_components_,)
        )

    def _build_module(self, X, targets, train_idx, seed):
        """The autoencoder's network with a head whose input standardises the codes (on
        all rows) and, without hidden layers, starts at a linear model fitted on the codes
        of the labeled training rows."""
        codes = self._codes(X)
        head = self._head(torch.Generator().manual_seed(seed))
        # one global scale, as for the data: whitening each unit would give the weak,
        # noisy directions of the codes as much say as the strong ones
        mean, std = codes.mean(axis=0), float(np.sqrt(np.mean(codes.var(axis=0)))) or 1.0
        head[0].set(np.full(len(mean), 1.0 / std), -mean / std)
        if not self.head_hidden_layer_sizes_:
            rows = train_idx[self._labeled(targets[train_idx])]
            start = self._linear_start((codes[rows] - mean) / std, targets[rows])
            write_linear_start(head, *start)
        return self._supervised_network(head)

    def _supervised_network(self, head):
        """The fine-tuning network: the autoencoder's network (shared, not copied) and
        ``head``."""
        network = self.autoencoder_.net_.module_
        return SupervisedNetwork(network, head, self.freeze_encoder, self._reconstructs())

    def _head(self, generator=None, device="cpu"):
        """The untrained head of the fitted sizes (see :func:`~sklearn_ae.nn.build_head`)."""
        return build_head(
            self.autoencoder_.n_components_, self.head_hidden_layer_sizes_, self._n_outputs(),
            self.head_activation, generator=generator, device=device,
        )

    def _training_data(self, X, targets, train_idx, valid_idx):
        """The net's dataset (training rows, then validation rows, scaled as the
        autoencoder scales them) and its split; sparse rows are densified a batch at a
        time (:class:`~sklearn_ae._data.SparseData`)."""
        order = train_idx if valid_idx is None else np.concatenate([train_idx, valid_idx])
        ae = self.autoencoder_
        if sp.issparse(X):
            data = SparseData(X, Scaler(ae.mean_, ae.scale_), order, self.device_,
                              labels=targets)
            tail = np.arange(len(train_idx), len(order))
            return data, None if valid_idx is None else IndexSplit(tail)
        advice = (
            f"The training rows ({len(order)} x {X.shape[1]} float32) do not fit on "
            f"{self.device_}: fit on device='cpu' (the autoencoder's device)."
        )
        with oom_advice(advice):
            inputs = Scaler(ae.mean_, ae.scale_).rows(X, order)
            inputs = torch.as_tensor(inputs, device=self.device_)
            labels = torch.as_tensor(targets[order], device=self.device_)
        split = None if valid_idx is None else TailSplit(valid_idx)
        return TensorData(inputs, labels), split

    def _resolve_consistency_noise(self, X, train_idx):
        """``consistency_noise`` in the net's scaled units: times the standard deviation of
        the scaled training rows along their first principal axis. (A level relative to
        the data's overall RMS would blur low-dimensional data's classes and barely touch
        those of images, whose variance spreads over many directions.)"""
        if not self.consistency_weight:
            return None
        ae, rows = self.autoencoder_, X[train_idx]
        # sparse rows stay sparse and uncentred: the PCA centres them implicitly
        rows = rows / ae.scale_ if sp.issparse(rows) else Scaler(ae.mean_, ae.scale_)(rows)
        pca = start_pca(rows, 1)
        return float(self.consistency_noise * np.sqrt(pca.explained_variance_[0]))

    def _net_params(self):
        ae = self.autoencoder_
        # the plain reconstruction objective of the member (its loss, SSIM settings and
        # sparsity penalty); its noise, prior or contraction belong to pretraining
        params = {
            **_BaseAutoencoder._net_params(ae),
            "task": self._task,
            **{name: float(weight) for name, weight in self._unlabeled_terms().items()},
            "consistency_noise": float(self.consistency_noise_ or 0.0),
        }
        if ae.loss == "bce":
            params["raw_target_offset"] = torch.as_tensor(ae.mean_, dtype=torch.float32)
            params["raw_target_scale"] = float(ae.scale_)
        return params

    def _sizes_text(self):
        return (
            f"the autoencoder's hidden_layer_sizes_={self.autoencoder_.hidden_layer_sizes_}, "
            f"head_hidden_layer_sizes={self.head_hidden_layer_sizes_}"
        )

    # ------------------------------------------------------------ inference
    def _validate_post_fit_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=INPUT_DTYPES, accept_sparse="csr")
        self.autoencoder_._check_bce_range(X)
        return X

    def _head_outputs(self, X):
        """The head's outputs for ``X`` (logits, or standardised predictions), float64.

        Encoder and head run on the CPU in float64: in float32 the last bits of a row's
        code depend on how many rows are multiplied at once (one row and many take
        different kernels), and a row's prediction must not depend on the rows beside it."""
        X = self._validate_post_fit_data(X)
        network = self._encoder_and_head().to("cpu", torch.float64).eval()
        step = dense_batch_rows(X, int(self.autoencoder_.inference_batch_size))
        with torch.inference_mode():
            outputs = [
                network(torch.from_numpy(dense(X[rows]).astype(np.float64))).numpy()
                for rows in gen_batches(X.shape[0], step)
            ]
        return np.concatenate(outputs)

    def transform(self, X):
        """The codes of ``X`` from the fine-tuned encoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components), dtype float32
            The codes the head reads (before its standardisation); deterministic.
        """
        return self._codes(self._validate_post_fit_data(X))

    def to_torch(self):
        """The whole fitted network as a plain :class:`torch.nn.Module`: the input scaling,
        the fine-tuned encoder and the head.

        A copy in eval mode on ``device_``; it maps float32 tensors of shape
        ``(n, n_features_in_)`` to the classifier's logits (``torch.softmax`` of them is
        :meth:`predict_proba`) or the regressor's predictions in the units of ``y``, of
        shape ``(n, n_outputs_)``. Its first module is the autoencoder's
        ``to_torch("encoder")``.

        Returns
        -------
        module : torch.nn.Sequential
        """
        check_is_fitted(self)
        network = self._encoder_and_head()
        return torch.nn.Sequential(*network, *self._output_layers()).to(self.device_).eval()

    def to_onnx(self, *, opset=None):
        """The whole fitted network (:meth:`to_torch`) as an ONNX model: to serve
        :meth:`predict_proba` (the classifier's ``"probabilities"``, the softmax of its
        logits) or :meth:`predict` (the regressor's ``"predictions"``, of shape
        ``(n, n_outputs_)``, in the units of ``y``) outside Python.

        The graph takes float32 rows, any number of them, as its input ``"X"``. Exported
        with torch's ``dynamo=True`` exporter; needs the ``onnx`` extra
        (``pip install 'sklearn-ae[onnx]'``).

        Parameters
        ----------
        opset : int, default=None
            ONNX opset of the graph (18 or later); None for the exporter's default.

        Returns
        -------
        model : onnx.ModelProto
        """
        check_is_fitted(self)
        name, layers = self._onnx_output()
        module = torch.nn.Sequential(self.to_torch(), *layers).cpu().eval()
        return onnx_model(module, self.n_features_in_, "X", name, opset=opset)

    def _encoder_and_head(self):
        """A copy of the scaling, the encoder and the head, as one module."""
        head = copy.deepcopy(self.net_.module_.head)
        return torch.nn.Sequential(self.autoencoder_.to_torch("encoder"), head)

    def _output_layers(self):
        return []

    # ------------------------------------------------------------ persistence
    def _module_to_save(self):
        # the network is the autoencoder's, saved with autoencoder_
        return self.net_.module_.head

    @classmethod
    def _from_saved(cls, params, attributes, module_state, history):
        """The fitted estimator that parameters, fitted attributes (the fitted
        ``autoencoder_`` among them), the head's weights and the per-epoch history
        describe; ValueError if they do not describe a usable model (checked before the
        head is built)."""
        est = restored_estimator(cls, params, attributes, history)
        est._restore_net(module_state, history)
        return est

    def _restored_module(self, module_state):
        """The fine-tuning network around ``autoencoder_``'s, with a head of the fitted
        sizes holding ``module_state`` (built once the weights have the shapes those sizes
        give)."""
        # each layer of the head has weights: this bounds the layers the meta build creates
        if len(self.head_hidden_layer_sizes_) >= len(module_state):
            raise ValueError(
                f"it declares {len(self.head_hidden_layer_sizes_)} hidden layers in the head "
                f"but holds {len(module_state)} weight tensors for it."
            )
        check_module_state(self._head(device="meta").state_dict(), module_state)
        head = self._head()
        head.load_state_dict(module_state, strict=True)
        return self._supervised_network(head)

    # --------------------------------------------------------------- sklearn
    @property
    def _n_features_out(self):
        return self.autoencoder_.n_components_

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True  # CSR / CSC, densified one batch at a time
        tags.target_tags.required = True
        return tags


# The parameters' and shared attributes' text, identical in both classes (a test keeps it so).
_PARAMETERS = """\
    Parameters
    ----------
    autoencoder : estimator, FrozenEstimator or None, default=None
        The pretraining stage: a member of the family (``AutoencoderTransformer``,
        ``DenoisingAutoencoder``, ``VAETransformer``, ``ContractiveAutoencoder``), cloned and
        fitted on every row of ``X`` (labeled or not) in :meth:`fit`; if its
        ``random_state`` is None it is drawn from this estimator's. None means
        ``AutoencoderTransformer(n_components=min(32, n_features, n_samples))``. To start from an
        autoencoder fitted elsewhere (transfer), wrap it in
        :class:`sklearn.frozen.FrozenEstimator`: it is not refitted, its network is copied
        (the object passed never changes) and fine-tuned. A fitted autoencoder passed
        without ``FrozenEstimator`` is cloned and refitted, as scikit-learn's
        meta-estimators do. Tune it as ``autoencoder__n_components`` and so on. One with
        ``data_parallel=True`` is refused (fine-tuning is not data-parallel): pretrain it
        under ``torchrun`` on its own and pass it as ``FrozenEstimator``.
    freeze_encoder : bool, default=False
        Train the head only: the codes are computed without gradients (no backward pass
        through the encoder) and the reconstruction term is off. The consistency term
        (and the classifier's entropy term) still read the unlabeled rows through the
        head; with them at 0 as well, the default linear head is a linear model on the
        pretrained codes fitted on the labeled rows (the autoencoder still sees every
        row).
    head_hidden_layer_sizes : int or array-like of int, default=()
        Hidden widths of the head on the codes; the head reads the codes centred by their
        mean over all rows and divided by one global scale (the root mean of their
        variances), both fixed in :meth:`fit`. ``()`` is a
        linear head (softmax regression in the classifier) that starts at a
        ``LogisticRegression`` (classifier) or ``Ridge`` (regressor) fitted on the
        standardised codes of the labeled training rows, so fine-tuning starts where a
        linear model on the pretrained codes ends, and early stopping can keep that start.
        Hidden layers start at PyTorch's default initialisation.
    head_activation : {"relu", "tanh", "logistic", "identity", "leaky_relu", "elu", \
"gelu", "silu"}, default="relu"
        Activation of the head's hidden layers.
    reconstruction_weight : float, default=0.0
        Weight of the autoencoder's reconstruction loss kept in the fine-tuning objective,
        so that the encoder does not forget what pretraining learned. It is computed on
        every row of each batch, labeled or not, so with it fine-tuning also learns from
        the unlabeled rows. It is the member's plain reconstruction loss (its ``loss`` and
        sparsity penalty, on clean rows; not its noise, prior or contraction). Not used
        with ``freeze_encoder=True``. Off by default: with the small default
        ``weight_decay`` the encoder keeps its pretraining without it (MNIST subset, 100
        labels: 0.936 test accuracy with weight 1, 0.9385 without, one draw), and decoding
        every row makes fine-tuning about three times slower.
{entropy}{consistency}    consistency_noise : float, default=0.225
        Standard deviation of the consistency term's Gaussian noise (added to every
        feature), relative to the standard deviation of the training rows along their
        first principal axis; the value used, in the autoencoder's scaled units, is
        ``consistency_noise_``. So defined it means the same for images, whose variance
        spreads over many directions, and for data of a few features. The default is 2 of
        the data's root mean square on the MNIST subset (0.225 x 8.89), where 0.5, 1, 2 and
        3 of them gave 0.823, 0.855, 0.866 and 0.855 test accuracy with 100 labels (one
        draw, with the earlier weight decay of 2.0; 0.874 and 0.884 for 1 and 2 on a
        second draw).
    max_epochs : int, default=60
        Maximum number of passes over the fine-tuning rows (every row with a term that
        reads unlabeled rows, else the labeled ones); with ``lr_schedule="onecycle"`` also
        the schedule's length. Pretraining runs the autoencoder's own ``max_epochs``.
    batch_size : int, default=256
        Minibatch size of fine-tuning.
    lr : float, default=1e-3
        Learning rate of fine-tuning: the peak of the one-cycle schedule, or the constant
        rate with ``lr_schedule="constant"``. Pretraining uses the autoencoder's ``lr``.
    lr_schedule : {"onecycle", "constant"}, default="onecycle"
        ``"onecycle"``: the rate rises from ``lr / 25`` to ``lr`` over the first 30% of
        the ``max_epochs`` epochs' steps, then anneals (cosine) to ``lr / 250000``.
        ``"constant"``: ``lr`` throughout. A skorch ``LRScheduler`` in ``callbacks``
        replaces the one-cycle schedule.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or torch optimizer class, \
default="adamw"
        The optimizer of fine-tuning. ``"adamw"``, ``"adam"`` and ``"sgd"`` get torch's fused
        implementation (one kernel per step; the same update up to float rounding); a
        class, e.g. ``torch.optim.Adam``, is used as given.
    weight_decay : float, default=None
        Passed to the optimizer as ``weight_decay``. ``None`` means 0.01 for the default
        ``"adamw"`` (decoupled decay: each step shrinks the weights by
        ``lr * weight_decay``) and 0 for any other optimizer. The value used is
        ``weight_decay_``. Far below the autoencoders' 2.0, which would decay the
        pretrained weights away during fine-tuning: on the MNIST subset with 100 labels,
        2.0 gave 0.867 test accuracy, 0.1, 0.01 and 0 gave 0.937, 0.936 and 0.936 (one
        draw).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled rows (giving back one of each
        class that would have no training row left), stop when their supervised loss
        (cross-entropy in the classifier, squared error of the standardised targets in the
        regressor) has not improved for ``n_iter_no_change`` epochs, and keep the best
        weights seen, the start included. Off by default, unlike the autoencoders': with
        few labels the held-out rows cost more than they guard (on the MNIST subset with
        100 labels, 10 held-out rows, test accuracy 0.8815 with it, 0.936 without; one
        draw).
    validation_fraction : float, default=0.1
        Fraction of the labeled rows held out for early stopping.
    n_iter_no_change : int, default=30
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss that counts.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks of fine-tuning (e.g. ``LRScheduler``, ``Checkpoint``),
        copied at each fit; a ``(name, callback)`` tuple keeps its name.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit: the autoencoder's seed (when its own
        ``random_state`` is None), the head's initial weights, the shuffling and the
        validation split. ``None``: a fresh seed from the operating system. Global random
        states are left as they were.
    verbose : int, default=0
        1 prints a table per epoch of fine-tuning, 2 adds a progress bar.
"""

_CONSISTENCY_CLASSIFIER = """\
    consistency_weight : float, default=3.0
        Weight of a consistency term on every row of each batch, labeled or not (the
        Pi-model: Laine & Aila, 2017): the predictions for the rows with Gaussian noise
        added (``consistency_noise``) are pulled towards those for the clean rows (the KL
        divergence of the class probabilities in the classifier, the squared difference
        of the standardised predictions in the regressor), so the head and the encoder
        learn to predict alike across the neighbourhood of every row. 0 switches it off.
        It is what makes the unlabeled rows count: on the MNIST subset with 100 labels,
        test accuracy 0.809 without it, 0.936 with it (one draw; ``benchmarks/README.md``).
"""

_CONSISTENCY_REGRESSOR = """\
    consistency_weight : float, default=0.0
        Weight of a consistency term on every row of each batch, labeled or not (the
        Pi-model: Laine & Aila, 2017): the predictions for the rows with Gaussian noise
        added (``consistency_noise``) are pulled towards those for the clean rows (the
        squared difference of the standardised predictions), so the head and the encoder
        learn to predict alike across the neighbourhood of every row. Off by default: noise
        on the inputs shrinks a regression's slopes as a ridge penalty does (on a linear
        target, 40 of 200 rows labeled, weight 3 and a noise of the data's RMS took R^2
        from above 0.9 to 0.71).
"""

_ENTROPY = """\
    entropy_weight : float, default=0.0
        Weight of the mean entropy of the predicted class probabilities of the unlabeled
        rows (entropy minimisation: Grandvalet & Bengio, 2005), which moves the decision
        boundaries away from the unlabeled rows, into the low-density regions between the
        classes. Off by default: with the consistency term it added nothing on the MNIST
        subset with 100 labels (0.9355 test accuracy without, 0.936 with 0.3; one draw).
"""

_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`; only defined when `X` has string
        feature names.
    autoencoder_ : estimator
        The fitted pretraining stage, holding the fine-tuned network (unless
        ``freeze_encoder``): its :meth:`transform` equals this estimator's and its
        ``inverse_transform`` decodes with the fine-tuned decoder. Its training attributes
        (``loss_curve_``, ...) describe pretraining.
    head_hidden_layer_sizes_ : tuple of int
        Hidden widths of the head.
    device_ : str
        Device of fine-tuning, of :meth:`transform` and of :meth:`to_torch`: the
        autoencoder's ``device_``. Predictions are computed on the CPU in float64, so a
        row's prediction does not depend on the rows beside it.
    precision_ : str
        Training precision of fine-tuning: the autoencoder's ``precision_``.
    weight_decay_ : float
        Weight decay actually used in fine-tuning.
    consistency_noise_ : float or None
        Standard deviation of the consistency term's noise in the autoencoder's scaled
        units (``consistency_noise`` resolved); None without the consistency term.
    net_ : skorch.NeuralNet
        The fine-tuning skorch net; ``net_.module_`` is a
        :class:`~sklearn_ae.nn.SupervisedNetwork` (the autoencoder's network and the
        head).
    n_iter_ : int
        Number of epochs of fine-tuning run.
    best_epoch_ : int
        Epoch whose weights were kept (0 means the start: pretrained encoder, linear start
        of the head).
    loss_curve_ : ndarray of shape (n_iter_,)
        Training loss per epoch of fine-tuning: the supervised loss plus the weighted
        consistency, entropy and reconstruction terms that are on.
    validation_loss_curve_ : ndarray of shape (n_iter_,) or None
        Supervised loss of the validation rows per epoch; None without early stopping.
    history_ : skorch.history.History
        skorch's per-epoch history of fine-tuning; the same object as ``net_.history``.
"""


class AutoencoderClassifier(ClassifierMixin, _BaseSupervised):
    __doc__ = (
        """Classifier that pretrains an autoencoder on every row and fine-tunes its encoder
    with a head on the labeled rows: semi-supervised learning by unsupervised pretraining.

    In :meth:`fit`, rows whose label is ``-1`` are unlabeled, as in
    :mod:`sklearn.semi_supervised`: every row pretrains the ``autoencoder`` (any member
    of the family), the labeled rows train the head and fine-tune the encoder, and a
    consistency term on every row (its predictions must not change when noise is added
    to it) lets the unlabeled rows place the decision boundaries; a reconstruction term
    and entropy minimisation are optional. Without ``-1`` in ``y`` it is supervised
    learning from an autoencoder start. The head starts at a logistic regression on the
    pretrained codes (with early stopping on held-out labeled rows, that start is a
    candidate too).
    :meth:`transform` gives the fine-tuned codes; :meth:`to_torch` the whole network.

"""
        + _PARAMETERS.replace("{entropy}", _ENTROPY).replace(
            "{consistency}", _CONSISTENCY_CLASSIFIER
        )
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (the labeled rows' distinct values, sorted).
"""
        + _ATTRIBUTES
        + """
    See Also
    --------
    AutoencoderRegressor : The same for regression targets.
    sklearn.semi_supervised.LabelSpreading : Graph-based semi-supervised learning.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import AutoencoderClassifier, AutoencoderTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> y_few = y[:1000].copy()
    >>> y_few[100:] = -1  # 100 labeled rows, 900 unlabeled
    >>> ae = AutoencoderTransformer(n_components=16, max_epochs=5, random_state=0)
    >>> clf = AutoencoderClassifier(ae, max_epochs=5, random_state=0).fit(X[:1000], y_few)
    >>> clf.predict(X[1000:1003]).shape
    (3,)
    >>> clf.predict_proba(X[1000:1003]).shape
    (3, 10)
    >>> clf.transform(X[1000:1003]).shape
    (3, 16)
    """
    )

    _task = "classification"
    _fitted_attributes = {**_FITTED_ATTRIBUTES, "classes_": _classes}
    _parameter_constraints = {
        **_BaseSupervised._parameter_constraints,
        "entropy_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        autoencoder=None,
        *,
        freeze_encoder=False,
        head_hidden_layer_sizes=(),
        head_activation="relu",
        reconstruction_weight=0.0,
        entropy_weight=0.0,
        consistency_weight=3.0,
        consistency_noise=0.225,
        max_epochs=60,
        batch_size=256,
        lr=1e-3,
        lr_schedule="onecycle",
        optimizer="adamw",
        weight_decay=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=30,
        tol=1e-4,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            autoencoder,
            freeze_encoder=freeze_encoder,
            head_hidden_layer_sizes=head_hidden_layer_sizes,
            head_activation=head_activation,
            reconstruction_weight=reconstruction_weight,
            consistency_weight=consistency_weight,
            consistency_noise=consistency_noise,
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
            random_state=random_state,
            verbose=verbose,
        )
        self.entropy_weight = entropy_weight

    def _onnx_output(self):
        return "probabilities", [torch.nn.Softmax(dim=1)]

    def _encode_targets(self, y):
        classes, targets = encode_class_labels(y, "AutoencoderClassifier")
        if not len(classes):
            raise ValueError(
                f"y has no labeled rows: all {len(y)} labels are -1 (unlabeled); at least "
                "two classes need labeled rows."
            )
        if len(classes) < 2:
            raise ValueError(
                f"The labeled rows hold a single class ({classes.tolist()[0]!r}); a "
                "classifier needs at least two classes among the rows not marked -1."
            )
        self.classes_ = classes
        return targets

    def _labeled(self, targets):
        return targets != -1

    def _unlabeled_terms(self):
        return {**super()._unlabeled_terms(), "entropy_weight": self.entropy_weight}

    def _n_outputs(self):
        return len(self.classes_)

    def _keep_for_training(self, valid_idx, targets):
        # a class whose every row is held out could not be learnt: one goes back
        held = np.zeros(len(targets), dtype=bool)
        held[valid_idx] = True
        training = targets[~held & self._labeled(targets)]
        for k in np.setdiff1d(np.arange(len(self.classes_)), training):
            held[np.flatnonzero(held & (targets == k))[0]] = False
        return np.flatnonzero(held)

    def _linear_start(self, codes, labels):
        with warnings.catch_warnings():
            # a start, not the answer: an unconverged one is still a good start
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(max_iter=1000).fit(codes, labels)
        coef = np.zeros((len(self.classes_), codes.shape[1]))
        intercept = np.zeros(len(self.classes_))
        if len(model.classes_) == 2:
            # one logit difference: softmax([0, z]) is sigmoid(z)
            second = model.classes_[1]
            coef[second], intercept[second] = model.coef_[0], model.intercept_[0]
        else:
            coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
        return coef, intercept

    def decision_function(self, X):
        """The head's logits: one column per class, or, with two classes, the logit of
        ``classes_[1]`` against ``classes_[0]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        logits = self._head_outputs(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return torch.log_softmax(torch.from_numpy(self._head_outputs(X)), dim=1).numpy()

    def predict_proba(self, X):
        """Class probabilities, the softmax of the head's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._head_outputs(X)
        return self.classes_[np.argmax(logits, axis=1)]


class AutoencoderRegressor(RegressorMixin, _BaseSupervised):
    __doc__ = (
        """Regressor that pretrains an autoencoder on every row and fine-tunes its encoder
    with a head on the labeled rows: semi-supervised learning by unsupervised pretraining.

    In :meth:`fit`, rows whose target is NaN (every target NaN, for several targets) are
    unlabeled: every row pretrains the ``autoencoder`` (any member of the family), the
    labeled rows train the head and fine-tune the encoder; the reconstruction and
    consistency terms, off by default here, let the unlabeled rows take part in
    fine-tuning too. (NaN, not scikit-learn's -1 of
    :mod:`sklearn.semi_supervised`: -1 is a valid regression target.) Rows with some
    targets NaN and others not are refused. Targets are standardised for training; the
    head starts at a ridge regression on the pretrained codes.
    :meth:`transform` gives the fine-tuned codes; :meth:`to_torch` the whole network.

"""
        + _PARAMETERS.replace("{entropy}", "").replace(
            "{consistency}", _CONSISTENCY_REGRESSOR
        )
        + """
    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    y_mean_ : ndarray of shape (n_outputs_,)
        Mean of each target over the labeled rows.
    y_scale_ : ndarray of shape (n_outputs_,)
        Standard deviation of each target over the labeled rows (1 where it is 0); the
        head predicts ``(y - y_mean_) / y_scale_``.
"""
        + _ATTRIBUTES
        + """
    See Also
    --------
    AutoencoderClassifier : The same for class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_ae import AutoencoderRegressor, AutoencoderTransformer
    >>> X, y = load_diabetes(return_X_y=True)
    >>> y_few = y.copy()
    >>> y_few[100:] = np.nan  # 100 labeled rows
    >>> ae = AutoencoderTransformer(n_components=5, max_epochs=5, random_state=0)
    >>> reg = AutoencoderRegressor(ae, max_epochs=5, random_state=0).fit(X, y_few)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.transform(X[:3]).shape
    (3, 5)
    """
    )

    _task = "regression"
    _fitted_attributes = {
        **_FITTED_ATTRIBUTES,
        "n_outputs_": integer(1),
        "y_mean_": float_array("n_outputs_", finite=True),
        "y_scale_": _positive_array("n_outputs_"),
    }

    def __init__(
        self,
        autoencoder=None,
        *,
        freeze_encoder=False,
        head_hidden_layer_sizes=(),
        head_activation="relu",
        reconstruction_weight=0.0,
        consistency_weight=0.0,
        consistency_noise=0.225,
        max_epochs=60,
        batch_size=256,
        lr=1e-3,
        lr_schedule="onecycle",
        optimizer="adamw",
        weight_decay=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=30,
        tol=1e-4,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            autoencoder,
            freeze_encoder=freeze_encoder,
            head_hidden_layer_sizes=head_hidden_layer_sizes,
            head_activation=head_activation,
            reconstruction_weight=reconstruction_weight,
            consistency_weight=consistency_weight,
            consistency_noise=consistency_noise,
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
            random_state=random_state,
            verbose=verbose,
        )

    def _encode_targets(self, y):
        y = check_array(
            y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan", input_name="y"
        )
        Y = y.reshape(len(y), -1)
        missing = np.isnan(Y)
        unlabeled = missing.all(axis=1)
        partial = np.flatnonzero(missing.any(axis=1) & ~unlabeled)
        if len(partial):
            raise ValueError(
                f"y has NaN in some but not all targets of rows {partial[:5].tolist()}; a "
                "row is unlabeled when all its targets are NaN."
            )
        if unlabeled.all():
            raise ValueError(
                f"y has no labeled rows: all {len(y)} targets are NaN (unlabeled)."
            )
        labeled = Y[~unlabeled]
        peak = float(np.max(np.abs(labeled)))
        if peak > _MAX_ABS_TARGET:
            raise ValueError(
                f"y holds targets up to {peak:g} in absolute value, beyond "
                f"{_MAX_ABS_TARGET:g}: their spread would overflow float64 (largest "
                f"{np.finfo(np.float64).max:g}). Rescale y."
            )
        self.n_outputs_ = Y.shape[1]
        self.y_mean_, std = column_mean_std(labeled)
        self.y_scale_ = np.where(std > 0, std, 1.0)
        return ((Y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _labeled(self, targets):
        return ~np.isnan(targets[:, 0])

    def _n_outputs(self):
        return self.n_outputs_

    def _linear_start(self, codes, targets):
        model = Ridge(alpha=1.0).fit(codes, targets)
        return model.coef_, model.intercept_

    def _onnx_output(self):
        return "predictions", []

    def _output_layers(self):
        return [Affine(self.n_outputs_).set(self.y_scale_, self.y_mean_)]

    def predict(self, X):
        """Predicted targets, in the units of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            One-dimensional for a single target.
        """
        y = self._head_outputs(X) * to_host(self.y_scale_) + to_host(self.y_mean_)
        return y.ravel() if self.n_outputs_ == 1 else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
