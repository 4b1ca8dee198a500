"""Data plumbing of a fit: column statistics, chunked scaling, the tensors a net trains on
(in memory, or streamed from a memmap batch by batch), its minibatches and the validation
split. Nothing here knows about estimators or networks."""

import mmap

import numpy as np
import torch

# float64 work space per chunk of rows (column statistics, scaling): small enough to stay
# in cache and spare page faults, large enough to amortise the per-chunk calls
STATS_CHUNK_BYTES = 2 * 2**20

# a memmap is not loaded whole: its PCA start comes from this many random rows
STREAMING_START_ROWS = 20_000


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
    """

    def __init__(self, array, scale, indices=None, device="cpu", raw_targets=False):
        self.array = array
        self.scale = scale
        self.indices = np.arange(len(array)) if indices is None else np.asarray(indices)
        self.device = device
        self.raw_targets = raw_targets

    def __len__(self):
        return len(self.indices)

    def subset(self, positions):
        return ArrayData(
            self.array, self.scale, self.indices[positions], self.device, self.raw_targets
        )

    def rows(self, positions):
        """Inputs and targets of the rows at ``positions`` (into this dataset) as tensors."""
        # sorted reads are sequential in the file; the order within a batch does not
        # matter to a mean loss
        raw = np.asarray(self.array[np.sort(self.indices[positions])])
        inputs = torch.as_tensor(self.scale(raw), device=self.device)
        if self.raw_targets:
            return inputs, torch.as_tensor(raw, dtype=torch.float32, device=self.device)
        return inputs, inputs

    def start_rows(self, seed):
        """The scaled rows a PCA start is computed from: a random sample of
        ``STREAMING_START_ROWS`` (all rows of smaller arrays)."""
        return self.scale(sample_rows(self.array, STREAMING_START_ROWS, seed))

    def load(self):
        """All rows as an in-memory :class:`TensorData`."""
        return TensorData(*self.rows(np.arange(len(self))))


class TensorBatches:
    """Re-iterable minibatches sliced from a :class:`TensorData`.

    skorch builds the iterator once per ``fit`` and loops over it every epoch, so the
    permutation is drawn in ``__iter__``, giving a fresh shuffle per epoch, from
    ``generator`` (the fit's own; torch's global RNG if None).
    """

    def __init__(self, data, batch_size, shuffle, generator=None):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        if isinstance(self.data, ArrayData):
            yield from self._array_batches()
            return
        X, y = self.data.X, self.data.y
        n = len(X)
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator).to(X.device)
            # autoencoders usually train towards their own input: gather it only once
            X, y = (X[perm], None) if y is X else (X[perm], y[perm])
            y = X if y is None else y
        for start in range(0, n, self.batch_size):
            yield X[start : start + self.batch_size], y[start : start + self.batch_size]

    def _array_batches(self):
        n = len(self.data)
        order = torch.randperm(n, generator=self.generator).numpy() if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            yield self.data.rows(order[start : start + self.batch_size])


class IndexSplit:
    """A skorch ``train_split`` of an :class:`ArrayData` that holds out fixed row indices:
    the training rows stay on disk, the validation rows are read once (they are scored
    every epoch). In-memory data use :class:`TailSplit`."""

    def __init__(self, valid_idx):
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None):
        mask = np.ones(len(dataset), dtype=bool)
        mask[self.valid_idx] = False
        return dataset.subset(np.flatnonzero(mask)), dataset.subset(self.valid_idx).load()


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
        yield np.asarray(X[start : start + step], dtype=np.float64)


def value_range(X):
    """Smallest and largest value of ``X``, read chunk by chunk."""
    lo, hi = np.inf, -np.inf
    for chunk in _chunks(X):
        lo, hi = min(lo, chunk.min()), max(hi, chunk.max())
    return float(lo), float(hi)


def column_stats(X):
    """Minimum, maximum, per-column mean and global RMS around it, in float64.

    Two passes over row chunks. The squares are taken of deviations divided by the data's
    range, so they neither overflow for values near the float64 limit nor underflow for
    values near zero (1e-170), and the RMS is exact to float64 precision at any scale.
    """
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


def is_memmap(X):
    """Whether ``X`` (or an array it views) is backed by a memory-mapped file."""
    while X is not None:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


def sample_rows(X, n_rows, seed):
    """Up to ``n_rows`` random rows of ``X`` (in file order, read without a full copy)."""
    if X.shape[0] <= n_rows:
        return np.asarray(X)
    rows = np.sort(np.random.RandomState(seed).choice(X.shape[0], n_rows, replace=False))
    return np.asarray(X[rows])


class Scaler:
    """Centre by ``mean`` and divide by one global ``scale``, into C-ordered float32.

    C order: pandas hands over Fortran-ordered arrays, and a strided tensor takes another
    matmul path whose last bits differ from the C-ordered one.
    """

    def __init__(self, mean, scale):
        self.mean = mean
        self.scale = scale

    def __call__(self, X):
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
            rows = X[start : start + step] if order is None else X[order[start : start + step]]
            out[start : start + len(rows)] = self(rows) if scale else rows
        return out


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

    A memmap (with ``stream``) is read, scaled and moved one batch at a time (:class:`ArrayData`, split by
    :class:`IndexSplit`); other data become one float32 tensor on ``device``, with the
    validation rows placed last so that :class:`TailSplit` splits it into two views.
    ``raw_targets``: the targets are the unscaled rows (``loss="bce"``).
    """
    if stream and is_memmap(X):
        data = ArrayData(X, scaler, device=device, raw_targets=raw_targets)
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
