"""Metrics of the benchmark suite: pure functions of arrays, plus a peak-memory meter.

Every quality metric is computed on the held-out (test) split. The ones the CLI reports too
(reconstruction MSE, kNN accuracy of the codes) are in :mod:`sklearn_ae.evaluation`; here
are the benchmark-only ones:

* :func:`trustworthiness`: scikit-learn's trustworthiness of the codes (k = 5 neighbours),
  on at most ``max_rows`` test rows;
* :func:`logistic_probe_accuracy`: a linear probe (standardised codes, logistic regression)
  fitted on the training codes and scored on the test codes;
* :func:`per_10k_rows`: a transform time scaled to 10 000 rows;
* :func:`mmd2`: the squared maximum mean discrepancy between two samples (a generative
  model's samples against held-out data).

:class:`PeakMemory` measures the peak resident set size (RSS) of the process during a block.
On Linux it resets the kernel's high-water mark (``echo 5 > /proc/self/clear_refs``) and
reads ``VmHWM`` from ``/proc/self/status`` afterwards, so every allocation is seen: numpy,
torch's CPU allocator, BLAS/OpenMP buffers, whatever the block touched. ``tracemalloc``
would miss torch's allocations entirely. Where ``clear_refs`` is not available it falls
back to ``tracemalloc`` (Python/numpy allocations only) and says so in ``method``.
"""

import tracemalloc

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness as _sk_trustworthiness
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def subsample_rows(n_rows, max_rows, seed=0):
    """Sorted indices of at most ``max_rows`` of ``n_rows`` rows, fixed by ``seed``."""
    if max_rows is None or n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(np.random.RandomState(seed).choice(n_rows, max_rows, replace=False))


def trustworthiness(X, Z, n_neighbors=5, max_rows=None, seed=0):
    """Trustworthiness of the embedding ``Z`` of ``X`` (1 = neighbourhoods preserved).

    A wrapper around :func:`sklearn.manifold.trustworthiness` (Euclidean metric) that
    evaluates at most ``max_rows`` rows, a fixed random subset, because the exact measure
    needs all pairwise distances.
    """
    X = np.asarray(X, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    idx = subsample_rows(len(X), max_rows, seed)
    return float(_sk_trustworthiness(X[idx], Z[idx], n_neighbors=n_neighbors))


def logistic_probe_accuracy(Z_train, y_train, Z_test, y_test, max_iter=1000):
    """Test accuracy of a linear probe: standardised codes, logistic regression (C=1)."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test))


def mmd2(A, B):
    """Squared maximum mean discrepancy between the rows of ``A`` and of ``B``.

    Gaussian kernel ``exp(-d2 / h)`` with ``h`` the median squared distance between
    distinct pooled rows (the median heuristic); the biased (V-statistic) estimate, 0 for
    identical samples and at most 2. Lower means the two samples are harder to tell apart.
    """
    d2 = euclidean_distances(np.concatenate([A, B]).astype(np.float64), squared=True)
    kernel = np.exp(-d2 / np.median(d2[d2 > 0]))
    n = len(A)
    return float(kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean())


def per_10k_rows(seconds, n_rows):
    """A time measured on ``n_rows`` rows, scaled linearly to 10 000 rows."""
    if n_rows <= 0:
        raise ValueError(f"n_rows must be positive; got {n_rows}")
    return seconds * 10_000 / n_rows


def _status_kib(key):
    with open(_STATUS) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _can_reset_hwm():
    try:
        with open(_CLEAR_REFS, "w") as f:
            f.write("5")
        _status_kib("VmHWM")
        return True
    except (OSError, KeyError, ValueError):
        return False


def _malloc_trim():
    # hand memory that glibc keeps from earlier work back to the OS, so the block's own
    # allocations show up as growth instead of silently reusing it
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Context manager: peak memory above the starting point during the block, in MiB.

    ``peak_mib`` is (peak RSS during the block) - (RSS when it started), ``method`` is
    ``"rss_hwm"`` (Linux, every allocation) or ``"tracemalloc"`` (Python/numpy only). Memory
    that the allocator kept from earlier work and reuses is not counted again, so the
    number is the growth of the process, a lower bound of what the block allocated.
    """

    def __init__(self, force_tracemalloc=False):
        self.force_tracemalloc = force_tracemalloc
        self.peak_mib = None
        self.method = None

    def __enter__(self):
        if not self.force_tracemalloc and _can_reset_hwm():
            self.method = "rss_hwm"
            _malloc_trim()
            _can_reset_hwm()
            self._start = _status_kib("VmRSS")
        else:
            self.method = "tracemalloc"
            self._was_tracing = tracemalloc.is_tracing()
            if not self._was_tracing:
                tracemalloc.start()
            tracemalloc.reset_peak()
            self._start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        if self.method == "rss_hwm":
            self.peak_mib = max(_status_kib("VmHWM") - self._start, 0) / 1024
        else:
            peak = tracemalloc.get_traced_memory()[1]
            if not self._was_tracing:
                tracemalloc.stop()
            self.peak_mib = max(peak - self._start, 0) / 2**20
        return False

