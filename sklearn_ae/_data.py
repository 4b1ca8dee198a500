"""Data plumbing of a fit: column statistics, chunked scaling, the tensors a net trains on
(in memory, streamed from a memmap batch by batch, or from a Dask array block by block), its
minibatches (shared among the processes of data-parallel training) and the validation
split. Nothing here knows about estimators or networks."""

import mmap

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.decomposition import PCA

from ._array_api import to_host

# float64 work space per chunk of rows (column statistics, scaling): small enough to stay
# in cache and spare page faults, large enough to amortise the per-chunk calls
STATS_CHUNK_BYTES = 2 * 2**20

# a memmap is not loaded whole: its PCA start comes from this many random rows
STREAMING_START_ROWS = 20_000

# a sparse matrix is densified one batch at a time; at inference (where batches are large)
# a batch is cut to stay within this many bytes of float64 rows
SPARSE_BATCH_BYTES = 64 * 2**20

# the PCA start of sparse rows of up to this many features comes from their covariance
# matrix (exact, any number of components, fractions included); wider, from ARPACK
SPARSE_EIGH_FEATURES = 4096


class TensorData:
    """Inputs and targets kept as whole tensors (on the training device).

    skorch treats any object with ``__len__`` and ``__getitem__`` as a dataset; our
    iterator slices contiguous blocks instead of gathering sample by sample.
    """

    def __init__(self, X, y):
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, idx):
        return self.X[idx], self.y[idx]

    def start_rows(self, seed):
        """The scaled rows a PCA start is computed from: all of them, on the host."""
        return self.X.cpu().numpy()

    def batches(self, batch_size, shuffle, generator=None, shard=None):
        """Minibatches: contiguous slices of the rows, after one gather per epoch if
        shuffled (see :func:`batch_plan`)."""
        X, y = self.X, self.y
        perm = torch.randperm(len(X), generator=generator) if shuffle else None
        order, sizes = batch_plan(len(X), batch_size, perm, shard)
        if order is not None:
            order = torch.as_tensor(order).to(X.device)
            # autoencoders usually train towards their own input: gather it only once
            X, y = (X[order], None) if y is X else (X[order], y[order])
            y = X if y is None else y
        yield from zip(torch.split(X, sizes), torch.split(y, sizes))


class ArrayData:
    """Rows of a numpy array (a memmap, typically) read, scaled and moved to the device one
    batch at a time, so the array is never copied whole.

    Parameters
    ----------
    array : ndarray of shape (n_samples, n_features)
    scale : callable
        Maps raw rows to the network's float32 inputs.
    indices : ndarray of int or None
        The rows this dataset covers (None: all).
    device : str
    raw_targets : bool
        Targets are the raw rows as float32 (``loss="bce"``) instead of the inputs.
    labels : ndarray of shape (n_samples, ...) or None
        Targets are these rows' labels (a supervised fit) instead.
    """

    def __init__(self, array, scale, indices=None, device="cpu", raw_targets=False,
                 labels=None):
        self.array = array
        self.scale = scale
        self.indices = np.arange(array.shape[0]) if indices is None else np.asarray(indices)
        self.device = device
        self.raw_targets = raw_targets
        self.labels = labels

    def __len__(self):
        return len(self.indices)

    def subset(self, positions):
        return type(self)(self.array, self.scale, self.indices[positions], self.device,
                          self.raw_targets, self.labels)

    def rows(self, positions):
        """Inputs and targets of the rows at ``positions`` (into this dataset) as tensors."""
        # sorted reads are sequential in the file; the order within a batch does not
        # matter to a mean loss
        rows = np.sort(self.indices[positions])
        return self._tensors(dense(self.array[rows]), rows)

    def _tensors(self, raw, rows=None):
        """Inputs and targets of the raw rows ``raw`` (row numbers ``rows``) as tensors on
        the device."""
        inputs = torch.as_tensor(self.scale(raw), device=self.device)
        if self.labels is not None:
            return inputs, torch.as_tensor(self.labels[rows], device=self.device)
        if self.raw_targets:
            return inputs, torch.as_tensor(raw, dtype=torch.float32, device=self.device)
        return inputs, inputs

    def batches(self, batch_size, shuffle, generator=None, shard=None):
        """Minibatches read row by row (see :func:`batch_plan`)."""
        n = len(self)
        perm = torch.randperm(n, generator=generator).numpy() if shuffle else None
        order, sizes = batch_plan(n, batch_size, perm, shard)
        order = np.arange(n) if order is None else order
        for start, size in zip(np.cumsum([0] + sizes[:-1]), sizes):
            yield self.rows(order[start:start + size])

    def start_rows(self, seed):
        """The scaled rows a PCA start is computed from: a random sample of
        ``STREAMING_START_ROWS`` (all rows of smaller arrays)."""
        return self.scale(sample_rows(self.array, STREAMING_START_ROWS, seed))

    def load(self):
        """All rows as an in-memory :class:`TensorData`."""
        return TensorData(*self.rows(np.arange(len(self))))

    def for_validation(self):
        """The rows as they are scored every epoch: loaded, read once."""
        return self.load()


