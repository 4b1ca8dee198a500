"""Dask arrays in and out, without importing Dask: recognising them, checking what can be
streamed, reading them block by block for a fit, and inference that stays lazy.

Nothing here imports Dask: a Dask collection can only reach the estimator from a process that
has imported it already, so the package needs Dask (the ``distributed`` extra) only where
its user does.
"""

import math
import sys

import numpy as np

from ._data import BlockRows

def is_dask_collection(X):
    """Whether ``X`` is a Dask collection (an array, a DataFrame, a bag...)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(X)


def check_dask_array(X, *, known_rows=True):
    """``X`` as a 2-D numeric Dask array with one chunk along the features (rechunked if
    it has several: the network needs whole rows).

    TypeError for a collection other than an array (a Dask DataFrame...) and for dtypes
    the networks cannot take; ValueError for another number of dimensions, unknown chunk
    sizes along the features, or, with ``known_rows``, along the rows (a fit needs them to
    plan its passes; lazy inference does not).
    """
    dask_array = sys.modules.get("dask.array")
    if dask_array is None or not isinstance(X, dask_array.Array):
        raise TypeError(
            f"X is a Dask {type(X).__name__}, but only Dask arrays are accepted: convert a "
            "Dask DataFrame with X.to_dask_array(lengths=True) (lengths=True makes its "
            "chunk sizes known)."
        )
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array; got {X.ndim} dimension(s), shape {X.shape}.")
    if X.dtype.kind not in "iuf":
        raise TypeError(
            f"X is a Dask array of dtype {X.dtype}; a numeric (integer or floating point) "
            "dtype is required."
        )
    unknown = [axis for axis in (0, 1) if any(math.isnan(c) for c in X.chunks[axis])]
    if 1 in unknown or (known_rows and 0 in unknown):
        raise ValueError(
            f"X is a Dask array with unknown chunk sizes (NaN) along the "
            f"{'rows' if unknown[0] == 0 else 'features'}: call X.compute_chunk_sizes() "
            "first (or build it with known lengths, e.g. "
            "dataframe.to_dask_array(lengths=True))."
        )
    return X if len(X.chunks[1]) == 1 else X.rechunk({1: -1})


def block_rows(X):
    """A checked Dask array as :class:`~sklearn_ae._data.BlockRows`: what a fit reads."""
    return BlockRows(X, np.cumsum((0,) + X.chunks[0]))


def map_row_blocks(X, fn, row_shape, dtype):
    """``fn`` applied to each block of rows of the Dask array ``X``, lazily: a Dask array
    with ``X``'s row chunks and rows of shape ``row_shape`` (``()``: one value per row)."""
    meta = np.empty((0,) * (1 + len(row_shape)), dtype=dtype)
    if row_shape:
        return X.map_blocks(fn, dtype=dtype, chunks=(X.chunks[0], row_shape), meta=meta)
    return X.map_blocks(fn, dtype=dtype, drop_axis=1, chunks=(X.chunks[0],), meta=meta)
