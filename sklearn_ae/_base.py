"""The private base of the family: the scikit-learn contract written once.

A member supplies only what differs, through these hooks: its skorch net class
(``_net_class``) and the net's member parameters (``_net_params``), the network's kind
(``_network_options``) and the data-derived start written into it (``_write_start``), and,
where its objective is not plain reconstruction, ``score_samples``.
"""

import inspect
from abc import ABCMeta, abstractmethod
from fnmatch import fnmatch
from numbers import Integral, Real

import numpy as np
import torch
from skorch.history import History
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _parallel
from ._array_api import (
    ArrayAPIMixin,
    as_output_of,
    check_tensor,
    dispatched_tensor,
    output_like,
    to_host,
)
from ._callbacks import kept_epoch, train, training_callbacks
from ._compat import HasMethods, Interval, StrOptions, _fit_context, is_int, output_container
from ._dask import block_rows, check_dask_array, is_dask_collection, map_row_blocks
from ._data import (
    INPUT_DTYPES,
    Scaler,
    TensorBatches,
    column_stats,
    dense,
    dense_batch_rows,
    is_fraction,
    mean_std_from_sums,
    start_pca,
    training_data,
    validation_indices,
    value_range,
)
from ._device import (
    auto_precision,
    loadable_device,
    loadable_precision,
    oom_advice,
    resolve_device,
    resolve_precision,
    to_arrays,
    to_tensors,
)
from ._export import ExportMixin
from ._net import AutoencoderNet
from ._restore import (
    FITTED_ATTRIBUTES,
    atomic,
    check_module_state,
    restored_estimator,
)
from ._warn import warn
from .nn import ACTIVATIONS, build_network, default_hidden_layer_sizes, write_pca_start
from .nn.conv import resolve_image_shape

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# chosen on the MNIST subset: held-out error 0.57x PCA's without decay, 0.49x with it
DEFAULT_ADAMW_WEIGHT_DECAY = 2.0

# optimizers given by name that get torch's fused implementation: one kernel per step
# instead of several per parameter tensor. The same update up to float rounding; a fit of
# the MNIST benchmark network trained 10% faster on a 2-core CPU in float32 (fused Adam
# 1.32 s against 1.47 s for 4 epochs, same loss to 4 digits), and with bfloat16 matmuls the
# optimizer step is a larger share still. Pass the torch class (torch.optim.Adam) for the
# reference implementation.
_FUSED_OPTIMIZERS = {"adam", "adamw", "sgd"}

# Codes (in the data's units with init="pca"), reconstructions and every output are
# float32: data must leave them headroom above (values up to _MAX_ABS_VALUE, a tenth of
# float32's largest, which training may overshoot) and below (a spread of at least
# _MIN_SPREAD, far above float32's smallest normal number, 1.2e-38)
_MAX_ABS_VALUE = 3e37
_MIN_SPREAD = 1e-30
_INT32_MAX = np.iinfo(np.int32).max