class SparseData(ArrayData):
    """An :class:`ArrayData` over a CSR matrix: each batch is densified on its own, never
    the whole matrix. The PCA start sees its sampled rows sparse and uncentred, divided by
    the global scale: scikit-learn's PCA centres sparse data implicitly."""

    def start_rows(self, seed):
        rows = sample_rows(self.array, STREAMING_START_ROWS, seed)
        return rows.astype(np.float64) / self.scale.scale

    def for_validation(self):
        """Itself: the rows are in memory already, and dense they may not fit (the
        validation rows of 200,000 x 50,000 would take 4 GB), so they stay sparse and are
        densified a batch at a time whenever they are scored."""
        return self


class BlockData(ArrayData):
    """An :class:`ArrayData` over :class:`BlockRows` (a Dask array): read one block of rows
    at a time, never row by row.

    Rows picked at random from all over a Dask array would compute every block for every
    batch, so the shuffle is two-level: the blocks in a random order, the rows within each
    block shuffled, and batches cut from that stream across block boundaries (so an epoch
    has as many batches as a full shuffle would). Its ``indices`` must be sorted.
    """

    def batches(self, batch_size, shuffle, generator=None, shard=None):
        pending = None  # raw rows left over from the last block, fewer than batch_size
        for block, local in self._blocks(shuffle, generator):
            start = 0
            if pending is not None:
                start = batch_size - len(pending)
                pending = np.concatenate([pending, block[local[:start]]])
                if len(pending) < batch_size:
                    continue
                yield from self._own_part(pending, shard)
                pending = None
            stop = start + (len(local) - start) // batch_size * batch_size
            for first in range(start, stop, batch_size):
                # gathered batch by batch: the block itself is never copied
                yield from self._own_part(block[local[first:first + batch_size]], shard)
            if stop < len(local):
                pending = block[local[stop:]]
        if pending is not None:
            yield from self._own_part(pending, shard)

    def _blocks(self, shuffle, generator):
        """Each block's rows and the positions in it of this dataset's rows, blocks and
        positions shuffled if asked."""
        bounds = self.array.bounds
        n_blocks = len(bounds) - 1
        blocks = range(n_blocks)
        if shuffle:
            blocks = torch.randperm(n_blocks, generator=generator).numpy()
        for b in blocks:
            first, last = np.searchsorted(self.indices, bounds[b:b + 2])
            local = self.indices[first:last] - bounds[b]
            if shuffle:
                local = local[torch.randperm(len(local), generator=generator).numpy()]
            if len(local):
                yield self.array.block(b), local

    def _own_part(self, batch, shard):
        part = shard_bounds(len(batch), shard)
        if part is not None:
            yield self._tensors(batch[part[0]:part[1]])


class BlockRows:
    """A 2-D array read one block of rows at a time: a Dask array, whose blocks are
    computed on demand, never the whole array.

    Slicing and indexing return numpy arrays and compute each block they touch once, keeping
    the last one, so reading the rows in order (the column statistics, the closing pass)
    computes every block once. Every block is checked for NaN and infinity as it arrives.

    Parameters
    ----------
    array : object
        Sliceable along its first axis (``array[lo:hi]`` is turned into numpy).
    bounds : sequence of int
        The first row of each block, then the number of rows.
    """

    ndim = 2

    def __init__(self, array, bounds):
        self.array = array
        self.bounds = np.asarray(bounds, dtype=np.int64)
        self.shape = (int(self.bounds[-1]), int(array.shape[1]))
        self.dtype = array.dtype
        self._last = (None, None)

    def __len__(self):
        return self.shape[0]

    def block(self, b):
        """The rows of block ``b`` as a numpy array."""
        if self._last[0] != b:
            lo, hi = self.bounds[b], self.bounds[b + 1]
            rows = np.asarray(self.array[lo:hi])
            if not np.all(np.isfinite(rows)):
                raise ValueError(f"X contains NaN or infinity in rows {lo} to {hi - 1}.")
            self._last = (b, rows)
        return self._last[1]

    def __getitem__(self, key):
        rows = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        which = np.searchsorted(self.bounds, rows, side="right") - 1
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        for b in np.unique(which):
            mine = which == b
            out[mine] = self.block(b)[rows[mine] - self.bounds[b]]
        return out

    def __array__(self, dtype=None, copy=None):
        return self[:] if dtype is None else self[:].astype(dtype)


