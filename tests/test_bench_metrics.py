"""Unit tests of benchmarks/metrics.py on tiny inputs with known answers.

The metrics shared with the CLI (MSE, kNN accuracy) are tested in test_evaluation.py.
"""

from pathlib import Path

import numpy as np
import pytest

from benchmarks import metrics

LINUX_HWM = Path("/proc/self/clear_refs").exists()


def test_trustworthiness_of_a_similarity_transform_is_one():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 5)
    Q = np.linalg.qr(rng.randn(5, 5))[0]
    # rotation, scaling and shift keep every neighbourhood
    assert metrics.trustworthiness(X, 3.0 * X @ Q + 7.0, n_neighbors=5) == pytest.approx(1.0)


def test_trustworthiness_known_value_on_a_line():
    # points on a line with growing gaps (no ties that matter); the embedding moves point 0
    # beyond point 5, so 0 and 5 become each other's nearest neighbour (k=1).
    X = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0])[:, None]
    Z = np.array([16.0, 1.0, 3.0, 6.0, 10.0, 15.0])[:, None]
    # T = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in NN_k(Z, i)} max(rank_X(i, j) - k, 0)
    # i=0: NN_Z = 5, rank 5 in X -> 4; i=5: NN_Z = 0, rank 5 -> 4; i=1: NN_Z = 2, rank 2 -> 1;
    # i=2,3,4: their Z neighbour is their X nearest -> 0. Sum 9: T = 1 - 2 / 48 * 9 = 0.625
    assert metrics.trustworthiness(X, Z, n_neighbors=1) == pytest.approx(0.625)


def test_mmd2_known_value_and_order():
    # two single points at distance 1: median squared distance 1, so 1 + 1 - 2 exp(-1)
    assert metrics.mmd2(np.array([[0.0]]), np.array([[1.0]])) == pytest.approx(2 - 2 / np.e)
    rng = np.random.RandomState(0)
    X, Y = rng.randn(200, 3), rng.randn(200, 3)
    assert metrics.mmd2(X, X) == pytest.approx(0.0, abs=1e-12)
    # a second draw of the same distribution is closer than a shifted one
    assert metrics.mmd2(X, Y) < metrics.mmd2(X, Y + 1.0)


def test_trustworthiness_max_rows_uses_a_fixed_subset():
    rng = np.random.RandomState(0)
    X, Z = rng.randn(100, 4), rng.randn(100, 2)
    idx = metrics.subsample_rows(100, 30, seed=1)
    assert len(idx) == 30 and np.all(np.diff(idx) > 0)
    from sklearn.manifold import trustworthiness

    got = metrics.trustworthiness(X, Z, n_neighbors=5, max_rows=30, seed=1)
    assert got == pytest.approx(trustworthiness(X[idx], Z[idx], n_neighbors=5))
    assert got == metrics.trustworthiness(X, Z, n_neighbors=5, max_rows=30, seed=1)


def test_subsample_rows_keeps_everything_below_the_cap():
    np.testing.assert_array_equal(metrics.subsample_rows(5, 10), np.arange(5))
    np.testing.assert_array_equal(metrics.subsample_rows(5, None), np.arange(5))


def test_logistic_probe_accuracy_separable_and_shuffled():
    rng = np.random.RandomState(0)
    Z = np.r_[rng.randn(50, 2) - 4, rng.randn(50, 2) + 4]
    y = np.r_[np.zeros(50), np.ones(50)]
    assert metrics.logistic_probe_accuracy(Z[::2], y[::2], Z[1::2], y[1::2]) == 1.0
    # predicting the opposite labels of a perfect probe scores 0
    assert metrics.logistic_probe_accuracy(Z[::2], y[::2], Z[1::2], 1 - y[1::2]) == 0.0


def test_per_10k_rows():
    assert metrics.per_10k_rows(2.0, 2000) == pytest.approx(10.0)
    assert metrics.per_10k_rows(0.5, 10_000) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n_rows must be positive; got 0"):
        metrics.per_10k_rows(1.0, 0)


@pytest.mark.skipif(not LINUX_HWM, reason="needs /proc/self/clear_refs (Linux)")
def test_peak_memory_sees_torch_allocations_that_tracemalloc_misses():
    torch = pytest.importorskip("torch")
    n = 64 * 2**20 // 4  # 64 MiB of float32

    with metrics.PeakMemory() as rss:
        t = torch.ones(n)
        del t
    assert rss.method == "rss_hwm"
    assert 60 <= rss.peak_mib <= 200

    with metrics.PeakMemory(force_tracemalloc=True) as tm:
        t = torch.ones(n)
        del t
    assert tm.method == "tracemalloc"
    assert tm.peak_mib < 8


def test_peak_memory_counts_a_freed_numpy_array_both_ways():
    n = 64 * 2**20 // 8  # 64 MiB of float64
    for force in (False, True):
        with metrics.PeakMemory(force_tracemalloc=force) as mem:
            a = np.ones(n)
            del a
        assert 60 <= mem.peak_mib <= 200, (mem.method, mem.peak_mib)
    with metrics.PeakMemory() as idle:
        pass
    assert idle.peak_mib < 30