class _NetTrainer(ArrayAPIMixin):
    """The estimator side of a skorch net: the one mapping from flat parameters to the net
    (``_net_settings``, ``_optimizer_params``), training with the divergence warning, the
    per-epoch record, and the device and precision a pickled net continues on.

    Shared by the autoencoders and the supervised estimators built on them. An estimator
    using it has the parameters ``max_epochs``, ``batch_size``, ``lr``, ``lr_schedule``,
    ``optimizer``, ``weight_decay``, ``n_iter_no_change``, ``tol``, ``callbacks``,
    ``verbose`` and ``random_state``; its fit sets ``device_`` and ``precision_``; it
    supplies ``_net_class``, ``_net_params()`` (the net's own keyword arguments, which
    override the shared ones), ``_sizes_text()`` (its layer sizes, for advice),
    ``_restored_module(weights)`` (the network that loading and unpickling rebuild) and,
    if the saved weights are not the whole network's, ``_module_to_save()``. Its fit runs
    inside ``_host_fit``: the array API side (arrays of other namespaces than NumPy's)
    is :class:`~sklearn_ae._array_api.ArrayAPIMixin`'s.
    """

    # AdamW's decoupled decay when weight_decay=None
    _default_adamw_weight_decay = DEFAULT_ADAMW_WEIGHT_DECAY

    # the package's public estimators by class name, filled as they are defined: the only
    # classes a saved file may name
    _members_by_name = {}

    # whether pickles keep the optimizer's state (for a warm start to continue exactly)
    _pickles_optimizer = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("sklearn_ae.") and not cls.__name__.startswith("_"):
            _NetTrainer._members_by_name[cls.__name__] = cls

    def _resolve_weight_decay(self):
        # decoupled decay suits AdamW at this size; for coupled-L2 optimizers (Adam, SGD)
        # the same number would crush the weights, so they get none unless asked
        default = self._default_adamw_weight_decay if self.optimizer == "adamw" else 0.0
        self.weight_decay_ = default if self.weight_decay is None else float(self.weight_decay)

    def _fit_rng(self):
        """The fit's numpy RandomState: ``random_state``'s, or, for None, a fresh one from
        the operating system's entropy (the global numpy RNG is never drawn from)."""
        if self.random_state is None:
            return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
        return check_random_state(self.random_state)

    # ------------------------------------------------------- parameters -> net
    def _verbosity(self):
        return int(self.verbose)

    def _net_settings(self, train_split, seed=0, steps_per_epoch=None):
        """Everything the net takes from the parameters but its module and optimizer: the
        one mapping used by a fresh fit, a warm start and loading. ``seed`` seeds the
        fit's own random streams; ``steps_per_epoch`` (None for one partial_fit epoch)
        sizes the learning-rate schedule."""
        early_stopping = one_cycle = None
        if train_split is not None:
            early_stopping = {"patience": self.n_iter_no_change, "threshold": self.tol}
        if self.lr_schedule == "onecycle" and steps_per_epoch:
            one_cycle = {"max_lr": self.lr, "total_steps": self.max_epochs * steps_per_epoch}
        verbose = self._verbosity()
        return {
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "train_split": train_split,
            "callbacks": training_callbacks(self.callbacks, verbose, early_stopping, one_cycle),
            "verbose": verbose,
            "precision": self.precision_,
            "random_seed": seed,
            **self._net_params(),
        }

    def _optimizer_params(self):
        """The optimizer class and its ``optimizer__*`` arguments."""
        optimizer, params = self.optimizer, {}
        if isinstance(optimizer, str):
            if optimizer in _FUSED_OPTIMIZERS:
                params["optimizer__fused"] = True
            optimizer = OPTIMIZERS[optimizer]
        # passed where set or where the optimizer takes it (a 0 must override a default,
        # AdamW's 0.01), so optimizers without the argument still work
        if self.weight_decay_ or _takes_argument(optimizer, "weight_decay"):
            params["optimizer__weight_decay"] = self.weight_decay_
        return {"optimizer": optimizer, **params}

    def _make_net(self, module, train_split, seed=0, steps_per_epoch=None):
        return self._net_class(
            module,
            criterion=torch.nn.MSELoss,  # unused: get_loss computes the objective
            device=self.device_,
            **self._optimizer_params(),
            **self._net_settings(train_split, seed, steps_per_epoch),
        )

    def _initialize_net(self, module, train_split, seed, steps_per_epoch):
        """A new net for ``module`` as ``net_``, initialised (module on the device, the
        optimizer built)."""
        self.net_ = self._make_net(module, train_split, seed, steps_per_epoch)
        with oom_advice(self._setup_oom_advice(module)):
            self.net_.initialize()

    # float32 copies of the weights a fit holds: the weights, their gradients, AdamW's two
    # moments, early stopping's best and start weights, the guard's weights and moments
    _TRAINING_COPIES = 9

    def _setup_oom_advice(self, module):
        """What to lower when setting up ``module`` (the network, or one on the meta
        device with its shapes) runs out of memory, with what training would need."""
        n_weights = sum(p.numel() for p in module.parameters())
        need = n_weights * 4 * self._TRAINING_COPIES / 2**30
        cpu = "" if self.device_ == "cpu" else ", or fit on device='cpu'"
        return (
            f"{self.device_} ran out of memory while setting up the network "
            f"({self._sizes_text()}: {n_weights:,} weights; training holds about "
            f"{self._TRAINING_COPIES} float32 copies of them, about {need:.2g} GiB); use "
            f"smaller layers or fewer components{cpu}."
        )

    # ------------------------------------------------------------ training
    def _train(self, data, epochs=None):
        """:func:`~sklearn_ae._callbacks.train`, with the advice for an out-of-memory error
        and a warning when training diverged."""
        advice = (
            f"{self.device_} ran out of memory while training with batch_size="
            f"{self.batch_size}; lower batch_size (or the hidden layer sizes), or fit on "
            "device='cpu'."
        )
        with oom_advice(advice):
            stopped = train(self.net_, data, epochs)
        if stopped is not None:
            epoch, kind, value = stopped
            kept = kept_epoch(self.net_)
            warn(
                f"Training diverged: the {kind} loss became {value} in epoch {epoch}. "
                f"Training stopped and kept the finite weights of epoch {kept}"
                f"{' (the untrained model)' if kept == 0 else ''}. Lower lr (now "
                f"{self.lr!r}) or check the data for extreme values.",
                ConvergenceWarning,
            )

    def _record_history(self):
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = np.array([row["train_loss"] for row in history], dtype=float)
        self.best_epoch_ = kept_epoch(self.net_)
        self.validation_loss_curve_ = None
        if "early_stopping" in dict(self.net_.callbacks_):
            self.validation_loss_curve_ = np.array(
                [row.get("valid_loss", np.nan) for row in history], dtype=float
            )

    @property
    def history_(self):
        """skorch's per-epoch training history (train/valid loss, durations)."""
        check_is_fitted(self)
        return self.net_.history

    def _restore_net(self, module_state, history, optimizer=None):
        """``net_`` rebuilt as loading and unpickling rebuild it: on a device available
        here, around ``self._restored_module(module_state)`` (which checks the weights
        against the fitted sizes first), with the ``history``.

        ``optimizer``, if given, is the fitted optimizer's class name and state: loaded
        when the parameters give that kind of optimizer (a warm start then continues it
        exactly), left fresh when ``optimizer`` was changed after the fit. ValueError if
        they do not describe a usable model.
        """
        self.device_ = loadable_device(self.device_)
        self._fit_precision_to_device()
        self.net_ = self._make_net(self._restored_module(module_state), None)
        try:
            self.net_.initialize()
            # skorch moved (and may have copied) the module; the optimizer holds its
            # parameters, so fill them in place
            self._module_to_save().load_state_dict(module_state, strict=True)
            if optimizer is not None and type(self.net_.optimizer_).__name__ == optimizer[0]:
                self.net_.optimizer_.load_state_dict(optimizer[1])
        except Exception as exc:
            raise ValueError(
                f"its fitted attributes do not describe a usable model: {exc!r}"
            ) from exc
        self.net_.module_.eval()
        self.net_.history = History(history)

    def _module_to_save(self):
        """The module whose weights :func:`sklearn_ae.save` and pickling store."""
        return self.net_.module_

    def __getstate__(self):
        # numpy arrays (whatever namespace array_api_dispatch left the fitted ones in)
        # and plain Python values only, the net reduced to its weights,
        # optimizer state and history: pickle, joblib and skops store this alike (skops
        # cannot hold torch objects), without torch's own pickling, and it loads on a
        # machine without the device it was fitted on
        state = {name: to_host(value) for name, value in super().__getstate__().items()}
        if "net_" in state:
            net = state["net_"]
            optimizer = net.optimizer_.state_dict() if self._pickles_optimizer else None
            state["net_"] = {
                "module_state": to_arrays(self._module_to_save().state_dict()),
                "optimizer": type(net.optimizer_).__name__,
                "optimizer_state": None if optimizer is None else to_arrays(optimizer),
                "history": [dict(row) for row in net.history],
            }
        return state

    def __setstate__(self, state):
        net = state.get("net_")
        rebuild = isinstance(net, dict)  # otherwise absent, or a skorch net (0.1.0's pickles)
        # a parameter added since the pickle was written takes its default, a fitted
        # attribute the value its fit used
        state = {**self._param_defaults(), **(self._fitted_defaults if rebuild else {}),
                 **state}
        super().__setstate__({key: value for key, value in state.items()
                              if not (rebuild and key == "net_")})
        if rebuild:
            optimizer = net["optimizer_state"]
            if optimizer is not None:
                optimizer = (net["optimizer"], to_tensors(optimizer))
            self._restore_net(to_tensors(net["module_state"]), net["history"], optimizer)
        elif "device_" in self.__dict__:
            self.device_ = loadable_device(self.device_)
            self._fit_precision_to_device()

    @classmethod
    def _param_defaults(cls):
        parameters = inspect.signature(cls.__init__).parameters.values()
        return {p.name: p.default for p in parameters if p.default is not p.empty}

    def onnx_shape_calculator(self):
        """skl2onnx's hook (consulted before its registry): its own shape inference,
        failing with a message that names :func:`sklearn_ae.register_skl2onnx` when no
        converter is registered."""
        from ._onnx import shape_calculator  # skl2onnx is imported only when it calls

        return shape_calculator

    def _fit_precision_to_device(self):
        """After loading onto another device: a precision it cannot train in falls back."""
        if "precision_" in self.__dict__:
            self.precision_ = loadable_precision(self.precision_, self.device_)
            if "net_" in self.__dict__:
                self.net_.precision = self.precision_


