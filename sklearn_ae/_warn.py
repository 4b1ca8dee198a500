"""Warnings that point at the user's line, however deep in the package they arise."""

import sys
import warnings

# a warning skips the frames of these packages: fit is reached through scikit-learn's
# wrappers (and Pipeline, GridSearchCV), training through skorch's loop
_INTERNAL = frozenset({"sklearn_ae", "sklearn", "skorch", "joblib"})


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the first caller outside :data:`_INTERNAL`."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in _INTERNAL:
        frame, level = frame.f_back, level + 1
    # stacklevel=1 is this function's own line, 2 its caller (level 1), and so on
    warnings.warn(message, category, stacklevel=level + 1)
