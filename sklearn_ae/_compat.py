"""Every private scikit-learn import of the package lives here.

scikit-learn does not promise stability for these names; keeping them in one
module means an upgrade that moves them breaks exactly one file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
)

__all__ = ["HasMethods", "Interval", "InvalidParameterError", "StrOptions", "_fit_context"]