def _pca_only(name, advice):
    """A property for a PCA attribute without an honest counterpart here: reading it raises
    AttributeError (so ``hasattr`` is False, as for any missing attribute) with ``advice``."""

    def refuse(self):
        raise AttributeError(f"{type(self).__name__} has no {name}: {advice}")

    return property(
        refuse,
        doc=f"PCA's ``{name}`` has no counterpart here: reading it raises "
        "``AttributeError`` with what to use instead (see the user guide's table).",
    )


def _takes_argument(fn, name):
    """Whether the callable ``fn`` has a parameter ``name`` (False where its signature
    cannot be read)."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ExportMixin, _NetTrainer, BaseEstimator,
    metaclass=ABCMeta,
):
    """Shared fit / transform / inverse_transform / score of the autoencoder family.

    Abstract: instantiate :class:`~sklearn_ae.AutoencoderTransformer` or another member.
    """

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left"), None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "init": [StrOptions({"pca", "random"})],
        "loss": [StrOptions({"mse", "bce", "ssim"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"onecycle", "constant"})],
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
        "data_parallel": ["boolean"],
        "whiten": ["boolean"],
    }

    # without a penalty, codes at least as wide as the input can copy it; members whose
    # objective regularises the code (denoising, the VAE's prior) allow them
    _overcomplete_needs_penalty = True

    # torch tensors stay on their device through inference (_map_batches)
    _infers_on_tensors = True

    @abstractmethod
    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=None,
        activation="relu",
        init="pca",
        loss="mse",
        max_epochs=60,
        batch_size=256,
        lr=5e-3,
        lr_schedule="onecycle",
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
        precision="auto",
        compile=False,
        data_parallel=False,
        whiten=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.loss = loss
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
        self.data_parallel = data_parallel
        self.whiten = whiten

    # ------------------------------------------------------------------ hooks
    _net_class = AutoencoderNet

    # without a penalty, codes at least as wide as the input can copy it; members whose
    # objective regularises the code (denoising, the VAE's prior) allow them
    _overcomplete_needs_penalty = True

    def _net_params(self):
        """Extra keyword arguments for the skorch net (subclasses add theirs)."""
        params = {"loss": self.loss, "train_compiled": self.compile}
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

    def _sizes_text(self):
        return f"hidden_layer_sizes={self.hidden_layer_sizes_}"

    def _code_unit(self):
        """Codes are in the data's units with the PCA start (``code_unit=scale_``) and in
        scaled units otherwise; dividing by this puts every code in scaled units."""
        return float(self.scale_) if self.init == "pca" else 1.0

    def _network_options(self):
        """Keyword arguments of :func:`~sklearn_ae.nn.build_network` that differ by member."""
        return {}

    def _network(self, generator=None, device="cpu"):
        """The untrained network of the fitted sizes (weights to be trained or loaded),
        initialised from ``generator`` (a fresh one if None); on ``device="meta"``, its
        shapes only."""
        return build_network(
            self.n_features_in_,
            self.n_components_,
            self.hidden_layer_sizes_,
            self.activation,
            image_shape=self.image_shape_ if self.architecture == "conv" else None,
            residual=self.init == "pca",
            generator=generator,
            device=device,
            **self._network_options(),
        )

    def _start_pca(self, Xs):
        """PCA of the scaled start rows ``Xs``: the PCA start's, and what a fractional
        ``n_components`` counts on; None where neither is asked for."""
        if is_fraction(self.n_components):
            return start_pca(Xs, self.n_components)
        if self.init == "pca":
            return start_pca(Xs, min(self.n_components, *Xs.shape))
        return None

    def _build_module(self, pca, seed):
        """The network of the fitted sizes, initialised from ``seed``, with the PCA start
        (``pca``) written into it if asked."""
        module = self._network(torch.Generator().manual_seed(seed))
        if self.init == "pca":
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
            code_unit=self._start_code_unit(pca),
        )

    def _start_code_unit(self, pca):
        """What the PCA start's scores are multiplied by: ``scale_``, so that codes come
        out in the data's units (members whose codes have units of their own change it)."""
        return float(self.scale_)

    # ------------------------------------------------------------ validation
    def _setup(self, X, partial=False):
        """Resolve parameters and the data's scaling: everything a fresh fit starts from
        but the sizes (:meth:`_resolve_sizes`)."""
        n_features = X.shape[1]
        self.device_ = resolve_device(self.device, self._local_rank())
        self._check_n_components(n_features)
        self.image_shape_ = self._check_image_shape(n_features)
        self.hidden_layer_sizes_ = (  # the default needs n_components_: _resolve_sizes
            None if self.hidden_layer_sizes is None
            else check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        )
        self._resolve_training_params()
        self.data_min_, self.data_max_, self.mean_, rms = column_stats(X)
        self._check_value_range(X, (self.data_min_, self.data_max_))
        if 0 < rms < _MIN_SPREAD:
            raise ValueError(
                f"X varies too little: its root mean square around the column means is "
                f"{rms:g}, below {_MIN_SPREAD:g}, and the codes and reconstructions, float32 "
                "in X's units, would underflow. Rescale X (e.g. with StandardScaler)."
            )
        # constant data still trains (to the mean); avoid dividing by zero
        self.scale_ = rms if rms > 0 else 1.0

    @staticmethod
    def _check_value_range(X, value_range_=None):
        """Refuse data beyond ``_MAX_ABS_VALUE`` (checked for every fit, warm starts and
        partial_fit chunks included), before anything trains on them."""
        lo, hi = value_range(X) if value_range_ is None else value_range_
        if max(-lo, hi) > _MAX_ABS_VALUE:
            raise ValueError(
                f"X holds values up to {max(-lo, hi):g} in absolute value, beyond "
                f"{_MAX_ABS_VALUE:g}: the networks compute in float32 (largest value "
                f"{np.finfo(np.float32).max:g}) and need headroom. Rescale X."
            )

    def _resolve_training_params(self):
        """What training reads from the parameters, resolved at every fit: a warm start
        trains with the parameters as they are now."""
        self.precision_ = resolve_precision(self.precision, self.device_)
        self._resolve_weight_decay()

    def _resolve_auto_precision(self, module, n_train):
        """``precision="auto"``: decided by timing ``module``, the network about to be
        trained, in both precisions on batches of the fit's size (see
        :func:`~sklearn_ae._device.auto_precision`); said in the verbose output."""
        if self.precision != "auto":
            return
        batch_shape = (min(self.batch_size, n_train), self.n_features_in_)
        choice = auto_precision(self.device_, module, batch_shape)
        if self.data_parallel:  # every process trains in the precision rank 0 measured
            choice = _parallel.from_rank_zero(choice, self.device_)
        self.precision_ = choice.choice
        if self._verbosity():
            print(choice.describe(), flush=True)

    def _resolve_scaled_params(self):
        """What training reads from the parameters and the fitted scaling (``scale_``),
        resolved at every fit after it (members add theirs)."""

    def _resolve_sizes(self, n_values, pca):
        """``n_components_`` (a fraction counted on ``pca``) and ``hidden_layer_sizes_``,
        whose default has no more weights than the data have values (``n_values``; None
        for a first partial_fit chunk, which is not the data: no shrinking to it)."""
        self.n_components_ = (
            int(pca.n_components_) if is_fraction(self.n_components) else int(self.n_components)
        )
        if self.hidden_layer_sizes_ is None:
            self.hidden_layer_sizes_ = self._default_hidden_layer_sizes(n_values)

    def _steps_per_epoch(self, n_train):
        """Training batches an epoch of ``n_train`` rows has (the one-cycle schedule's
        length is ``max_epochs`` of them; members whose epochs differ change it)."""
        return -(-n_train // self.batch_size)

    def _default_hidden_layer_sizes(self, n_values):
        """``hidden_layer_sizes_`` for ``hidden_layer_sizes=None`` (members change it)."""
        conv_shape = self.image_shape_ if self.architecture == "conv" else None
        return default_hidden_layer_sizes(self.n_features_in_, self.n_components_, conv_shape,
                                          n_values)

    def _check_image_shape(self, n_features):
        """``image_shape`` in torch order ``(C, H, W)``, checked against the data; or None."""
        if self.image_shape is None:
            for name, value in (("architecture", self.architecture), ("loss", self.loss)):
                if value in ("conv", "ssim"):
                    raise ValueError(
                        f"{name}={value!r} needs image_shape=(height, width) or "
                        f"(height, width, channels); got image_shape=None."
                    )
            return None
        return resolve_image_shape(self.image_shape, n_features)

    def _check_bce_range(self, X):
        if self.loss == "bce":
            lo, hi = value_range(X)
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
            and not is_fraction(self.n_components)
            and self.n_components > n_features
        ):
            raise ValueError(
                f"n_components={self.n_components} is larger than n_features={n_features}: "
                "without a penalty on the codes an over-complete autoencoder can copy its "
                f"input. Use n_components <= {n_features}, a sparsity penalty "
                "(sparsity='l1' or 'kl'), or DenoisingAutoencoder / ContractiveAutoencoder / "
                "VAETransformer."
            )

    def _validate_post_fit_data(self, X):
        check_is_fitted(self)
        if is_dask_collection(X):
            # the blocks are checked as they are computed (_map_batches)
            X = check_dask_array(X, known_rows=False)
            validate_data(self, X, reset=False, skip_check_array=True)
            return X
        if dispatched_tensor(X):  # kept on its device (see _map_batches)
            X = check_tensor(X)
            validate_data(self, X, reset=False, skip_check_array=True)
        else:
            X = validate_data(self, X, reset=False, dtype=INPUT_DTYPES, accept_sparse="csr")
        self._check_bce_range(X)
        return X

    def _validate_training_data(self, X, reset, min_samples):
        """``X`` checked for a fit: an array, or, for a Dask array, its
        :class:`~sklearn_ae._data.BlockRows` (checked block by block as they are read)."""
        if not is_dask_collection(X):
            return validate_data(
                self, X, reset=reset, dtype=INPUT_DTYPES, accept_sparse="csr",
                ensure_min_samples=min_samples,
            )
        X = block_rows(check_dask_array(X))
        validate_data(self, X, reset=reset, skip_check_array=True)
        if X.shape[0] < min_samples:
            raise ValueError(
                f"Found a Dask array with {X.shape[0]} sample(s) while a minimum of "
                f"{min_samples} is required."
            )
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
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            Training data, in any units: the estimator centres it and scales it by one
            global factor, and undoes that in :meth:`inverse_transform`. A
            :class:`numpy.memmap` is read batch by batch instead of being copied into
            memory (only the validation rows are loaded). A Dask array (known chunk
            sizes) is computed one block of rows at a time, never whole: the blocks in a
            random order, the rows within each block shuffled, for every epoch (and for
            the column statistics, twice, the PCA start's sample, the validation rows and
            the closing explained-variance pass, once each).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, partial=False)

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
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            One chunk of training data (at least 2 rows on the first call); a Dask array
            is streamed block by block, as in :meth:`fit`.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator, updated.
        """
        return self._fit(X, partial=True)

    def _fit(self, X, partial, labels=None):
        """The one training path: a fresh fit, a warm start, or one partial_fit epoch.
        ``labels``: per-row labels for a member whose training data reads them (see
        :meth:`_training_data`), else None.

        Atomic: if anything fails (bad data, the net's set-up, training, an interrupt
        before training began), the estimator is put back exactly as it was before the
        call, a warm-started network included.
        """
        continuing = hasattr(self, "net_") and (partial or self.warm_start)
        with atomic(self, continuing), self._host_fit(X, labels) as (X, labels):
            self._fit_steps(X, partial, continuing, labels)
        return self

    def _fit_steps(self, X, partial, continuing, labels):
        X = self._validate_training_data(X, not continuing, 1 if continuing and partial else 2)
        if self.data_parallel:
            self._join_ranks(X, continuing)
        self._check_bce_range(X)
        if continuing:
            self._check_value_range(X)
            self._resolve_training_params()
        else:
            self._setup(X, partial)
        self._resolve_scaled_params()
        rng = self._fit_rng()
        init_seed, train_seed = (int(s) for s in rng.randint(_INT32_MAX, size=2))
        if partial:
            # a fresh shuffle for every chunk, still reproducible from random_state
            train_seed = (train_seed + 7919 * getattr(self, "n_iter_", 0)) % _INT32_MAX
        valid_idx = None
        if self.early_stopping and not partial:
            valid_idx = validation_indices(X.shape[0], self.validation_fraction, rng)
        data, split = self._training_data(X, valid_idx, not partial, labels)
        # partial_fit: one epoch at a constant rate (a schedule needs the training's length)
        n_train = X.shape[0] - (0 if valid_idx is None else len(valid_idx))
        steps = None if partial else self._steps_per_epoch(n_train)
        if continuing:
            self._resolve_auto_precision(self.net_.module_, n_train)
            self._configure_net(split, train_seed, steps)
        else:
            pca = self._start_pca(data.start_rows(init_seed))
            self._resolve_sizes(None if partial else X.shape[0] * X.shape[1], pca)
            with oom_advice(self._setup_oom_advice(self._network(device="meta"))):
                module = self._build_module(pca, init_seed)
            self._resolve_auto_precision(module, n_train)
            self._initialize_net(module, split, train_seed, steps)
        self._train(data, epochs=1 if partial else None)
        # partial_fit counts every row seen, as IncrementalPCA's n_samples_seen_ does
        seen = getattr(self, "n_samples_", 0) if partial and continuing else 0
        self.n_samples_ = seen + X.shape[0]
        self._record_history()
        self._record_explained_variance(data, split)

    def _join_ranks(self, X, continuing):
        """Data-parallel training: join the process group and check, before anything that
        could fail on some ranks only, that every rank was given data of ``X``'s shape."""
        device = self.device_ if continuing else resolve_device(self.device, self._local_rank())
        _parallel.join(device)
        _parallel.check_same_shape(X.shape, device)

    def _fit_rng(self):
        # in data-parallel training, rank 0's on every rank
        rng = super()._fit_rng()
        return _parallel.same_rng(rng, self.device_) if self.data_parallel else rng

    def _local_rank(self):
        """This process's GPU index in data-parallel training (None otherwise)."""
        return _parallel.local_rank() if self.data_parallel else None

    def _training_data(self, X, valid_idx, stream, labels=None):
        """The net's dataset and split (see :func:`~sklearn_ae._data.training_data`);
        ``labels`` are for members that read them (the neighbour member's graph)."""
        advice = (
            f"The training data ({X.shape[0]} x {X.shape[1]} float32, "
            f"{X.shape[0] * X.shape[1] * 4 / 2**30:.2f} GiB) do not fit on {self.device_}: "
            "pass X as a numpy.memmap to stream it batch by batch (batch_size="
            f"{self.batch_size}), or fit on device='cpu'."
        )
        with oom_advice(advice):
            return training_data(
                X, Scaler(self.mean_, self.scale_), self.device_, self.loss == "bce",
                valid_idx, stream,
            )

    # ------------------------------------------------------- parameters -> net
    def _verbosity(self):
        # in data-parallel training, only rank 0 prints
        return 0 if self.data_parallel and _parallel.rank() != 0 else int(self.verbose)

    def _net_settings(self, train_split, seed=0, steps_per_epoch=None):
        settings = super()._net_settings(train_split, seed, steps_per_epoch)
        return {**settings, "data_parallel": self.data_parallel}

    def _configure_net(self, train_split, seed, steps_per_epoch):
        """Point a fitted net at the parameters as they are now, for a warm start; the
        network, its optimizer (kind, fused or not) and the scaling stay as fitted."""
        self.net_.set_params(**self._net_settings(train_split, seed, steps_per_epoch))
        self.net_.initialize_callbacks()
        decays = self._parameter_decays()
        for group in self.net_.optimizer_.param_groups:
            group["lr"] = self.lr
            if "weight_decay" in group:
                group["weight_decay"] = decays.get(id(group["params"][0]), self.weight_decay_)

    def _parameter_decays(self):
        """Each learnable parameter's weight decay now, by ``id``: the options of the first
        of the member's ``optimizer__param_groups`` patterns its name matches (as skorch
        assigns them), else ``weight_decay_``."""
        patterns = self._optimizer_params().get("optimizer__param_groups", [])
        decays = {}
        for name, param in self.net_.get_all_learnable_params():
            options = next((opts for pattern, opts in patterns if fnmatch(name, pattern)), {})
            decays[id(param)] = options.get("weight_decay", self.weight_decay_)
        return decays

    def _record_explained_variance(self, data, split):
        """Fraction of variance reconstructed on the training and the validation rows,
        comparable with PCA's ``explained_variance_ratio_.sum()``, and the codes' mean and
        standard deviation on the training rows (what ``whiten`` divides by)."""
        train, valid = (data, None) if split is None else split(data)
        self.train_explained_variance_ratio_, code_sums = self._explained_variance(train)
        self.code_mean_, self.code_std_ = mean_std_from_sums(*code_sums, len(train))
        self.validation_explained_variance_ratio_ = (
            None if valid is None else self._explained_variance(valid)[0]
        )

    def _explained_variance(self, dataset):
        """``1 - residual SS / total SS around mean_`` of the training tensors, one inference
        pass on the device in the net's own target space; and the sums of the codes and of
        their squares (float64, per unit).

        It runs at the end of every fit, so it reuses the tensors training sliced its batches
        from (no rescaling, no float64 copy of the data). With ``loss="mse"`` the targets are
        the scaled rows: ``mean_`` is 0 there and the global ``scale_`` cancels in the ratio;
        with ``loss="bce"`` they are the rows themselves and the output is mapped through the
        sigmoid, as :meth:`inverse_transform` does.
        """
        module = self.net_.module_
        module.eval()
        bce = self.loss == "bce"
        centre = torch.as_tensor(self.mean_, dtype=torch.float32, device=self.device_)
        residual = total = code_sum = code_squares = 0.0
        with oom_advice(self._inference_oom_advice()), torch.inference_mode():
            step = dense_batch_rows(dataset, int(self.inference_batch_size))
            for x, target in TensorBatches(dataset, step, False):
                out, codes = module(x)[:2]  # the VAE's second output is the posterior mean
                recon = torch.sigmoid(out.float()) if bce else out.float()
                deviation = target - centre if bce else target
                residual += float(torch.sum(torch.square(target - recon), dtype=torch.float64))
                total += float(torch.sum(torch.square(deviation), dtype=torch.float64))
                codes = codes.double()
                code_sum = code_sum + codes.sum(dim=0)
                code_squares = code_squares + torch.square(codes).sum(dim=0)
        sums = [np.asarray(torch.as_tensor(t).cpu()) for t in (code_sum, code_squares)]
        return _ratio(residual, total), sums

    # ------------------------------------------------------------ inference
    def _map_batches(self, A, fn, row_shape, dtype=np.float32, scale=True):
        """``fn(module, x, rows)`` over batches of ``inference_batch_size`` rows of ``A``.

        ``x`` is the batch as a tensor on the device (scaled unless ``scale=False``),
        ``rows`` the batch as given (densified if sparse); ``fn`` returns a tensor (or a
        numpy array) of shape ``(len(rows), *row_shape)``, written into one preallocated
        output, so peak memory stays near input + output + one batch's intermediates.
        Read-only on the model: concurrent calls from several threads are safe.

        The output is a numpy array, or, for a torch tensor ``A`` (given under
        ``array_api_dispatch``), a tensor on ``A``'s device that never visits the host
        when ``A`` lives on the model's device. A Dask array ``A`` gives a lazy Dask
        array: each block of rows is checked, then mapped as above when it is computed,
        so memory is bounded by a few blocks.
        """
        if is_dask_collection(A):
            def map_block(block):
                block = check_array(block, dtype=INPUT_DTYPES, input_name="X")
                if scale:
                    self._check_bce_range(block)
                return self._map_batches(block, fn, row_shape, dtype, scale)

            return map_row_blocks(A, map_block, row_shape, dtype)
        module = self.net_.module_
        module.eval()
        n, step = A.shape[0], dense_batch_rows(A, int(self.inference_batch_size))
        out = output_like(A, (n, *row_shape), dtype)
        with oom_advice(self._inference_oom_advice()), torch.inference_mode():
            for start in range(0, n, step):
                rows = A[start:start + step]
                rows = rows if isinstance(rows, torch.Tensor) else dense(rows)
                result = as_output_of(out, fn(module, self._batch_input(rows, scale), rows))
                self._check_finite_output(result, rows, start)
                out[start:start + len(rows)] = result
        return out

    def _batch_input(self, rows, scale):
        """The network's float32 input for the batch ``rows``, on the device: scaled as in
        fit (in float64 first), or only cast (codes, ``scale=False``)."""
        if isinstance(rows, torch.Tensor):
            x = rows.to(self.device_, torch.float64 if scale else torch.float32)
            if scale:
                x = (x - torch.as_tensor(self.mean_, device=self.device_)) / self.scale_
            return x.float()
        if scale:
            x = Scaler(self.mean_, self.scale_)(rows)
        else:
            with np.errstate(over="ignore"):  # inf surfaces as non-finite below
                x = rows.astype(np.float32, copy=False)
        if not x.flags.writeable:
            x = x.copy()  # torch wants writable memory (one batch)
        return torch.as_tensor(x, device=self.device_)

    def _check_finite_output(self, result, rows, start):
        finite = torch.isfinite(result).all() if isinstance(result, torch.Tensor) else (
            np.all(np.isfinite(result)))
        if not finite:
            largest = float(abs(rows).max())
            raise ValueError(
                f"The model gave non-finite values (inf or NaN) for rows {start} to "
                f"{start + len(rows) - 1}: their values (up to {largest:g} in absolute "
                "value) are far outside the range seen in fit (["
                f"{self.data_min_:g}, {self.data_max_:g}]) and overflow float32."
            )

    def _inference_oom_advice(self):
        return (
            f"{self.device_} ran out of memory at inference with inference_batch_size="
            f"{self.inference_batch_size} (training uses batch_size={self.batch_size}); "
            "lower inference_batch_size."
        )

    def _decode_output(self, out):
        """Map the decoder's raw output (a float32 tensor) to the original units."""
        if self.loss == "bce":
            return torch.sigmoid(out)
        mean = torch.as_tensor(self.mean_, dtype=torch.float32, device=out.device)
        return out * np.float32(self.scale_) + mean

    def transform(self, X):
        """Encode ``X`` into codes.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            Data in the units seen in :meth:`fit`. Processed in batches of
            ``inference_batch_size`` rows. A Dask array gives a lazy Dask array, computed
            block by block (several chunks along the features are merged first).

        Returns
        -------
        X_new : ndarray or dask.array.Array of shape (n_samples, n_components), \
dtype float32
            The codes; deterministic.
        """
        X = self._validate_post_fit_data(X)
        if is_dask_collection(X) and output_container("transform", self) != "default":
            raise ValueError(
                "transform of a Dask array returns a lazy Dask array, which "
                "set_output(transform=...) cannot wrap without computing it; use "
                "set_output(transform='default') (or dask.dataframe.from_dask_array)."
            )
        shift, scale = self._code_map()
        return self._map_batches(
            X,
            lambda m, x, rows: (m.encode(x).float() - shift) / scale,
            (self.n_components_,),
        )

    def inverse_transform(self, X):
        """Decode codes back to the original feature space and units.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`. A Dask array gives a lazy Dask array.

        Returns
        -------
        X_original : ndarray or dask.array.Array of shape (n_samples, n_features_in_), \
dtype float32
            Reconstructions in the units of the training data.
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            Z = check_dask_array(X, known_rows=False)
        elif dispatched_tensor(X):
            Z = check_tensor(X)
        else:
            Z = check_array(X, dtype=INPUT_DTYPES, input_name="X")
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects codes with "
                f"n_components_={self.n_components_} features."
            )
        shift, scale = self._code_map()
        return self._map_batches(
            Z,
            lambda m, z, rows: self._decode_output(m.decode(z * scale + shift).float()),
            (self.n_features_in_,),
            scale=False,
        )

    def _code_map(self):
        """``(shift, scale)``, float32 tensors on the device: :meth:`transform` gives the
        network's codes minus ``shift`` divided by ``scale`` (``whiten``; 0 and 1 without
        it)."""
        k = self.n_components_
        shift, scale = (self.code_mean_, self.code_std_) if self.whiten else (0.0, 1.0)
        return tuple(
            torch.as_tensor(v, dtype=torch.float32, device=self.device_).expand(k).clone()
            for v in (shift, scale)
        )

    def _reconstruct(self, X):
        return self._map_batches(
            X,
            lambda m, x, rows: self._decode_output(m(x)[0].float()),
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
            recon = self._decode_output(module(x)[0].float()).double()
            target = torch.as_tensor(rows, dtype=torch.float64, device=recon.device)
            return -torch.mean(torch.square(target - recon), dim=1)

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
        return float(self.score_samples(X).mean())

    # ------------------------------------------------------------ persistence
    # the fitted attributes a saved model holds, with their checks (members add theirs)
    _fitted_attributes = FITTED_ATTRIBUTES
    # fitted attributes added since a model could be saved, with the value its fit used:
    # files and pickles written before them still load
    _fitted_defaults = {}

    @classmethod
    def _from_saved(cls, params, attributes, module_state, history):
        """The fitted estimator that parameters, fitted attributes, the network's weights
        and the per-epoch history describe (what :func:`sklearn_ae.save` stores).

        Everything is checked before the network is built (see :mod:`sklearn_ae._restore`);
        ValueError if they do not describe a usable model.
        """
        est = restored_estimator(cls, params, attributes, history)
        vars(est).setdefault("n_components_", est.n_components)  # files of 0.1.0
        if est.image_shape_ is None and (est.architecture == "conv" or est.loss == "ssim"):
            raise ValueError(
                f"image_shape_ is None, which architecture={est.architecture!r} and "
                f"loss={est.loss!r} cannot do without."
            )
        est._restore_net(module_state, history)
        return est

    def _restored_module(self, module_state):
        """The network of the fitted sizes holding ``module_state``, built only once the
        stored weights have the shapes those sizes give (so memory follows the file)."""
        # each hidden layer has weights: this bounds the layers the meta build creates
        if len(self.hidden_layer_sizes_) >= len(module_state):
            raise ValueError(
                f"it declares {len(self.hidden_layer_sizes_)} hidden layers but holds "
                f"{len(module_state)} weight tensors."
            )
        try:
            expected = self._network(device="meta").state_dict()  # nothing allocated
        except Exception as exc:
            raise ValueError(f"the architecture it describes cannot be built: {exc}") from exc
        check_module_state(expected, module_state)
        module = self._network()
        module.load_state_dict(module_state, strict=True)
        return module

    # --------------------------------------------------------------- sklearn
    @property
    def _n_features_out(self):
        return self.n_components_

    # PCA's per-component attributes have no honest counterpart in a non-linear model:
    # client code that reads them gets an AttributeError naming what to use instead
    components_ = _pca_only(
        "components_",
        "its decoder is non-linear, so no fixed directions span the reconstructions. The "
        "decoder's image of code unit j is inverse_transform(np.eye(n_components_))[j] "
        "- inverse_transform(np.zeros((1, n_components_)))[0], and to_torch('decoder') "
        "gives the whole decoder.",
    )
    explained_variance_ratio_ = _pca_only(
        "explained_variance_ratio_",
        "a non-linear code does not split the variance it explains into per-unit shares. "
        "train_explained_variance_ratio_ (and validation_explained_variance_ratio_) is the "
        "counterpart of PCA's explained_variance_ratio_.sum().",
    )
    explained_variance_ = _pca_only(
        "explained_variance_",
        "a non-linear code does not split the variance it explains into per-unit shares. "
        "train_explained_variance_ratio_ is the fraction of the training data's variance "
        "the whole code explains.",
    )
    singular_values_ = _pca_only(
        "singular_values_",
        "there is no linear map to take singular values of. "
        "train_explained_variance_ratio_ measures the whole code's fit.",
    )

    def __sklearn_is_fitted__(self):
        # the network is the last thing fit sets: attributes set before a check that
        # failed later in fit must not make the estimator look fitted
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True  # CSR / CSC, densified one batch at a time
        return tags


def check_layer_sizes(sizes, name):
    """Layer widths (an int or a sequence of ints) as a tuple; ValueError naming ``name``
    unless they are all positive integers."""
    values = list([sizes] if is_int(sizes) else sizes)
    if not all(is_int(s) and s > 0 for s in values):
        raise ValueError(f"{name} must be positive integers; got {sizes!r}.")
    return tuple(int(s) for s in values)


def _ratio(residual, total):
    """``1 - residual / total``; constant data explain all when exactly rebuilt."""
    if total == 0.0:
        return 1.0 if residual == 0.0 else float("-inf")
    return 1.0 - residual / total
