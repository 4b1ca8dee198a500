"""Every private scikit-learn import of the package lives here, and the numbers checks
built on them.

scikit-learn does not promise stability for these names; keeping them in one
module means an upgrade that moves them breaks exactly one file.
"""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._array_api import _convert_to_numpy as convert_to_numpy
from sklearn.utils._array_api import get_namespace_and_device
from sklearn.utils._param_validation import HasMethods, InvalidParameterError, StrOptions
from sklearn.utils._param_validation import Interval as _Interval
from sklearn.utils._set_output import _get_output_config

try:
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # scikit-learn < 1.9, whose estimators do not check this either

    def check_same_namespace(X, estimator, *, attribute, method):
        """Nothing to check before scikit-learn 1.9."""


__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_fit_context",
    "check_positive_int",
    "check_same_namespace",
    "convert_to_numpy",
    "get_namespace_and_device",
    "is_int",
    "output_container",
]


def is_int(value):
    """Whether ``value`` is an integer, a bool not counting as one (``True`` is not a
    size)."""
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_positive_int(value, name):
    """``value`` as an int; ValueError naming ``name`` unless it is a positive integer."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


class Interval(_Interval):
    """scikit-learn's ``Interval`` that refuses bools: ``n_components=True`` or
    ``lr=True`` are mistakes, not 1."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def output_container(method, estimator):
    """The container ``set_output`` asks ``method`` to return: "default", "pandas"..."""
    return _get_output_config(method, estimator)["dense"]
