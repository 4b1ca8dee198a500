"""Arrays of namespaces other than NumPy's (torch tensors, array_api_strict, CuPy...) under
scikit-learn's ``array_api_dispatch``: the one place the family handles them.

Every member inherits :class:`ArrayAPIMixin` (through ``_NetTrainer``), which guarantees,
as scikit-learn's own estimators do:

- after a fit under ``array_api_dispatch`` on ``X`` of another namespace, the fitted arrays
  are in ``X``'s namespace and on its device (the fit itself computes with NumPy on the
  host); a nested fitted estimator (``autoencoder_``) follows, labels (``classes_``) stay
  NumPy;
- under the flag, the inference methods (:data:`_INFERENCE_METHODS`, a member's own and
  those of scikit-learn's mixins, such as a classifier's ``score``) answer in ``X``'s
  namespace and on its device: a torch tensor stays where it lies for an estimator that
  infers on tensors, other arrays go through NumPy on the host; an estimator whose fitted
  arrays are of another namespace refuses ``X`` of a different one;
- without the flag, NumPy: any array-like in (tensors included) gives NumPy answers, and a
  fit leaves NumPy fitted arrays.

Pickles and saved files hold NumPy whatever namespace the fitted arrays are in (they go
through :func:`to_host`), so a loaded estimator serves every namespace.
"""

import functools
import inspect
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import torch
from sklearn import config_context, get_config

from ._compat import check_same_namespace, convert_to_numpy, get_namespace_and_device

# The methods that answer about rows X in X's namespace under scikit-learn's
# array_api_dispatch (see _in_namespace_of_X), wherever a member defines them
_INFERENCE_METHODS = (
    "transform", "inverse_transform", "reconstruct", "score_samples", "score",
    "predict", "predict_proba", "predict_log_proba", "decision_function",
)

# set while an inference method answers the caller: the methods it calls in turn (score
# calling score_samples, a member's method computing on the host) answer it, not the caller
_ANSWERING = ContextVar("sklearn_ae_answering", default=False)


# ------------------------------------------------------------ namespaces
def _other_namespace_array(a):
    """Whether ``a`` is an array of an array API namespace other than NumPy's (a torch
    tensor, an array_api_strict or CuPy array...)."""
    return isinstance(a, torch.Tensor) or (
        hasattr(a, "__array_namespace__") and not isinstance(a, (np.ndarray, np.generic)))


def array_namespace(X):
    """``(xp, device)``, the namespace and device of ``X`` when scikit-learn's
    ``array_api_dispatch`` is on and ``X`` is an array of another namespace than NumPy's:
    where answers about ``X`` go. None otherwise (NumPy, sparse, pandas, lists, or no
    flag)."""
    if not (get_config()["array_api_dispatch"] and _other_namespace_array(X)):
        return None
    xp, _, device = get_namespace_and_device(X)
    return xp, device


def is_numeric_array(a):
    """Whether ``a`` is an array of numbers: a NumPy one (not of strings or objects), or
    one of another namespace."""
    if isinstance(a, np.ndarray):
        return a.dtype.kind in "biufc"
    return _other_namespace_array(a)


def to_host(a):
    """``a`` as a NumPy array if it is an array of another namespace (a tensor on any
    device...); anything else as it is."""
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    if _other_namespace_array(a):
        return convert_to_numpy(a, a.__array_namespace__())
    return a


def to_namespace(a, xp, device):
    """A numeric NumPy array ``a`` as an array of namespace ``xp`` on ``device``; anything
    else (an array of that namespace already, a float, labels that are strings) as it
    is."""
    if isinstance(a, np.ndarray) and is_numeric_array(a):
        return xp.asarray(a, device=device)
    return a


# ------------------------------------------------ tensors kept on their device
def dispatched_tensor(X):
    """Whether ``X`` is a torch tensor to keep as one (scikit-learn's ``array_api_dispatch``
    is on); without the flag a tensor is an array-like like any other, made numpy."""
    return isinstance(X, torch.Tensor) and get_config()["array_api_dispatch"]


def check_tensor(X, input_name="X"):
    """What ``check_array`` checks of ``X`` (2-d, real numbers, finite), for a torch tensor
    kept on its device; integers become float64, as check_array makes them."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D tensor for {input_name}, got {X.ndim}D of shape {tuple(X.shape)}.")
    if X.is_complex() or X.dtype == torch.bool:
        raise ValueError(f"{input_name} has dtype {X.dtype}; real numbers are required.")
    if not X.is_floating_point():
        X = X.to(torch.float64)
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"Input {input_name} contains NaN or infinity.")
    return X


def output_like(A, shape, dtype):
    """An uninitialised output for rows mapped from ``A``: a numpy array of ``dtype``, or,
    for a torch tensor ``A``, a tensor of that dtype on ``A``'s device."""
    if isinstance(A, torch.Tensor):
        return torch.empty(shape, dtype=getattr(torch, np.dtype(dtype).name), device=A.device)
    return np.empty(shape, dtype=dtype)