def shard_bounds(size, shard):
    """This process's rows ``[lo, hi)`` of a batch of ``size`` rows shared among the
    processes of ``shard = (rank, world_size)`` in near-equal parts (None: all of them).

    None when the batch is too small to give every process a row: every process then
    skips it, so they all take the same number of steps.
    """
    if shard is None:
        return 0, size
    rank, world_size = shard
    if size < world_size:
        return None
    return size * rank // world_size, size * (rank + 1) // world_size


def batch_plan(n, batch_size, order=None, shard=None):
    """The rows one process trains on in an epoch, in order, and its batch sizes.

    ``order`` is the epoch's permutation of the ``n`` rows (None: their natural order);
    every batch of ``batch_size`` rows in it is shared among the processes of ``shard``
    (see :func:`shard_bounds`). Returns ``(rows, sizes)``, ``rows`` None for all rows in
    their natural order.
    """
    starts = range(0, n, batch_size)
    if shard is None:
        return order, [min(batch_size, n - start) for start in starts]
    order = np.arange(n) if order is None else np.asarray(order)
    parts = [
        order[start + part[0]:start + part[1]]
        for start in starts
        if (part := shard_bounds(min(batch_size, n - start), shard)) is not None
    ]
    rows = np.concatenate(parts) if parts else order[:0]
    return rows, [len(part) for part in parts]


class TensorBatches:
    """Re-iterable minibatches of a :class:`TensorData`, :class:`ArrayData` or
    :class:`BlockData`, each giving its own ``batches``.

    skorch builds the iterator once per ``fit`` and loops over it every epoch, so the
    permutation is drawn in ``__iter__``, giving a fresh shuffle per epoch, from
    ``generator`` (the fit's own; torch's global RNG if None). ``shard``: ``(rank,
    world_size)`` of data-parallel training, where every process draws the same
    permutation and trains on its part of each batch.
    """

    def __init__(self, data, batch_size, shuffle, generator=None, shard=None):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.shard = shard

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        return iter(self.data.batches(self.batch_size, self.shuffle, self.generator, self.shard))


class IndexSplit:
    """A skorch ``train_split`` of an :class:`ArrayData` that holds out fixed row indices:
    the training rows stay on disk, the validation rows are read once (they are scored
    every epoch). In-memory data use :class:`TailSplit`.

    A fit asks for the split three times (skorch's loop, early stopping's score of the
    start, the closing explained-variance pass); the dataset keeps its split, so the
    validation rows are read once per fit, not once per call (for a Dask array, each read
    is a pass over the blocks). The split lives with the dataset, not here: the fitted net
    keeps its ``train_split``, and pickles must not carry the validation rows.
    """

    def __init__(self, valid_idx):
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None):
        kept = getattr(dataset, "split_", None)
        if kept is None or kept[0] is not self:
            mask = np.ones(len(dataset), dtype=bool)
            mask[self.valid_idx] = False
            parts = (dataset.subset(np.flatnonzero(mask)),
                     dataset.subset(self.valid_idx).for_validation())
            dataset.split_ = kept = (self, parts)
        return kept[1]


class TailSplit:
    """A skorch ``train_split`` that holds out the last ``len(valid_idx)`` rows, as views.

    The estimator puts the validation rows (``valid_idx``, row numbers in the caller's
    ``X``) last when it builds the training tensor, so neither part is copied.
    """

    def __init__(self, valid_idx):
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None):
        n_train = len(dataset) - len(self.valid_idx)
        return (
            TensorData(dataset.X[:n_train], dataset.y[:n_train]),
            TensorData(dataset.X[n_train:], dataset.y[n_train:]),
        )


