"""Class labels of semi-supervised fits: -1 marks an unlabeled row, as in
:mod:`sklearn.semi_supervised`. One check for every member that takes such labels
(:class:`~sklearn_ae.AutoencoderClassifier`, the supervised
:class:`~sklearn_ae.NeighborEmbeddingAutoencoder`)."""

import numpy as np
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import type_of_target

from ._array_api import to_host


def _unlabeled_marks(y):
    """Rows of the labels marked unlabeled (-1); strings are never -1."""
    return np.asarray(y == -1, dtype=bool) if y.dtype.kind in "biufO" else np.zeros(len(y), bool)


def _holds_string_minus_one(y):
    """Whether ``y`` holds the string '-1' (in a ``<U`` array, or in an object array as
    pandas' string and object columns give): a class, which must not pass for the mark."""
    if y.dtype.kind == "U":
        return bool(np.any(y == "-1"))
    return y.dtype == object and any(isinstance(v, str) and v == "-1" for v in y)


def _check_label_kinds(labels):
    """ValueError naming an example of each if ``labels`` mixes strings and numbers."""
    if labels.dtype != object:
        return
    is_str = np.array([isinstance(v, str) for v in labels])
    if is_str.any() and not is_str.all():
        raise ValueError(
            "y mixes label types: strings (e.g. "
            f"{labels[is_str][0]!r}) and non-strings (e.g. {labels[~is_str][0]!r}). Use one "
            "type for the classes; -1, the unlabeled mark, may join strings in an object "
            "array."
        )


def encode_class_labels(y, owner):
    """``y``'s classes and each row's index among them, -1 for the rows marked -1 (the
    integer -1; in an object array it may join string classes): the labels of a
    semi-supervised fit, checked (one kind of label, class labels, no NaN, no string '-1';
    ``owner`` names the estimator in the errors). No class when every row is unlabeled."""
    y = column_or_1d(
        check_array(to_host(y), ensure_2d=False, dtype=None, ensure_all_finite=False,
                    input_name="y"),
        warn=True,
    )
    nan = np.flatnonzero(y != y)
    if len(nan):
        raise ValueError(
            f"y contains NaN (rows {nan[:5].tolist()}{', ...' if len(nan) > 5 else ''}); "
            f"{owner} marks unlabeled rows with -1."
        )
    if _holds_string_minus_one(y):
        raise ValueError(
            "y is an array of strings holding '-1', which is a class here, not the mark of "
            "unlabeled rows: use an object array with the integer -1 for those."
        )
    unlabeled = _unlabeled_marks(y)
    labels = y[~unlabeled]
    codes = np.full(len(y), -1, dtype=np.int64)
    if not len(labels):
        return labels[:0], codes
    _check_label_kinds(labels)
    kind = type_of_target(labels)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"Unknown label type: {kind!r}. {owner} needs class labels in y.")
    classes, codes[~unlabeled] = np.unique(labels, return_inverse=True)
    return classes, codes