def as_output_of(out, result):
    """``result`` (a tensor or a numpy array) where it can be written into ``out``."""
    if isinstance(out, torch.Tensor):
        return torch.as_tensor(result, device=out.device)
    return result.cpu().numpy() if isinstance(result, torch.Tensor) else result


# ------------------------------------------------------------ estimators
def is_fitted_attribute_name(name):
    """Whether ``name`` names a fitted attribute: public, ending in an underscore."""
    return name.isidentifier() and name.endswith("_") and not name.startswith("_")


def _in_namespace_of_X(method):
    """``method(self, X, ...)`` answering in ``X``'s namespace and on its device under
    scikit-learn's ``array_api_dispatch``, as scikit-learn's own estimators do.

    A torch tensor goes to an estimator that infers on tensors (``_infers_on_tensors``)
    as it is, kept on its device; otherwise X and the other array arguments (``y`` of
    ``score``) go to the host as NumPy, the method runs with the flag off, and its answer
    is moved back.
    """

    @functools.wraps(method)
    def answer(self, X, *args, **kwargs):
        if not get_config()["array_api_dispatch"] or _ANSWERING.get():
            return method(self, X, *args, **kwargs)
        self._check_namespace_of(X, method.__name__)
        namespace = array_namespace(X)
        token = _ANSWERING.set(True)
        try:
            if namespace is None or (self._infers_on_tensors and isinstance(X, torch.Tensor)):
                result = method(self, X, *args, **kwargs)
            else:
                args = [to_host(a) for a in args]
                kwargs = {key: to_host(value) for key, value in kwargs.items()}
                with config_context(array_api_dispatch=False):
                    result = method(self, to_host(X), *args, **kwargs)
        finally:
            _ANSWERING.reset(token)
        return result if namespace is None else to_namespace(result, *namespace)

    answer.answers_in_namespace_of_X = True
    return answer


class ArrayAPIMixin:
    """An estimator's side of the array API: its fits go through :meth:`_host_fit`, its
    inference methods are wrapped as its class is defined, and its tags declare
    ``array_api_support`` (see the module's docstring for what this guarantees)."""

    # whether inference runs on a torch tensor where it lies (see _in_namespace_of_X)
    _infers_on_tensors = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a member's inference methods, its own and those of scikit-learn's mixins (a
        # classifier's score), answer in X's namespace without knowing of it
        for name in _INFERENCE_METHODS:
            method = getattr(cls, name, None)
            if inspect.isfunction(method) and not hasattr(method, "answers_in_namespace_of_X"):
                setattr(cls, name, _in_namespace_of_X(method))

    def _check_namespace_of(self, X, method):
        """Under ``array_api_dispatch``, an estimator fitted on arrays of another namespace
        than NumPy's (whose fitted arrays are in that namespace) refuses X of another
        namespace or device, as scikit-learn's estimators do; one holding NumPy arrays
        (fitted on NumPy, or loaded) serves every namespace."""
        fitted = getattr(self, "loss_curve_", None)  # an array every fit sets
        if fitted is not None and not isinstance(fitted, np.ndarray):
            check_same_namespace(X, self, attribute="loss_curve_", method=method)

    @contextmanager
    def _host_fit(self, X, y=None):
        """The context of every fit: it computes with NumPy on the host (``X``, ``y`` and,
        for a warm start, the fitted arrays brought there; ``array_api_dispatch`` off
        inside). Afterwards the fitted arrays are in X's namespace and on its device, as
        scikit-learn's estimators leave them: NumPy, unless X came in another namespace
        under the flag. Yields ``(X, y)`` on the host."""
        namespace = array_namespace(X)
        with config_context(array_api_dispatch=False):
            self._convert_fitted_arrays(to_host)
            yield to_host(X), to_host(y)
        self._convert_fitted_arrays(
            to_host if namespace is None else lambda a: to_namespace(to_host(a), *namespace))

    def _convert_fitted_arrays(self, convert):
        """The one place fitted arrays change namespace: ``convert`` applied to each
        numeric fitted array, and to those of a fitted estimator inside (``autoencoder_``,
        converted as a copy). Labels (``classes_``) stay NumPy: they may be strings."""
        for name, value in list(vars(self).items()):
            if not is_fitted_attribute_name(name) or name == "classes_":
                continue
            if isinstance(value, ArrayAPIMixin):
                setattr(self, name, value.__sklearn_array_api_convert__(convert))
            elif is_numeric_array(value):
                setattr(self, name, convert(value))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # torch tensors and other array API arrays in, answers and fitted arrays in their
        # namespace and on their device (_in_namespace_of_X, _host_fit)
        tags.array_api_support = True
        return tags

    def __sklearn_array_api_convert__(self, converter):
        # scikit-learn's move_estimator_to: a copy whose fitted arrays ``converter`` moved;
        # the network (shared with this estimator) stays on device_
        moved = type(self).__new__(type(self))
        vars(moved).update(vars(self))
        moved._convert_fitted_arrays(converter)
        return moved