def _chunks(X):
    """``X`` as float64 row chunks of about ``STATS_CHUNK_BYTES``: a memmap is read, not
    copied."""
    step = max(1, STATS_CHUNK_BYTES // (8 * max(1, X.shape[1])))
    for start in range(0, X.shape[0], step):
        yield np.asarray(X[start:start + step], dtype=np.float64)


def value_range(X):
    """Smallest and largest value of ``X``, read chunk by chunk (a sparse matrix's implicit
    zeros count)."""
    if sp.issparse(X) or isinstance(X, torch.Tensor):
        return float(X.min()), float(X.max())
    lo, hi = np.inf, -np.inf
    for chunk in _chunks(X):
        lo, hi = min(lo, chunk.min()), max(hi, chunk.max())
    return float(lo), float(hi)


# the dtypes the estimators accept as they are; anything else (lists, integers, objects
# with __array__) converts to the first, float64, as scikit-learn's PCA does: the column
# statistics and the PCA start then see the values as given (converted to float32, a list
# gave a slightly different start than the same values in a float64 array)
INPUT_DTYPES = [np.float64, np.float32]


def column_stats(X):
    """Minimum, maximum, per-column mean and global RMS around it, in float64.

    Two passes over row chunks. The squares are taken of deviations divided by the data's
    range, so they neither overflow for values near the float64 limit nor underflow for
    values near zero (1e-170), and the RMS is exact to float64 precision at any scale.
    A sparse matrix is never densified (:func:`_sparse_column_stats`).
    """
    if sp.issparse(X):
        return _sparse_column_stats(X)
    n, n_features = X.shape
    total = np.zeros(n_features)
    lo, hi = np.inf, -np.inf
    for chunk in _chunks(X):
        total += chunk.sum(axis=0)
        lo, hi = min(lo, chunk.min()), max(hi, chunk.max())
    mean = total / n
    spread = hi - lo
    if not spread > 0 or not np.isfinite(spread):
        return float(lo), float(hi), mean, 0.0 if spread == 0 else float(spread)
    squares = sum(float(np.sum(np.square((chunk - mean) / spread))) for chunk in _chunks(X))
    return float(lo), float(hi), mean, float(spread * np.sqrt(squares / (n * n_features)))


def _sparse_column_stats(X):
    """:func:`column_stats` of a sparse matrix from its stored values: the squared
    deviations around the mean are the squares minus the mean's share, each divided by the
    range squared as in the dense case."""
    n, n_features = X.shape
    lo, hi = value_range(X)
    mean = np.asarray(X.sum(axis=0, dtype=np.float64)).ravel() / n
    spread = hi - lo
    if not spread > 0 or not np.isfinite(spread):
        return lo, hi, mean, 0.0 if spread == 0 else float(spread)
    Y = X.astype(np.float64) / spread
    squares = float(Y.multiply(Y).sum()) - n * float(np.sum(np.square(mean / spread)))
    return lo, hi, mean, float(spread * np.sqrt(max(squares, 0.0) / (n * n_features)))


def column_mean_std(Y):
    """Per-column mean and standard deviation of the 2-d float64 ``Y``, without overflow
    for values near float64's limit (nor underflow near zero): each column is divided by
    its largest absolute value first, and the statistics are scaled back."""
    peak = np.max(np.abs(Y), axis=0)
    unit = np.where(peak > 0, peak, 1.0)
    Z = Y / unit
    return Z.mean(axis=0) * unit, Z.std(axis=0) * unit


def mean_std_from_sums(total, squares, n):
    """Per-column mean and standard deviation from the float64 column sums of ``n`` rows
    and of their squares; 1 for columns constant up to float32 rounding (relative spread
    below 1e-5), which whitening would otherwise blow up."""
    mean = total / n
    rms = np.sqrt(squares / n)
    std = np.sqrt(np.maximum(squares / n - np.square(mean), 0.0))
    return mean, np.where(std > 1e-5 * rms, std, 1.0)


def is_memmap(X):
    """Whether ``X`` (or an array it views) is backed by a memory-mapped file."""
    while X is not None:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


def sample_rows(X, n_rows, seed):
    """Up to ``n_rows`` random rows of ``X`` (in file order, read without a full copy; a
    sparse matrix's stay sparse)."""
    keep = (lambda rows: rows) if sp.issparse(X) else np.asarray
    if X.shape[0] <= n_rows:
        return keep(X)
    rows = np.sort(np.random.RandomState(seed).choice(X.shape[0], n_rows, replace=False))
    return keep(X[rows])


def dense(rows):
    """``rows`` as a numpy array: a sparse matrix's (one batch of it) densified."""
    return rows.toarray() if sp.issparse(rows) else np.asarray(rows)


def dense_batch_rows(data, batch_size):
    """``batch_size``, or fewer for sparse ``data`` (a matrix or a :class:`SparseData`),
    so that an inference batch densified in float64 stays within ``SPARSE_BATCH_BYTES``."""
    array = getattr(data, "array", data)
    if not sp.issparse(array):
        return batch_size
    return max(1, min(batch_size, SPARSE_BATCH_BYTES // (8 * array.shape[1])))


class Scaler:
    """Centre by ``mean`` and divide by one global ``scale``, into C-ordered float32.

    C order: pandas hands over Fortran-ordered arrays, and a strided tensor takes another
    matmul path whose last bits differ from the C-ordered one.
    """

    def __init__(self, mean, scale):
        self.mean = to_host(mean)  # fitted under array_api_dispatch, it may be a tensor
        self.scale = scale

    def __call__(self, X):
        X = dense(X)
        with np.errstate(over="ignore"):
            # values beyond float32 become inf here and are refused where they surface
            scaled = ((X - self.mean) / self.scale).astype(np.float32, copy=False)
        return np.ascontiguousarray(scaled)

    def rows(self, X, order=None, scale=True):
        """``self(X[order])`` (or the rows as float32, ``scale=False``) built chunk by
        chunk into one float32 array, without float64 temporaries of the whole data."""
        n = X.shape[0] if order is None else len(order)
        out = np.empty((n, X.shape[1]), dtype=np.float32)
        step = max(1, STATS_CHUNK_BYTES // (8 * max(1, X.shape[1])))
        for start in range(0, n, step):
            rows = X[start:start + step] if order is None else X[order[start:start + step]]
            out[start:start + len(rows)] = self(rows) if scale else rows
        return out


def is_fraction(n_components):
    """Whether a (validated) ``n_components`` asks for a fraction of the variance."""
    return 0 < n_components < 1


def start_pca(Xs, n_components):
    """PCA of the scaled start rows ``Xs``: ``n_components`` axes, or, for a fraction, the
    fewest that explain at least that fraction of their variance. Sparse rows are centred
    implicitly (by scikit-learn's PCA), never densified."""
    solver = "auto"
    if sp.issparse(Xs):
        solver = "covariance_eigh" if Xs.shape[1] <= SPARSE_EIGH_FEATURES else "arpack"
    if solver == "arpack":
        if is_fraction(n_components):
            raise ValueError(
                f"n_components={n_components} (a fraction of the variance) needs the whole "
                f"spectrum, which sparse X with {Xs.shape[1]} features (over "
                f"{SPARSE_EIGH_FEATURES}) does not give cheaply; pass an integer."
            )
        n_components = min(n_components, min(Xs.shape) - 1)  # ARPACK's limit
    with np.errstate(invalid="ignore", divide="ignore"):
        # constant data: PCA's explained_variance_ratio_ divides 0 by 0, harmlessly
        pca = PCA(n_components=n_components, svd_solver=solver, random_state=0).fit(Xs)
    pca.components_ = np.ascontiguousarray(pca.components_)  # ARPACK's are reversed views
    return pca


def validation_indices(n_samples, fraction, rng):
    """Sorted indices of ``ceil(fraction * n_samples)`` random rows, drawn with ``rng``."""
    n_valid = int(np.ceil(fraction * n_samples))
    if n_valid >= n_samples:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training data with "
            f"n_samples={n_samples}; lower it or set early_stopping=False."
        )
    return np.sort(rng.permutation(n_samples)[:n_valid])


def training_data(X, scaler, device, raw_targets, valid_idx=None, stream=True):
    """The dataset a net trains on and its ``train_split``.

    A memmap (with ``stream``) or a sparse matrix (always) is read, scaled and moved one
    batch at a time (:class:`ArrayData`, :class:`SparseData`, split by
    :class:`IndexSplit`), :class:`BlockRows` (a Dask array)
    one block at a time (:class:`BlockData`, always); other data become one float32 tensor
    on ``device``, with the validation rows placed last so that :class:`TailSplit` splits
    it into two views.
    ``raw_targets``: the targets are the unscaled rows (``loss="bce"``).
    """
    if isinstance(X, BlockRows) or sp.issparse(X) or (stream and is_memmap(X)):
        kind = (BlockData if isinstance(X, BlockRows)
                else SparseData if sp.issparse(X) else ArrayData)
        data = kind(X, scaler, device=device, raw_targets=raw_targets)
        return data, None if valid_idx is None else IndexSplit(valid_idx)
    order = None
    if valid_idx is not None:
        order = np.concatenate([np.delete(np.arange(X.shape[0]), valid_idx), valid_idx])
    Xs = scaler.rows(X, order)
    inputs = torch.as_tensor(Xs, device=device)
    targets = (
        torch.as_tensor(scaler.rows(X, order, scale=False), device=device)
        if raw_targets else inputs
    )
    return TensorData(inputs, targets), None if valid_idx is None else TailSplit(valid_idx)
