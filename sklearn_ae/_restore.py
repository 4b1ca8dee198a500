"""Putting an estimator's state back: from a saved file or a pickled state (checked before
anything is built from it), or as it was before a fit that failed (:class:`Snapshot`).

:func:`sklearn_ae.load` decodes a file into parameters, fitted attributes, weights and a
history; the estimator's ``_from_saved`` checks them here: the fitted attributes against a
table of the known ones (:data:`FITTED_ATTRIBUTES`: type, range, shape, finiteness), the
history against ``n_iter_``, and the weights against the shapes the declared sizes give.
The checksum of a file proves nothing (anyone can recompute it), so these checks are what
keeps a crafted file from making ``load`` allocate what its sizes ask for.
"""

import math
from contextlib import contextmanager
from numbers import Real

import numpy as np
import torch

from ._device import cpu_copy, is_concrete_device


# ------------------------------------------------------------------ value checks
# Each check takes the decoded value and the attributes checked before it, and returns
# the value to set; a ValueError's message completes "it must be ...".
def integer(low=0, high=None):
    """An int (not a bool) in ``[low, high]``; ``high`` names an earlier attribute."""

    def check(value, fitted):
        top = None if high is None else fitted[high]
        if type(value) is not int or value < low or top is not None and value > top:
            raise ValueError(
                f"an integer >= {low}" + ("" if high is None else f" and <= {high}={top}")
            )
        return value

    return check


def real(low=None, *, above=False, finite=True):
    """A real number (not a bool), as float: ``> low`` if ``above`` else ``>= low``;
    ``low`` is a number or names an earlier attribute."""

    def check(value, fitted):
        bound = fitted[low] if isinstance(low, str) else low
        ok = isinstance(value, Real) and not isinstance(value, bool)
        ok = ok and (not finite or math.isfinite(value))
        if ok and bound is not None:
            ok = value > bound if above else value >= bound
        if not ok:
            where = "" if low is None else f" {'>' if above else '>='} {low}"
            raise ValueError(f"a {'finite ' if finite else ''}real number{where}")
        return float(value)

    return check


def optional(check):
    """None, or what ``check`` accepts."""
    return lambda value, fitted: None if value is None else check(value, fitted)


def _precision(value, fitted):
    if value not in ("float32", "bfloat16", "float16"):
        raise ValueError("'float32', 'bfloat16' or 'float16'")
    return value


def _device(value, fitted):
    if not is_concrete_device(value):
        raise ValueError("a device: 'cpu', 'cuda' or 'cuda:N'")
    return value


def _sizes(value, fitted):
    if not isinstance(value, tuple) or not all(type(s) is int and s > 0 for s in value):
        raise ValueError("a tuple of positive integers")
    return value


def _image_shape(value, fitted):
    if value is not None and (len(_sizes(value, fitted)) != 3
                              or math.prod(value) != fitted["n_features_in_"]):
        raise ValueError("None or (channels, height, width) holding n_features_in_ values")
    return value


def float_array(length, finite):
    """A 1-d float array of ``fitted[length]`` values."""

    def check(value, fitted):
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"
                and value.shape == (fitted[length],)
                and (not finite or np.isfinite(value).all())):
            raise ValueError(
                f"a {'finite ' if finite else ''}float array of shape ({length},) = "
                f"({fitted[length]},)"
            )
        return value

    return check


def _names(value, fitted):
    if not (isinstance(value, np.ndarray) and value.dtype == object
            and value.shape == (fitted["n_features_in_"],)
            and all(isinstance(name, str) for name in value)):
        raise ValueError("an object array of n_features_in_ strings")
    return value


# Every fitted attribute a fit sets (members add theirs), in an order where each check
# reads only attributes checked before it.
FITTED_ATTRIBUTES = {
    "n_features_in_": integer(1),
    "n_components_": integer(1),
    "n_samples_": integer(1),
    "code_mean_": float_array("n_components_", finite=True),
    "code_std_": float_array("n_components_", finite=True),
    "feature_names_in_": _names,
    "device_": _device,
    "precision_": _precision,
    "image_shape_": _image_shape,
    "hidden_layer_sizes_": _sizes,
    "weight_decay_": real(0),
    "data_min_": real(),
    "data_max_": real("data_min_"),
    "mean_": float_array("n_features_in_", finite=True),
    "scale_": real(0, above=True),
    "n_iter_": integer(0),
    "loss_curve_": float_array("n_iter_", finite=False),
    "best_epoch_": integer(0, high="n_iter_"),
    "validation_loss_curve_": optional(float_array("n_iter_", finite=False)),
    "train_explained_variance_ratio_": real(finite=False),
    "validation_explained_variance_ratio_": optional(real(finite=False)),
}

# set only by some fits (feature names: only for data that have them), or absent from files
# written by 0.1.0 (n_components_ is then the parameter's; n_samples_ stays unknown) or
# before whitening (code_mean_, code_std_: those models cannot whiten)
OPTIONAL_ATTRIBUTES = frozenset(
    {"feature_names_in_", "n_components_", "n_samples_", "code_mean_", "code_std_"})


def check_fitted_attributes(attributes, checks):
    """The fitted attributes, each checked by its entry in ``checks``.

    Parameters
    ----------
    attributes : dict
        Decoded fitted attributes by name.
    checks : dict
        The known attributes and their checks (:data:`FITTED_ATTRIBUTES` and a member's).

    Returns
    -------
    fitted : dict
        The attributes to set, as their checks returned them.

    Raises
    ------
    ValueError
        For an unknown attribute, a missing one (other than
        :data:`OPTIONAL_ATTRIBUTES`), or a value its check refuses.
    """
    unknown = sorted(set(attributes) - set(checks))
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a fitted attribute that can be restored.")
    missing = [n for n in checks if n not in attributes and n not in OPTIONAL_ATTRIBUTES]
    if missing:
        raise ValueError(f"the fitted attribute {missing[0]!r} is missing.")
    fitted = {}
    for name, check in checks.items():
        if name in attributes:
            try:
                fitted[name] = check(attributes[name], fitted)
            except ValueError as exc:
                raise ValueError(
                    f"the fitted attribute {name}={_short(attributes[name])} is invalid: "
                    f"it must be {exc}."
                ) from None
    return fitted


def estimator_from_params(cls, params):
    """``cls(**params)``, its parameters validated as fit validates them; ValueError
    if they are invalid."""
    try:
        est = cls(**params)
        # the declarative checks fit would run: the net is built from these parameters
        est._validate_params()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"its parameters are invalid: {exc}") from exc
    return est


def restored_estimator(cls, params, attributes, history):
    """``cls(**params)`` with its parameters validated as fit validates them, its fitted
    attributes set (each checked by ``cls._fitted_attributes``) and ``history`` checked
    against ``n_iter_``; ValueError for anything invalid. No network is built yet."""
    est = estimator_from_params(cls, params)
    attributes = {**cls._fitted_defaults, **attributes}
    vars(est).update(check_fitted_attributes(attributes, cls._fitted_attributes))
    check_history(history, est.n_iter_)
    return est


def check_history(history, n_iter):
    """ValueError unless ``history`` has ``n_iter`` rows, each with a numeric
    ``train_loss`` (what training and ``loss_curve_`` read from it)."""
    if len(history) != n_iter:
        raise ValueError(f"the history has {len(history)} epochs, not n_iter_={n_iter}.")
    for row in history:
        loss = row.get("train_loss")
        if not isinstance(loss, Real) or isinstance(loss, bool):
            raise ValueError(f"a history row has train_loss={_short(loss)}, not a number.")


def check_module_state(expected, module_state):
    """ValueError unless ``module_state`` holds exactly the tensors of ``expected`` (a
    state dict, e.g. of a network built on the meta device) with the same shapes and
    dtypes, all finite."""
    missing = sorted(set(expected) - set(module_state))
    unexpected = sorted(set(module_state) - set(expected))
    mismatched = [
        f"{name}: {tuple(module_state[name].shape)} {module_state[name].dtype} stored, "
        f"{tuple(tensor.shape)} {tensor.dtype} expected"
        for name, tensor in expected.items()
        if name in module_state and (module_state[name].shape != tensor.shape
                                     or module_state[name].dtype != tensor.dtype)
    ]
    if missing or unexpected or mismatched:
        raise ValueError(
            "its module state (the weights) does not match the architecture it describes:"
            f" missing {missing[:3]}, unexpected {unexpected[:3]}, mismatched "
            f"{mismatched[:3]} ({len(missing) + len(unexpected) + len(mismatched)} in all)."
        )
    for name, tensor in module_state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(f"its weights {name!r} hold non-finite values (inf or NaN).")


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Snapshot:
    """What a fit may change, to put back if it fails: the estimator's attributes and, for
    a warm start, the net's settings, weights, optimizer state and history (the weights
    as CPU copies, as the divergence guard keeps them)."""

    def __init__(self, est, continuing):
        self.attributes = dict(vars(est))
        self.net = None
        if continuing:
            net = est.net_
            self.net = (
                dict(vars(net)),
                cpu_copy(net.module_.state_dict()),
                cpu_copy(net.optimizer_.state_dict()),
                len(net.history),
            )

    def restore(self, est):
        vars(est).clear()
        vars(est).update(self.attributes)
        if self.net is not None:
            settings, module_state, optimizer_state, n_epochs = self.net
            net = est.net_
            vars(net).clear()
            vars(net).update(settings)
            net.module_.load_state_dict(module_state)
            net.optimizer_.load_state_dict(optimizer_state)
            del net.history[n_epochs:]


@contextmanager
def atomic(estimator, continuing=False):
    """Put ``estimator`` back exactly as it was (see :class:`Snapshot`) if the block raises
    anything, an interrupt included, and re-raise."""
    before = Snapshot(estimator, continuing)
    try:
        yield
    except BaseException:
        before.restore(estimator)
        raise
